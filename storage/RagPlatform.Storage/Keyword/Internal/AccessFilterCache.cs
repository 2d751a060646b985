using System.Collections.Concurrent;
using System.Text;
using Lucene.Net.Search;

namespace RagPlatform.Storage.Keyword.Internal;

/// <summary>
/// The tenant-and-ACL filter of each recent caller, cached per index segment by
/// <see cref="CachingWrapperFilter"/>: a caller's principals repeat from query to query, and building
/// the filter from postings cost as much as scoring the query. Deleted and re-added chunks stay
/// correct, because cached sets belong to immutable segments and deletions are applied on top.
/// Bounded by memory: each entry holds about one bit per chunk.
/// </summary>
internal sealed class AccessFilterCache
{
    private const long MemoryBudgetBytes = 64L * 1024 * 1024;
    private readonly ConcurrentDictionary<string, Filter> _filters = new(StringComparer.Ordinal);

    public Filter Get(string tenant, IReadOnlySet<string> principals, int maxDoc)
    {
        var key = Key(tenant, principals);
        if (_filters.TryGetValue(key, out var filter))
        {
            return filter;
        }

        var capacity = Math.Max(16, MemoryBudgetBytes / Math.Max(1, maxDoc / 8));
        if (_filters.Count >= capacity)
        {
            // Rebuilding a filter costs one query; a precise LRU is not worth its bookkeeping here.
            _filters.Clear();
        }

        return _filters.GetOrAdd(key, _ => new CachingWrapperFilter(KeywordFilters.TenantAndAcl(tenant, principals)));
    }

    /// <summary>Length-prefixed, so that no tenant or principal text can make two different callers share a key.</summary>
    private static string Key(string tenant, IReadOnlySet<string> principals)
    {
        var sorted = principals.Order(StringComparer.Ordinal);
        var sb = new StringBuilder(64).Append(tenant.Length).Append(':').Append(tenant);
        foreach (var p in sorted)
        {
            sb.Append(p.Length).Append(':').Append(p);
        }

        return sb.ToString();
    }
}
