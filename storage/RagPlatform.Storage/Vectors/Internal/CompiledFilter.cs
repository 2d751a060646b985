using RagPlatform.Core.Indexing;

namespace RagPlatform.Storage.Vectors.Internal;

/// <summary>
/// A <see cref="SearchFilter"/> translated to the table's ids, evaluated row by row inside the scan with
/// exactly the semantics of <see cref="SearchFilter.Matches"/>. Tenant and ACL are decided once per
/// (tenant, ACL) pair of the index, so for each row they cost one lookup in <see cref="PermittedGroups"/>;
/// the optional conditions follow, cheapest first, only for rows that pass.
/// </summary>
internal sealed class CompiledFilter
{
    private readonly VectorTable _table;
    private readonly HashSet<Guid>? _sources;
    private readonly HashSet<Guid>? _documents;
    private readonly long? _changedAfterUtcTicks;
    private readonly MetadataFilter[] _metadata;

    private CompiledFilter(VectorTable table, bool[] permittedGroups, SearchFilter filter)
    {
        _table = table;
        PermittedGroups = permittedGroups;
        Penalties = [.. permittedGroups.Select(p => p ? 0f : float.MaxValue)];
        _sources = filter.SourceIds is { Count: > 0 } sources ? [.. sources] : null;
        _documents = filter.DocumentIds is { Count: > 0 } documents ? [.. documents] : null;
        _changedAfterUtcTicks = filter.ChangedAfter?.UtcTicks;
        _metadata = [.. filter.Metadata];
        HasMore = _sources is not null || _documents is not null || _changedAfterUtcTicks is not null || _metadata.Length > 0;
    }

    /// <summary>Indexed by access group id: true when the group is in the filter's tenant and its ACL grants one of the caller's principals.</summary>
    public bool[] PermittedGroups { get; }

    /// <summary>
    /// Indexed by access group id: 0 for a permitted group, <see cref="float.MaxValue"/> for any other, so that a
    /// scan can drop a row by subtracting instead of branching.
    /// </summary>
    public float[] Penalties { get; }

    /// <summary>True when conditions beyond tenant and ACL apply (<see cref="MatchesMore"/>).</summary>
    public bool HasMore { get; }

    /// <summary>The compiled filter, or null when no row can match (unknown tenant, or no ACL in it grants the caller anything).</summary>
    public static CompiledFilter? Compile(SearchFilter filter, VectorTable table)
    {
        var access = table.Access;
        if (!access.Tenants.TryGetId(filter.Tenant, out var tenant))
        {
            return null;
        }

        var held = new bool[access.Principals.Count];
        if (filter.Principals is HashSet<string> set && IsOrdinal(set.Comparer))
        {
            foreach (var principal in set)
            {
                if (access.Principals.TryGetId(principal, out var id))
                {
                    held[id] = true;
                }
            }
        }
        else
        {
            // Another comparer (or set type) may match strings that an ordinal lookup would not; ask the
            // caller's set about every interned principal so that the semantics stay exactly Matches'.
            for (var id = 0; id < held.Length; id++)
            {
                held[id] = filter.Principals.Contains(access.Principals[id]);
            }
        }

        var permitted = new bool[access.Count];
        var any = false;
        for (var group = 0; group < permitted.Length; group++)
        {
            if (access.TenantOf(group) == tenant && Grants(access.PrincipalsOf(group), held))
            {
                permitted[group] = any = true;
            }
        }

        return any ? new CompiledFilter(table, permitted, filter) : null;
    }

    /// <summary>About the share of the rows in <c>[start, end)</c> that tenant and ACL let through, from a sample of about 1,000 rows.</summary>
    public double PermittedShare(VectorTable table, int start, int end)
    {
        var count = end - start;
        if (count <= 0)
        {
            return 0;
        }

        var step = Math.Max(1, count / 1024);
        var groups = table.AccessGroupIds;
        int sampled = 0, passed = 0;
        for (var row = start; row < end; row += step)
        {
            sampled++;
            if (PermittedGroups[groups[row]])
            {
                passed++;
            }
        }

        return (double)passed / sampled;
    }

    /// <summary>Tenant, ACL and every other condition, for one row.</summary>
    public bool Matches(int row) => PermittedGroups[_table.AccessGroupIds[row]] && (!HasMore || MatchesMore(row));

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

    private static bool Grants(int[] acl, bool[] held)
    {
        foreach (var id in acl)
        {
            if (held[id])
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsOrdinal(IEqualityComparer<string> comparer)
        => ReferenceEquals(comparer, StringComparer.Ordinal) || ReferenceEquals(comparer, EqualityComparer<string>.Default);
}
