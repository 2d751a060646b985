using System.Collections.Concurrent;
using RagPlatform.Core.Metadata;
using RagPlatform.IndexerJobs.Sync;

namespace RagPlatform.IndexerJobs.Tests.Harness;

/// <summary>A scheduler that only remembers what it was asked, for hosts without Hangfire: retries can be checked exactly.</summary>
internal sealed class RecordingScheduler : ISyncScheduler
{
    public sealed record Scheduled(Guid SourceId, string Trigger, TimeSpan Delay);

    private readonly ConcurrentQueue<Scheduled> _scheduled = new();

    public IReadOnlyList<Scheduled> ScheduledSyncs => [.. _scheduled];

    public void Register(SourceInfo source)
    {
    }

    public void Unregister(Guid sourceId)
    {
    }

    public string Enqueue(Guid sourceId, string trigger, bool force) => throw new InvalidOperationException("Tests without Hangfire run syncs directly.");

    public string Schedule(Guid sourceId, string trigger, TimeSpan delay)
    {
        _scheduled.Enqueue(new Scheduled(sourceId, trigger, delay));
        return $"scheduled-{_scheduled.Count}";
    }
}
