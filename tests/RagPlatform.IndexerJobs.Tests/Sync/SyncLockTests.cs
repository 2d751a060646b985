using Microsoft.Extensions.DependencyInjection;
using RagPlatform.IndexerJobs.Jobs;
using RagPlatform.IndexerJobs.Sync;
using RagPlatform.IndexerJobs.Tests.Harness;
using RagPlatform.Testing;

namespace RagPlatform.IndexerJobs.Tests.Sync;

/// <summary>
/// The per-source lock is taken by the sync itself, so every caller (the Hangfire job, reconciliation,
/// replay, `rag sources sync` on a data directory) waits for a sync of the same source that is running.
/// </summary>
public sealed class SyncLockTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_sync_called_directly_waits_while_another_holds_the_sources_lock()
    {
        using var folder = new TempDirectory("folder");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        var a = folder.Write("a.md", "Quokkas smile for photographs.");
        var source = await host.AddFolderAsync("docs", folder.Path);
        var locks = host.Services.GetRequiredService<SourceSyncLocks>();
        var sync = host.Services.GetRequiredService<SourceSyncService>();

        Task<Ingestion.Pipeline.IngestionResult?> waiting;
        await using (await locks.AcquireAsync(source.Id, Ct))
        {
            waiting = sync.SyncAsync(source.Id, "reconcile", jobId: null, force: false, Ct);
            await Task.Delay(TimeSpan.FromMilliseconds(500), Ct);
            Assert.False(waiting.IsCompleted, "the sync ran while another held its source's lock");
            Assert.Empty(await host.VisibleAsync("quokkas", "public"));
        }

        var result = await waiting;

        Assert.Equal(1, result!.Added);
        Assert.Equal([a], await host.VisibleAsync("quokkas", "public"));
    }
}
