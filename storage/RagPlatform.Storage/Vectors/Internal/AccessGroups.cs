namespace RagPlatform.Storage.Vectors.Internal;

/// <summary>
/// The distinct (tenant, ACL) pairs of the index, each with a small id that every row carries. Chunks of
/// one document, and usually many documents of a source, share a pair, so a search decides tenant and ACL
/// once per pair (a few hundred, say) and the scan then reads one int per row and one flag, instead of
/// comparing strings or chasing a per-row ACL array through memory.
/// </summary>
internal sealed class AccessGroups
{
    private static readonly int[] NoPrincipals = [];

    private readonly Dictionary<Group, int> _ids = [];
    private readonly List<Group> _groups = [];

    public StringInterner Tenants { get; } = new();

    public StringInterner Principals { get; } = new();

    public int Count => _groups.Count;

    public int TenantOf(int group) => _groups[group].Tenant;

    /// <summary>Interned principal ids of the group's ACL, sorted and distinct.</summary>
    public int[] PrincipalsOf(int group) => _groups[group].Principals;

    public int Intern(string tenant, IReadOnlyCollection<string> acl)
    {
        var tenantId = Tenants.Intern(tenant);
        if (acl.Count == 0)
        {
            return Intern(tenantId, NoPrincipals);
        }

        var ids = new int[acl.Count];
        var i = 0;
        foreach (var principal in acl)
        {
            ids[i++] = Principals.Intern(principal);
        }

        return Intern(tenantId, ids);
    }

    /// <summary>Interns a tenant id and principal ids (in any order, repeats allowed) of this instance's interners.</summary>
    public int Intern(int tenantId, int[] principalIds)
    {
        var sorted = SortedDistinct(principalIds);
        var group = new Group(tenantId, sorted);
        if (!_ids.TryGetValue(group, out var id))
        {
            id = _groups.Count;
            _groups.Add(group);
            _ids.Add(group, id);
        }

        return id;
    }

    /// <summary>
    /// A new instance holding only the groups that <paramref name="rows"/> use, renumbered densely, with
    /// tenants and principals no row needs any more dropped; <paramref name="rows"/> is rewritten in place.
    /// </summary>
    public AccessGroups Collect(Span<int> rows)
    {
        var collected = new AccessGroups();
        var map = new int[_groups.Count];
        Array.Fill(map, -1);
        foreach (ref var group in rows)
        {
            if (map[group] < 0)
            {
                var old = _groups[group];
                var principals = new int[old.Principals.Length];
                for (var i = 0; i < principals.Length; i++)
                {
                    principals[i] = collected.Principals.Intern(Principals[old.Principals[i]]);
                }

                map[group] = collected.Intern(collected.Tenants.Intern(Tenants[old.Tenant]), principals);
            }

            group = map[group];
        }

        return collected;
    }

    private static int[] SortedDistinct(int[] ids)
    {
        if (ids.Length <= 1)
        {
            return ids.Length == 0 ? NoPrincipals : ids;
        }

        Array.Sort(ids);
        var distinct = 1;
        for (var j = 1; j < ids.Length; j++)
        {
            if (ids[j] != ids[distinct - 1])
            {
                ids[distinct++] = ids[j];
            }
        }

        return distinct == ids.Length ? ids : ids[..distinct];
    }

    private readonly struct Group(int tenant, int[] principals) : IEquatable<Group>
    {
        public int Tenant { get; } = tenant;

        public int[] Principals { get; } = principals;

        public bool Equals(Group other) => Tenant == other.Tenant && Principals.AsSpan().SequenceEqual(other.Principals);

        public override bool Equals(object? obj) => obj is Group other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            hash.Add(Tenant);
            foreach (var id in Principals)
            {
                hash.Add(id);
            }

            return hash.ToHashCode();
        }
    }
}
