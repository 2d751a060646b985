using System.Runtime.CompilerServices;
using RagPlatform.Core.Indexing;

namespace RagPlatform.Storage.Vectors.Internal;

/// <summary>
/// A <see cref="SearchFilter"/> translated to the table's interned ids, evaluated row by row inside the
/// scan with exactly the semantics of <see cref="SearchFilter.Matches"/>: tenant (one int compare) first,
/// then the ACL against a bitmap of the caller's principals, then the optional conditions, cheapest first.
/// </summary>
internal sealed class CompiledFilter
{
    private readonly VectorTable _table;
    private readonly HashSet<Guid>? _sources;
    private readonly HashSet<Guid>? _documents;
    private readonly long? _changedAfterUtcTicks;
    private readonly MetadataFilter[] _metadata;

    private CompiledFilter(VectorTable table, int tenant, bool[] principals, SearchFilter filter)
    {
        _table = table;
        Tenant = tenant;
        Principals = principals;
        _sources = filter.SourceIds is { Count: > 0 } sources ? [.. sources] : null;
        _documents = filter.DocumentIds is { Count: > 0 } documents ? [.. documents] : null;
        _changedAfterUtcTicks = filter.ChangedAfter?.UtcTicks;
        _metadata = [.. filter.Metadata];
        HasMore = _sources is not null || _documents is not null || _changedAfterUtcTicks is not null || _metadata.Length > 0;
    }

    /// <summary>The interned id of the filter's tenant.</summary>
    public int Tenant { get; }

    /// <summary>Indexed by interned principal id: true when the caller holds that principal.</summary>
    public bool[] Principals { get; }

    /// <summary>True when conditions beyond tenant and ACL apply (<see cref="MatchesMore"/>).</summary>
    public bool HasMore { get; }

    /// <summary>The compiled filter, or null when no row can match (unknown tenant, or none of the caller's principals is in any ACL).</summary>
    public static CompiledFilter? Compile(SearchFilter filter, VectorTable table)
    {
        if (!table.Tenants.TryGetId(filter.Tenant, out var tenant))
        {
            return null;
        }

        var principals = new bool[table.Principals.Count];
        var any = false;
        if (filter.Principals is HashSet<string> set && IsOrdinal(set.Comparer))
        {
            foreach (var principal in set)
            {
                if (table.Principals.TryGetId(principal, out var id))
                {
                    principals[id] = any = true;
                }
            }
        }
        else
        {
            // Another comparer (or set type) may match strings that ordinal lookup would not; ask the
            // caller's set about every interned principal so that the semantics stay exactly Matches'.
            for (var id = 0; id < principals.Length; id++)
            {
                if (filter.Principals.Contains(table.Principals[id]))
                {
                    principals[id] = any = true;
                }
            }
        }

        return any ? new CompiledFilter(table, tenant, principals, filter) : null;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Permits(int[] acl, bool[] principals)
    {
        foreach (var id in acl)
        {
            if (principals[id])
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Tenant, ACL and every other condition, for one row.</summary>
    public bool Matches(int row)
        => _table.TenantIds[row] == Tenant && Permits(_table.Acls[row], Principals) && (!HasMore || MatchesMore(row));

    /// <summary>The conditions beyond tenant and ACL.</summary>
    public bool MatchesMore(int row)
    {
        if (_sources is not null && !_sources.Contains(_table.SourceIds[row]))
        {
            return false;
        }

        if (_documents is not null && !_documents.Contains(_table.DocumentIds[row]))
        {
            return false;
        }

        if (_changedAfterUtcTicks is { } after && _table.ChangedAtUtcTicks[row] <= after)
        {
            return false;
        }

        var metadata = _table.Metadata[row];
        foreach (var condition in _metadata)
        {
            if (!condition.Matches(metadata))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsOrdinal(IEqualityComparer<string> comparer)
        => ReferenceEquals(comparer, StringComparer.Ordinal) || ReferenceEquals(comparer, EqualityComparer<string>.Default);
}
