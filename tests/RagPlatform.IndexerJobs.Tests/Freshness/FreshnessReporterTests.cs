using RagPlatform.IndexerJobs.Tests.Harness;
using RagPlatform.Testing;

namespace RagPlatform.IndexerJobs.Tests.Freshness;

/// <summary>Freshness of a real source, with the clock stopped at known instants so every figure is exact.</summary>
public sealed class FreshnessReporterTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Freshness_of_a_synced_folder_counts_from_the_change_at_the_source_to_searchable()
    {
        using var folder = new TempDirectory("folder");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        var a = folder.Write("a.md", "Ibises probe the mud.");
        var b = folder.Write("b.md", "Herons stand still.");
        foreach (var file in new[] { a, b })
        {
            File.SetLastWriteTimeUtc(file, T0.AddDays(-30).UtcDateTime);
        }

        host.Clock.StopAt(T0);
        var source = await host.AddFolderAsync("docs", folder.Path, schedule: "*/5 * * * *", objective: TimeSpan.FromMinutes(1));
        await host.SyncAsync(source);

        // b changes at T0+1min and becomes searchable at T0+3min: a lag of 120 s. a, first seen at T0, has none.
        File.WriteAllText(b, "Herons now fly off.");
        File.SetLastWriteTimeUtc(b, T0.AddMinutes(1).UtcDateTime);
        folder.Write("c.json", "{ not json");
        host.Clock.StopAt(T0.AddMinutes(3));
        await host.SyncAsync(source);
        host.Clock.StopAt(T0.AddMinutes(4));

        var f = Assert.Single(await host.Freshness.ReportAsync(JobsTestHost.Tenant, null, TimeSpan.FromHours(1), stalest: 5, Ct));

        Assert.Equal(T0.AddMinutes(3), f.LastSuccess);
        Assert.Equal((0, 1), (f.Pending, f.Failed));
        Assert.Equal(TimeSpan.Zero, f.LagP50);
        Assert.Equal(TimeSpan.FromSeconds(120), f.LagP95);
        Assert.Equal(TimeSpan.FromSeconds(120), f.LagMax);
        Assert.True(f.Breached);
        Assert.Equal($"{b} took 2 min to become searchable (objective 60 s)", f.BreachReason);
        Assert.Equal([b, a], f.Stalest.Select(s => s.ExternalKey));
        Assert.Equal((T0.AddMinutes(1), T0.AddMinutes(3)), (f.Stalest[0].ChangedAt, f.Stalest[0].IndexedAt));

        // Outside the window, the lags no longer count; a source that has not synced for longer than its objective still breaches it.
        host.Clock.StopAt(T0.AddHours(2));
        var later = Assert.Single(await host.Freshness.ReportAsync(JobsTestHost.Tenant, "docs", TimeSpan.FromHours(1), stalest: 0, Ct));
        Assert.Equal(TimeSpan.Zero, later.LagMax);
        Assert.Equal("no successful sync for 117 min (objective 60 s)", later.BreachReason);
        Assert.Empty(await host.Freshness.ReportAsync(JobsTestHost.Tenant, "other", TimeSpan.FromHours(1), stalest: 0, Ct));
    }
}
