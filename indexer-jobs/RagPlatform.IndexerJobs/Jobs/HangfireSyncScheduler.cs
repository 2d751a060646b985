using Hangfire;
using RagPlatform.Core.Metadata;
using RagPlatform.IndexerJobs.Sync;

namespace RagPlatform.IndexerJobs.Jobs;

/// <summary>Syncs on Hangfire: one recurring job per scheduled, enabled source (<c>sync:ID</c>), queued ones on demand.</summary>
internal sealed class HangfireSyncScheduler(IRecurringJobManager recurring, IBackgroundJobClient jobs) : ISyncScheduler
{
    public static string RecurringId(Guid sourceId) => $"sync:{sourceId:N}";

    public void Register(SourceInfo source)
    {
        if (source.Kind == SourceKind.Push || !source.Enabled || string.IsNullOrWhiteSpace(source.Schedule))
        {
            Unregister(source.Id);
            return;
        }

        recurring.AddOrUpdate<SourceSyncJob>(
            RecurringId(source.Id),
            job => job.RunAsync(source.Id, "schedule", false, null, CancellationToken.None),
            source.Schedule,
            new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
    }

    public void Unregister(Guid sourceId) => recurring.RemoveIfExists(RecurringId(sourceId));

    public string Enqueue(Guid sourceId, string trigger, bool force)
        => jobs.Enqueue<SourceSyncJob>(job => job.RunAsync(sourceId, trigger, force, null, CancellationToken.None));

    public string Schedule(Guid sourceId, string trigger, TimeSpan delay)
        => jobs.Schedule<SourceSyncJob>(job => job.RunAsync(sourceId, trigger, false, null, CancellationToken.None), delay);
}
