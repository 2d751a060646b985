using System.Globalization;

namespace RagPlatform.Core.Indexing;

/// <summary>
/// The filter every index applies inside its search (never afterwards): tenant and ACL always,
/// and optionally sources, documents, change time and metadata.
/// </summary>
public sealed record SearchFilter
{
    public required string Tenant { get; init; }

    /// <summary>Canonical principal strings of the caller; a chunk matches when its ACL shares one of them.</summary>
    public required IReadOnlySet<string> Principals { get; init; }

    public IReadOnlyCollection<Guid>? SourceIds { get; init; }

    public IReadOnlyCollection<Guid>? DocumentIds { get; init; }

    /// <summary>Only chunks of documents changed at the source strictly after this time.</summary>
    public DateTimeOffset? ChangedAfter { get; init; }

    /// <summary>All must hold.</summary>
    public IReadOnlyList<MetadataFilter> Metadata { get; init; } = [];

    /// <summary>
    /// The reference semantics of the filter, used by indexes that filter in memory and by tests
    /// that check the others against it.
    /// </summary>
    public bool Matches(IndexedChunk chunk)
    {
        if (!string.Equals(chunk.Tenant, Tenant, StringComparison.Ordinal))
        {
            return false;
        }

        var permitted = false;
        foreach (var p in chunk.Acl)
        {
            if (Principals.Contains(p))
            {
                permitted = true;
                break;
            }
        }

        if (!permitted)
        {
            return false;
        }

        if (SourceIds is { Count: > 0 } && !SourceIds.Contains(chunk.SourceId))
        {
            return false;
        }

        if (DocumentIds is { Count: > 0 } && !DocumentIds.Contains(chunk.DocumentId))
        {
            return false;
        }

        if (ChangedAfter is { } after && (chunk.ChangedAt is not { } changed || changed <= after))
        {
            return false;
        }

        foreach (var f in Metadata)
        {
            if (!f.Matches(chunk.Metadata))
            {
                return false;
            }
        }

        return true;
    }
}

public enum MetadataFilterKind
{
    /// <summary>The value equals <see cref="MetadataFilter.Values"/>[0].</summary>
    Equals,

    /// <summary>The value equals one of <see cref="MetadataFilter.Values"/>.</summary>
    In,

    /// <summary>The value lies between <see cref="MetadataFilter.Min"/> and <see cref="MetadataFilter.Max"/>.</summary>
    Range,
}

/// <summary>
/// A condition on one metadata key. Equality is exact (ordinal). A range compares numerically when
/// the value and the bound both parse as numbers (invariant culture), otherwise ordinally, so ISO-8601
/// dates compare correctly as text. A missing key never matches.
/// </summary>
public sealed record MetadataFilter
{
    public required string Key { get; init; }

    public required MetadataFilterKind Kind { get; init; }

    public IReadOnlyList<string> Values { get; init; } = [];

    public string? Min { get; init; }

    public string? Max { get; init; }

    public bool MinInclusive { get; init; } = true;

    public bool MaxInclusive { get; init; } = true;

    public static MetadataFilter Eq(string key, string value) => new() { Key = key, Kind = MetadataFilterKind.Equals, Values = [value] };

    public static MetadataFilter OneOf(string key, params string[] values) => new() { Key = key, Kind = MetadataFilterKind.In, Values = values };

    public static MetadataFilter Between(string key, string? min, string? max, bool minInclusive = true, bool maxInclusive = true)
        => new() { Key = key, Kind = MetadataFilterKind.Range, Min = min, Max = max, MinInclusive = minInclusive, MaxInclusive = maxInclusive };

    public bool Matches(IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(Key, out var value))
        {
            return false;
        }

        return Kind switch
        {
            MetadataFilterKind.Equals => Values.Count > 0 && string.Equals(value, Values[0], StringComparison.Ordinal),
            MetadataFilterKind.In => Values.Contains(value, StringComparer.Ordinal),
            _ => InRange(value),
        };
    }

    /// <summary>True when <paramref name="text"/> is treated as a number by range filters.</summary>
    public static bool TryParseNumber(string? text, out double value)
        => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    private bool InRange(string value)
    {
        if (Min is not null && !Satisfies(value, Min, lower: true, MinInclusive))
        {
            return false;
        }

        return Max is null || Satisfies(value, Max, lower: false, MaxInclusive);
    }

    private static bool Satisfies(string value, string bound, bool lower, bool inclusive)
    {
        int cmp;
        if (TryParseNumber(value, out var v) && TryParseNumber(bound, out var b))
        {
            cmp = v.CompareTo(b);
        }
        else
        {
            cmp = string.CompareOrdinal(value, bound);
        }

        return lower ? (inclusive ? cmp >= 0 : cmp > 0) : (inclusive ? cmp <= 0 : cmp < 0);
    }
}
