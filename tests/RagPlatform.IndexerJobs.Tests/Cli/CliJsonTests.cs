using System.Text.Json;
using RagPlatform.Cli;
using RagPlatform.IndexerJobs.Tests.Harness;
using RagPlatform.Testing;

namespace RagPlatform.IndexerJobs.Tests.Cli;

/// <summary>Standard output is process-wide: commands that print run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "console";
}

/// <summary><c>rag jobs runs --json</c> and <c>rag freshness --json</c> run in-process on a data directory the job host wrote.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class CliJsonTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Jobs_runs_json_lists_the_runs_newest_first_with_trigger_times_counts_and_failures()
    {
        using var folder = new TempDirectory("folder");
        using var data = new TempDirectory("data");
        var a = folder.Write("a.md", "Toucans have large bills.");
        var broken = folder.Write("broken.json", "{ broken");
        await using (var host = await JobsTestHost.StartAsync(data.Path))
        {
            var source = await host.AddFolderAsync("docs", folder.Path);
            await host.SyncAsync(source, trigger: "schedule");
            Sources.FolderSourceTests.Rewrite(a, "Toucans eat fruit.");
            await host.SyncAsync(source, trigger: "manual");
        }

        var (exit, output) = await RunCliAsync("jobs", "runs", "--json", "--tenant", JobsTestHost.Tenant, "--data", data.Path);

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        var runs = json.RootElement.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(["manual", "schedule"], runs.Select(r => r.GetProperty("trigger").GetString()));
        Assert.All(runs, r =>
        {
            Assert.Equal("docs", r.GetProperty("source").GetString());
            Assert.Equal("succeeded", r.GetProperty("status").GetString());
            Assert.True(r.GetProperty("finished_at").GetDateTimeOffset() >= r.GetProperty("started_at").GetDateTimeOffset());
            Assert.Equal(1, r.GetProperty("failed").GetInt32());
            var failure = Assert.Single(r.GetProperty("failures").EnumerateArray());
            Assert.Equal((broken, "corrupt"), (failure.GetProperty("external_key").GetString(), failure.GetProperty("kind").GetString()));
        });
        Assert.True(runs[0].GetProperty("started_at").GetDateTimeOffset() >= runs[1].GetProperty("finished_at").GetDateTimeOffset());
        Assert.Equal((0, 1), (runs[0].GetProperty("added").GetInt32(), runs[0].GetProperty("updated").GetInt32()));
        Assert.Equal((1, 0), (runs[1].GetProperty("added").GetInt32(), runs[1].GetProperty("updated").GetInt32()));
    }

    [Fact]
    public async Task Freshness_json_has_exactly_the_documented_fields()
    {
        using var folder = new TempDirectory("folder");
        using var data = new TempDirectory("data");
        folder.Write("a.md", "Hornbills nest in trees.");
        DateTimeOffset finished;
        double lag;
        await using (var host = await JobsTestHost.StartAsync(data.Path))
        {
            var source = await host.AddFolderAsync("docs", folder.Path, schedule: "0 * * * *", objective: TimeSpan.FromMinutes(15));
            await host.SyncAsync(source);
            finished = (await host.Metadata.ListRunsAsync(source.Id, 1, Ct))[0].FinishedAt!.Value;
            var doc = Assert.Single(await host.Metadata.ListDocumentsAsync(source.Id, Ct));
            var changed = doc.ChangedAt is { } c && c > doc.CreatedAt ? c : doc.CreatedAt;
            lag = Math.Round((doc.IndexedAt!.Value - changed).TotalSeconds, 3);
        }

        var (exit, output) = await RunCliAsync("freshness", "--json", "--data", data.Path);

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(["sources"], json.RootElement.EnumerateObject().Select(p => p.Name));
        var s = Assert.Single(json.RootElement.GetProperty("sources").EnumerateArray());
        Assert.Equal("docs", s.GetProperty("name").GetString());
        Assert.Equal(JobsTestHost.Tenant, s.GetProperty("tenant").GetString());
        Assert.Equal(finished.ToUnixTimeMilliseconds(), s.GetProperty("last_success").GetDateTimeOffset().ToUnixTimeMilliseconds());
        Assert.Equal((0, 0), (s.GetProperty("pending").GetInt32(), s.GetProperty("failed").GetInt32()));
        Assert.Equal(900, s.GetProperty("objective_s").GetDouble());
        Assert.False(s.GetProperty("breached").GetBoolean());
        Assert.Equal(JsonValueKind.Null, s.GetProperty("breach_reason").ValueKind);
        Assert.Empty(s.GetProperty("stalest").EnumerateArray()); // only with --stalest N
        Assert.True(s.GetProperty("lag_max_s").GetDouble() >= s.GetProperty("lag_p95_s").GetDouble());
        Assert.True(s.GetProperty("lag_p95_s").GetDouble() >= s.GetProperty("lag_p50_s").GetDouble());

        // One document: each figure is its lag, from its change (never before it was first seen) to searchable.
        Assert.Equal((lag, lag, lag), (s.GetProperty("lag_p50_s").GetDouble(), s.GetProperty("lag_p95_s").GetDouble(), s.GetProperty("lag_max_s").GetDouble()));
        Assert.Equal(
            ["breach_reason", "breached", "failed", "lag_max_s", "lag_p50_s", "lag_p95_s", "last_success", "name", "objective_s", "pending", "stalest", "tenant"],
            s.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    private static async Task<(int Exit, string Output)> RunCliAsync(params string[] args)
    {
        var original = Console.Out;
        using var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            var exit = await RagCli.Create().Parse(args).InvokeAsync(cancellationToken: Ct);
            return (exit, output.ToString());
        }
        finally
        {
            Console.SetOut(original);
        }
    }
}
