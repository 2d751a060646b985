using Hangfire;
using Hangfire.Server;
using RagPlatform.IndexerJobs.Sync;

namespace RagPlatform.IndexerJobs.Jobs;

/// <summary>
/// The Hangfire entry point of a sync. At most one sync of a source runs at a time, across every
/// worker sharing the storage (a distributed lock per source). A failure of the job itself (the
/// database unreachable, the folder unreachable) is retried with growing delays; documents that
/// fail are recorded by the pipeline and never fail the job.
/// </summary>
public sealed class SourceSyncJob(SourceSyncService sync)
{
    public const string Queue = "default";

    [Queue(Queue)]
    [DisableConcurrentExecution("rag-sync:{0}", 3600)]
    [AutomaticRetry(Attempts = 5, DelaysInSeconds = [15, 60, 300, 1200, 3600])]
    public async Task RunAsync(Guid sourceId, string trigger, bool force, PerformContext? context, CancellationToken cancellationToken)
        => await sync.SyncAsync(sourceId, trigger, context?.BackgroundJob.Id, force, cancellationToken);
}
