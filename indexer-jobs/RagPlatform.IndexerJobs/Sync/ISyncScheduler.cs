using RagPlatform.Core.Metadata;

namespace RagPlatform.IndexerJobs.Sync;

/// <summary>Where syncs are queued and scheduled: Hangfire in a job host; nowhere in a plain CLI process.</summary>
public interface ISyncScheduler
{
    /// <summary>Keeps the source's recurring sync in line with its schedule and enabled flag.</summary>
    void Register(SourceInfo source);

    void Unregister(Guid sourceId);

    /// <summary>Queues a sync now; returns the job id.</summary>
    string Enqueue(Guid sourceId, string trigger, bool force);

    /// <summary>Queues a sync after a delay (retries of transient failures).</summary>
    string Schedule(Guid sourceId, string trigger, TimeSpan delay);
}

/// <summary>For processes without a job host (the CLI on a data directory): the server registers schedules itself when it starts.</summary>
internal sealed class NoSyncScheduler : ISyncScheduler
{
    public void Register(SourceInfo source)
    {
    }

    public void Unregister(Guid sourceId)
    {
    }

    public string Enqueue(Guid sourceId, string trigger, bool force)
        => throw new InvalidOperationException("No job host runs in this process; run the sync directly or through the server (--server).");

    public string Schedule(Guid sourceId, string trigger, TimeSpan delay) => string.Empty;
}
