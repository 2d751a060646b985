using Lucene.Net.Index;
using Lucene.Net.Queries;
using Lucene.Net.Search;
using Lucene.Net.Util;
using RagPlatform.Core.Indexing;

namespace RagPlatform.Storage.Keyword.Internal;

/// <summary>
/// Builds the Lucene filter of a <see cref="SearchFilter"/>. Lucene 4.8 has no FILTER occurrence, so
/// the filter is a <see cref="Filter"/> whose documents are the only ones the search scores
/// (see <see cref="Bm25Searcher"/>): it never scores and is never applied afterwards.
/// </summary>
internal static class KeywordFilters
{
    /// <summary>The filter, or null when it can match nothing at all (no principals, an empty "in" list).</summary>
    public static Filter? Filter(SearchFilter filter, AccessFilterCache access, int maxDoc)
    {
        if (filter.Principals.Count == 0)
        {
            return null;
        }

        var tenantAndAcl = access.Get(filter.Tenant, filter.Principals, maxDoc);
        var all = new BooleanFilter { new FilterClause(tenantAndAcl, Occur.MUST) };

        if (filter.SourceIds is { Count: > 0 } sources)
        {
            all.Add(AnyOf(ChunkFields.Source, sources.Select(ChunkFields.Key)), Occur.MUST);
        }

        if (filter.DocumentIds is { Count: > 0 } documents)
        {
            all.Add(AnyOf(ChunkFields.DocumentId, documents.Select(ChunkFields.Key)), Occur.MUST);
        }

        if (filter.ChangedAfter is { } after)
        {
            all.Add(NumericRangeFilter.NewInt64Range(ChunkFields.ChangedAt, after.UtcTicks, null, minInclusive: false, maxInclusive: true), Occur.MUST);
        }

        foreach (var condition in filter.Metadata)
        {
            var metadata = Metadata(condition);
            if (metadata is null)
            {
                return null;
            }

            all.Add(metadata, Occur.MUST);
        }

        return all.Clauses.Count == 1 ? tenantAndAcl : all;
    }

    /// <summary>The filter every search starts from: the caller's tenant and any of their principals.</summary>
    public static Filter TenantAndAcl(string tenant, IEnumerable<string> principals) => new BooleanFilter
    {
        new FilterClause(new TermFilter(new Term(ChunkFields.Tenant, tenant)), Occur.MUST),
        new FilterClause(AnyOf(ChunkFields.Acl, principals), Occur.MUST),
    };

    private static TermsFilter AnyOf(string field, IEnumerable<string> values)
        => new(field, values.Distinct(StringComparer.Ordinal).Select(v => new BytesRef(v)).ToArray());

    /// <summary>
    /// One metadata condition, with <see cref="MetadataFilter.Matches"/>' semantics: equality is exact;
    /// each range bound compares numerically when both it and the value are numbers, ordinally otherwise.
    /// </summary>
    private static Filter? Metadata(MetadataFilter condition)
    {
        var exact = ChunkFields.MetadataExactPrefix + condition.Key;
        switch (condition.Kind)
        {
            case MetadataFilterKind.Equals:
                return condition.Values.Count == 0 ? null : new TermFilter(new Term(exact, ChunkFields.OrdinalKey(condition.Values[0])));
            case MetadataFilterKind.In:
                return condition.Values.Count == 0 ? null : AnyOf(exact, condition.Values.Select(ChunkFields.OrdinalKey));
            default:
                return Range(condition, exact);
        }
    }

    private static BooleanFilter Range(MetadataFilter condition, string exact)
    {
        var min = condition.Min;
        var max = condition.Max;
        var minIsNumber = MetadataFilter.TryParseNumber(min, out var minNumber);
        var maxIsNumber = MetadataFilter.TryParseNumber(max, out var maxNumber);

        // Values that are numbers: numeric against numeric bounds, ordinal against the others.
        var numbers = new BooleanFilter
        {
            new FilterClause(
                NumericRangeFilter.NewDoubleRange(
                    ChunkFields.MetadataNumberPrefix + condition.Key,
                    minIsNumber ? ChunkFields.NormaliseNumber(minNumber) : null,
                    maxIsNumber ? ChunkFields.NormaliseNumber(maxNumber) : null,
                    condition.MinInclusive,
                    condition.MaxInclusive),
                Occur.MUST),
        };
        if ((min is not null && !minIsNumber) || (max is not null && !maxIsNumber))
        {
            numbers.Add(
                OrdinalRange(exact, minIsNumber ? null : min, maxIsNumber ? null : max, condition.MinInclusive, condition.MaxInclusive),
                Occur.MUST);
        }

        // Values that are not numbers: ordinal against every bound.
        return new BooleanFilter
        {
            new FilterClause(numbers, Occur.SHOULD),
            new FilterClause(
                OrdinalRange(ChunkFields.MetadataTextPrefix + condition.Key, min, max, condition.MinInclusive, condition.MaxInclusive),
                Occur.SHOULD),
        };
    }

    private static TermRangeFilter OrdinalRange(string field, string? min, string? max, bool minInclusive, bool maxInclusive)
        => new(
            field,
            min is null ? null : new BytesRef(ChunkFields.OrdinalKey(min)),
            max is null ? null : new BytesRef(ChunkFields.OrdinalKey(max)),
            minInclusive,
            maxInclusive);
}
