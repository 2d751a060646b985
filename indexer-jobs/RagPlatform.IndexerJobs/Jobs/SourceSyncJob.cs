using Hangfire;
using Hangfire.Server;
using Microsoft.Extensions.Logging;
using RagPlatform.Core.Metadata;
using RagPlatform.IndexerJobs.Sync;

namespace RagPlatform.IndexerJobs.Jobs;

/// <summary>
/// The Hangfire entry point of a sync. At most one sync of a source runs at a time, across every
/// worker sharing the storage (<see cref="SourceSyncLocks"/>). A failure of the job itself (the
/// database unreachable, the folder unreachable) is retried with growing delays; documents that
/// fail are recorded by the pipeline and never fail the job.
/// </summary>
public sealed class SourceSyncJob
{
    public const string Queue = "default";

    /// <summary>Runs older than this many per source are not looked at for interrupted ones.</summary>
    private const int RecentRuns = 200;

    private readonly SourceSyncService _sync;
    private readonly SourceSyncLocks _locks;
    private readonly IMetadataStore _metadata;
    private readonly TimeProvider _time;
    private readonly ILogger<SourceSyncJob> _logger;

    public SourceSyncJob(SourceSyncService sync, SourceSyncLocks locks, IMetadataStore metadata, TimeProvider time, ILogger<SourceSyncJob> logger)
    {
        _sync = sync;
        _locks = locks;
        _metadata = metadata;
        _time = time;
        _logger = logger;
    }

    [Queue(Queue)]
    [AutomaticRetry(Attempts = 5, DelaysInSeconds = [15, 60, 300, 1200, 3600])]
    public async Task RunAsync(Guid sourceId, string trigger, bool force, PerformContext? context, CancellationToken cancellationToken)
    {
        await using var held = await _locks.AcquireAsync(sourceId, cancellationToken);
        await CloseInterruptedRunsAsync(sourceId, context?.BackgroundJob.Id, cancellationToken);
        await _sync.SyncHeldAsync(sourceId, trigger, context?.BackgroundJob.Id, force, cancellationToken);
    }

    /// <summary>
    /// Holding the source's lock, no other sync job of it can be running: a run of one still recorded
    /// as running belongs to a worker that died (killed, crashed, lost its machine). What it staged is
    /// in the journal and is applied or redone; its run record is closed here so that it does not read
    /// as running forever. Runs without a job id (ingest, push, replay) take no sync lock and are left alone.
    /// </summary>
    private async Task CloseInterruptedRunsAsync(Guid sourceId, string? jobId, CancellationToken cancellationToken)
    {
        var runs = await _metadata.ListRunsAsync(sourceId, RecentRuns, cancellationToken);
        foreach (var run in runs.Where(r => r.FinishedAt is null && r.JobId is not null))
        {
            var again = run.JobId == jobId ? $"job {jobId} runs it again" : $"job {jobId ?? "(none)"} syncs the source now";
            await _metadata.FinishRunAsync(
                run.Id,
                new RunSummary
                {
                    Status = "failed",
                    FinishedAt = _time.GetUtcNow(),
                    Error = $"interrupted: the worker running job {run.JobId} stopped before the sync finished (process killed or crashed); what it had staged is kept, and {again}",
                },
                cancellationToken);
            _logger.LogWarning("Closed run {RunId} of source {SourceId}: its worker stopped during job {JobId}", run.Id, sourceId, run.JobId);
        }
    }
}
