using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Metadata;
using RagPlatform.IndexerJobs.Reconciliation;
using RagPlatform.IndexerJobs.Sync;

namespace RagPlatform.IndexerJobs.Jobs;

/// <summary>
/// Keeps Hangfire's recurring jobs in line with the sources in the metadata store, at start-up and
/// every minute, so that sources added by another process (the CLI on a data directory, another
/// server) get their schedule; also registers the reconciliation job.
/// </summary>
internal sealed class ScheduleRegistrar(
    IMetadataStore metadata,
    ISyncScheduler scheduler,
    IRecurringJobManager recurring,
    JobStorage storage,
    IOptions<JobsOptions> options,
    ILogger<ScheduleRegistrar> logger) : BackgroundService
{
    public const string ReconcileJobId = "reconcile";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1));
        do
        {
            try
            {
                await SynchroniseAsync(stoppingToken);
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

    internal async Task SynchroniseAsync(CancellationToken cancellationToken)
    {
        await metadata.MigrateAsync(cancellationToken);
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
}
