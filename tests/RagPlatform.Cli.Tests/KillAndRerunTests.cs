using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Cli.Hosting;
using RagPlatform.Core.Metadata;
using RagPlatform.Ingestion.Pipeline;
using RagPlatform.Testing;

namespace RagPlatform.Cli.Tests;

/// <summary>
/// Crash safety with a real process: `rag ingest` is killed (SIGKILL) at arbitrary moments while
/// files change under it, then run to the end; the metadata store and both indexes must agree,
/// with every file indexed exactly once and nothing orphaned or duplicated.
/// </summary>
public sealed class KillAndRerunTests : IDisposable
{
    private readonly TempDirectory _files = new("kill-files");
    private readonly TempDirectory _data = new("kill-data");

    [Fact]
    public async Task Killing_ingest_at_any_moment_and_running_it_again_leaves_the_stores_in_agreement()
    {
        var rng = new Random(424242);
        for (var i = 0; i < 160; i++)
        {
            _files.Write($"doc{i:D3}.md", Document(i, 0, rng));
        }

        using var model = SharedModels.Embedder();
        var env = new Dictionary<string, string?>
        {
            // Small commits and a real model make many commit windows to be killed in.
            ["RAG__Limits__CommitBatchSize"] = "4",
            ["RAG__Embeddings__ModelDirectory"] = model.Path,
            ["RAG__Embeddings__IntraOpThreads"] = "1",
        };
        string[] args = ["ingest", _files.Path, "--data", _data.Path, "--acl", "group:eng", "--json"];

        var killedMidRun = 0;
        for (var round = 0; round < 6; round++)
        {
            using var process = Process.Start(CliProcess.StartInfo(args, env))!;
            _ = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            _ = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await Task.Delay(TimeSpan.FromMilliseconds(900 + rng.Next(2500)), TestContext.Current.CancellationToken);
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                killedMidRun++;
            }

            await process.WaitForExitAsync(TestContext.Current.CancellationToken);

            // The tree keeps changing between crashes: edits, deletions, new files.
            for (var j = 0; j < 6; j++)
            {
                var n = rng.Next(160);
                var path = _files.Combine($"doc{n:D3}.md");
                if (rng.NextDouble() < 0.25)
                {
                    File.Delete(path);
                }
                else
                {
                    _files.Write($"doc{n:D3}.md", Document(n, round + 1, rng));
                }
            }
        }

        var final = await CliProcess.RunAsync(args, env, TimeSpan.FromMinutes(5));
        var rerun = await CliProcess.RunAsync(args, env, TimeSpan.FromMinutes(5));

        Assert.True(killedMidRun >= 3, $"only {killedMidRun} of 6 runs were killed while working; the test proves nothing");
        Assert.True(final.ExitCode == 0, CliProcess.Describe(final));
        var files = Directory.GetFiles(_files.Path).Length;
        using (var json = JsonDocument.Parse(rerun.Stdout))
        {
            var docs = json.RootElement.GetProperty("documents");
            Assert.Equal(files, docs.GetProperty("unchanged").GetInt32());
            Assert.Equal(0, docs.GetProperty("failed").GetInt32());
        }

        await using var services = CliHost.Build(CliHost.BuildConfiguration(_data.Path, new Dictionary<string, string?> { ["Rag:Embeddings:ModelDirectory"] = model.Path }));
        var report = await services.GetRequiredService<StoreConsistencyChecker>().CheckAsync(TestContext.Current.CancellationToken);
        Assert.True(report.Consistent, JsonSerializer.Serialize(report));
        Assert.Equal(files, report.Documents);
        var metadata = services.GetRequiredService<IMetadataStore>();
        var source = (await metadata.FindSourceAsync("default", "default", TestContext.Current.CancellationToken))!;
        var documents = await metadata.ListDocumentsAsync(source.Id, TestContext.Current.CancellationToken);
        var live = documents.Where(d => d.State != Core.Documents.DocumentState.Deleted).Select(d => Path.GetFileName(d.ExternalKey)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(Directory.GetFiles(_files.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray(), live);

        // Every file's current content is what is indexed.
        foreach (var doc in documents.Where(d => d.State != Core.Documents.DocumentState.Deleted))
        {
            var details = (await metadata.GetDocumentAsync("default", doc.Id, TestContext.Current.CancellationToken))!;
            var text = await metadata.GetVersionTextAsync("default", doc.Id, details.Document.ActiveVersion, TestContext.Current.CancellationToken);
            Assert.Contains(MarkerLine(File.ReadAllText(doc.ExternalKey)), text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Ingest_killed_while_migrating_the_metadata_database_does_not_stop_the_next_run()
    {
        for (var i = 0; i < 3; i++)
        {
            _files.Write($"doc{i}.md", $"# Document {i}\n\nmarker-{i}\n");
        }

        string[] args = ["ingest", _files.Path, "--data", _data.Path, "--acl", "group:eng", "--json"];
        var first = await CliProcess.RunAsync(args, timeout: TimeSpan.FromMinutes(2));
        Assert.True(first.ExitCode == 0, CliProcess.Describe(first));

        // A run killed (SIGKILL) inside EF Core's Migrate leaves its lock row in the database: every
        // command after it used to wait for that row forever, printing nothing.
        await using (var connection = new SqliteConnection($"Data Source={_data.Combine("metadata.db")};Pooling=False"))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO \"__EFMigrationsLock\" (\"Id\", \"Timestamp\") VALUES (1, '2026-11-24 08:12:57.9563613+00:00')";
            await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        _files.Write("doc3.md", "# Document 3\n\nmarker-3\n");
        var next = await CliProcess.RunAsync(args, timeout: TimeSpan.FromMinutes(1));
        Assert.True(next.ExitCode == 0, CliProcess.Describe(next));
        Assert.Contains("stale migration lock", next.Stderr, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(next.Stdout);
        Assert.Equal(1, json.RootElement.GetProperty("documents").GetProperty("added").GetInt32());
        Assert.Equal(3, json.RootElement.GetProperty("documents").GetProperty("unchanged").GetInt32());
    }

    private static string Document(int n, int revision, Random rng)
    {
        var words = string.Join(' ', Enumerable.Range(0, 80 + rng.Next(200)).Select(_ => $"w{rng.Next(500)}"));
        return string.Create(CultureInfo.InvariantCulture, $"# Document {n}\n\nmarker-{n}-revision-{revision}\n\n{words}\n\n## More\n\n{words}");
    }

    private static string MarkerLine(string content) => content.Split('\n').First(l => l.StartsWith("marker-", StringComparison.Ordinal));

    public void Dispose()
    {
        _files.Dispose();
        _data.Dispose();
    }
}
