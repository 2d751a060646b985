using RagPlatform.Core.Documents;
using RagPlatform.Core.Metadata;

namespace RagPlatform.IndexerJobs.Freshness;

public sealed record DocumentFreshness(Guid DocumentId, string ExternalKey, DateTimeOffset ChangedAt, DateTimeOffset? IndexedAt, TimeSpan Lag, bool Pending);

public sealed record SourceFreshness
{
    public required SourceInfo Source { get; init; }

    public DateTimeOffset? LastSuccess { get; init; }

    public int Pending { get; init; }

    public int Failed { get; init; }

    public TimeSpan LagP50 { get; init; }

    public TimeSpan LagP95 { get; init; }

    public TimeSpan LagMax { get; init; }

    public bool Breached { get; init; }

    public string? BreachReason { get; init; }

    public IReadOnlyList<DocumentFreshness> Stalest { get; init; } = [];
}

/// <summary>
/// Freshness from recorded timestamps, as a pure function. A document's lag runs from its change at
/// the source (modification time, the sync that saw a new ETag, or the push time; never earlier than
/// when the platform first saw the document, so a first ingestion of old files is not "stale") to
/// the moment it became searchable. Pending documents count with their age so far. A source's
/// figures cover documents that became searchable within the window, plus those still pending.
/// The objective is breached when any of those lags exceeds it, or when a listed source (folder,
/// URLs) on a schedule has not synced successfully for longer than it.
/// </summary>
public static class FreshnessCalculator
{
    public static SourceFreshness Compute(SourceInfo source, IReadOnlyList<DocumentSnapshot> documents, DateTimeOffset? lastSuccess, DateTimeOffset now, TimeSpan window, int stalest = 0)
    {
        var lags = new List<DocumentFreshness>();
        foreach (var doc in documents.Where(d => d.State != DocumentState.Deleted))
        {
            if (doc.PendingVersion > 0 || doc.State == DocumentState.Pending)
            {
                var changed = Effective(doc.PendingChangedAt ?? doc.ChangedAt, doc.CreatedAt);
                lags.Add(new DocumentFreshness(doc.Id, doc.ExternalKey, changed, null, Positive(now - changed), Pending: true));
            }
            else if (doc.IndexedAt is { } indexed && indexed >= now - window)
            {
                var changed = Effective(doc.ChangedAt, doc.CreatedAt);
                lags.Add(new DocumentFreshness(doc.Id, doc.ExternalKey, changed, indexed, Positive(indexed - changed), Pending: false));
            }
        }

        var sorted = lags.Select(l => l.Lag).Order().ToList();
        var max = sorted.Count == 0 ? TimeSpan.Zero : sorted[^1];
        string? breach = null;
        if (source.FreshnessObjective is { } objective)
        {
            var lastSync = lastSuccess ?? source.CreatedAt;
            if (max > objective)
            {
                var worst = lags.MaxBy(l => l.Lag)!;
                breach = worst.Pending
                    ? $"{worst.ExternalKey} has waited {Describe(worst.Lag)} to become searchable (objective {Describe(objective)})"
                    : $"{worst.ExternalKey} took {Describe(worst.Lag)} to become searchable (objective {Describe(objective)})";
            }
            else if (source.Kind is SourceKind.Folder or SourceKind.Urls && !string.IsNullOrEmpty(source.Schedule) && source.Enabled && now - lastSync > objective)
            {
                breach = lastSuccess is null
                    ? $"no successful sync since the source was registered {Describe(now - lastSync)} ago (objective {Describe(objective)})"
                    : $"no successful sync for {Describe(now - lastSync)} (objective {Describe(objective)})";
            }
        }

        return new SourceFreshness
        {
            Source = source,
            LastSuccess = lastSuccess,
            Pending = lags.Count(l => l.Pending),
            Failed = documents.Count(d => d.State == DocumentState.Failed),
            LagP50 = Percentile(sorted, 0.50),
            LagP95 = Percentile(sorted, 0.95),
            LagMax = max,
            Breached = breach is not null,
            BreachReason = breach,
            Stalest = lags.OrderByDescending(l => l.Lag).ThenBy(l => l.ExternalKey, StringComparer.Ordinal).Take(stalest).ToList(),
        };
    }

    /// <summary>Nearest-rank percentile: the smallest value with at least <paramref name="p"/> of the values at or below it.</summary>
    public static TimeSpan Percentile(IReadOnlyList<TimeSpan> sorted, double p)
    {
        if (sorted.Count == 0)
        {
            return TimeSpan.Zero;
        }

        var rank = (int)Math.Ceiling(p * sorted.Count);
        return sorted[Math.Clamp(rank, 1, sorted.Count) - 1];
    }

    private static DateTimeOffset Effective(DateTimeOffset? changedAt, DateTimeOffset firstSeen)
        => changedAt is { } changed && changed > firstSeen ? changed : firstSeen;

    private static TimeSpan Positive(TimeSpan span) => span < TimeSpan.Zero ? TimeSpan.Zero : span;

    private static string Describe(TimeSpan span)
        => span.TotalSeconds < 120 ? $"{span.TotalSeconds:0} s"
            : span.TotalMinutes < 120 ? $"{span.TotalMinutes:0} min"
            : $"{span.TotalHours:0.#} h";
}
