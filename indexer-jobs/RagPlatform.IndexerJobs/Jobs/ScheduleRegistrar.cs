using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Metadata;
using RagPlatform.IndexerJobs.Reconciliation;
using RagPlatform.IndexerJobs.Sync;

namespace RagPlatform.IndexerJobs.Jobs;

/// <summary>
/// Keeps Hangfire's recurring jobs in line with the sources in the metadata store, at start-up and
/// every minute, so that sources added by another process (the CLI on a data directory, another
/// server) get their schedule; also registers the reconciliation job. With in-memory job storage it
/// also resumes, at start-up, the syncs that the previous process did not finish.
/// </summary>
internal sealed class ScheduleRegistrar(
    IMetadataStore metadata,
    ISyncScheduler scheduler,
    IRecurringJobManager recurring,
    JobStorage storage,
    IOptions<RagOptions> rag,
    IOptions<JobsOptions> options,
    TimeProvider time,
    ILogger<ScheduleRegistrar> logger) : BackgroundService
{
    /// <summary>Runs that started before this instant belong to a previous process.</summary>
    private readonly DateTimeOffset _started = time.GetUtcNow();

    public const string ReconcileJobId = "reconcile";

    public const string ResumeTrigger = "resume";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1));
        var resumed = false;
        do
        {
            try
            {
                await SynchroniseAsync(stoppingToken);
                if (!resumed)
                {
                    await ResumeInterruptedAsync(stoppingToken);
                    resumed = true;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Could not synchronise the source schedules; retrying in a minute");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    // The schema is migrated once, before the host starts (RagServer.PrepareAsync), not on every tick.
    private async Task SynchroniseAsync(CancellationToken cancellationToken)
    {
        var sources = await metadata.ListSourcesAsync(null, cancellationToken);
        foreach (var source in sources)
        {
            scheduler.Register(source);
        }

        var wanted = sources.Select(s => HangfireSyncScheduler.RecurringId(s.Id)).ToHashSet(StringComparer.Ordinal);
        using var connection = storage.GetConnection();
        foreach (var job in connection.GetRecurringJobs().Where(j => j.Id.StartsWith("sync:", StringComparison.Ordinal) && !wanted.Contains(j.Id)))
        {
            recurring.RemoveIfExists(job.Id);
        }

        if (string.IsNullOrWhiteSpace(options.Value.ReconcileSchedule))
        {
            recurring.RemoveIfExists(ReconcileJobId);
        }
        else
        {
            recurring.AddOrUpdate<ReconcileJob>(ReconcileJobId, job => job.RunAsync(CancellationToken.None), options.Value.ReconcileSchedule, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
        }
    }

    /// <summary>
    /// PostgreSQL job storage keeps a sync that a stopped or killed worker was running, and hands it
    /// to a live worker. In-memory storage loses it with the process, so on start-up this process
    /// queues again every sync that its predecessor left unfinished: the source's latest sync run is
    /// still recorded as running (the process died) or was cancelled (the host was stopped).
    /// </summary>
    private async Task ResumeInterruptedAsync(CancellationToken cancellationToken)
    {
        if (rag.Value.Metadata.Provider == MetadataProvider.Postgres)
        {
            return;
        }

        foreach (var source in await metadata.ListSourcesAsync(null, cancellationToken))
        {
            if (source.Kind == SourceKind.Push || !source.Enabled)
            {
                continue;
            }

            var runs = await metadata.ListRunsAsync(source.Id, 1, cancellationToken);
            var latest = runs.Count > 0 ? runs[0] : null;
            // A run of this process (a sync triggered while it was starting) is not its predecessor's.
            if (latest is { JobId: not null } && latest.StartedAt < _started && (latest.FinishedAt is null || latest.Status == "cancelled"))
            {
                var jobId = scheduler.Enqueue(source.Id, ResumeTrigger, force: false);
                logger.LogWarning("Source {Source}: the sync of job {OldJobId} did not finish in the previous process; resuming it as job {JobId}", source.Name, latest.JobId, jobId);
            }
        }
    }
}
