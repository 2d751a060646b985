namespace RagPlatform.Cli.Evaluation;

/// <summary>One query's figures; each is in [0, 1].</summary>
internal readonly record struct QueryMetrics(double NdcgAt10, double RecallAt100, double MrrAt10, double MapAt100);

/// <summary>Figures averaged over the queries that have at least one relevant document.</summary>
internal sealed record MetricsSummary(double NdcgAt10, double RecallAt100, double MrrAt10, double MapAt100, int Queries);

/// <summary>
/// Ranking metrics with trec_eval's conventions (the ones BEIR reports through pytrec_eval):
/// binary relevance (a grade above 0 is relevant); nDCG@10 with the log2(rank + 1) discount and an
/// ideal ranking of all the query's relevant documents, cut at 10; Recall@100 and MAP@100 divided by
/// the number of relevant documents, retrieved or not; MRR@10 from the first relevant document in
/// the top 10. Documents are ordered as trec_eval orders a run: score descending, then document id
/// descending, so that ties never depend on the order the hits arrived in.
/// </summary>
internal static class RetrievalMetrics
{
    public const int NdcgDepth = 10;
    public const int RecallDepth = 100;
    public const int MrrDepth = 10;
    public const int MapDepth = 100;

    /// <summary>
    /// Documents from scored passages: a document scores its best passage, and appears once. Then
    /// sorted as trec_eval sorts (score descending, then id descending in byte order).
    /// </summary>
    public static List<string> RankDocuments(IEnumerable<(string DocumentId, double Score)> passages)
    {
        var best = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (id, score) in passages)
        {
            if (double.IsNaN(score))
            {
                throw new ArgumentException($"document '{id}' has a NaN score; a ranking needs comparable scores", nameof(passages));
            }

            if (!best.TryGetValue(id, out var current) || score > current)
            {
                best[id] = score;
            }
        }

        var ranked = best.ToList();
        ranked.Sort(static (x, y) =>
        {
            var byScore = y.Value.CompareTo(x.Value);
            return byScore != 0 ? byScore : CompareUtf8(y.Key, x.Key);
        });
        return ranked.ConvertAll(kv => kv.Key);
    }

    /// <summary>
    /// Scores one query's ranking (distinct document ids, best first; a repeated id counts at its
    /// first rank only). Null when the query has no relevant document: such queries are skipped,
    /// as trec_eval and BEIR skip them.
    /// </summary>
    public static QueryMetrics? Score(IReadOnlyList<string> ranking, IReadOnlyDictionary<string, int> judgements)
    {
        var relevant = judgements.Count(j => j.Value > 0);
        if (relevant == 0)
        {
            return null;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        double dcg = 0, precisionSum = 0, reciprocalRank = 0;
        var found = 0;
        var rank = 0;
        foreach (var id in ranking)
        {
            if (!seen.Add(id))
            {
                continue;
            }

            rank++;
            if (rank > Math.Max(RecallDepth, MapDepth))
            {
                break;
            }

            if (!judgements.TryGetValue(id, out var grade) || grade <= 0)
            {
                continue;
            }

            found++;
            if (rank <= NdcgDepth)
            {
                dcg += 1.0 / Math.Log2(rank + 1);
            }

            if (rank <= MrrDepth && reciprocalRank == 0)
            {
                reciprocalRank = 1.0 / rank;
            }

            precisionSum += (double)found / rank;
        }

        double idealDcg = 0;
        for (var i = 1; i <= Math.Min(relevant, NdcgDepth); i++)
        {
            idealDcg += 1.0 / Math.Log2(i + 1);
        }

        return new QueryMetrics(
            NdcgAt10: dcg / idealDcg,
            RecallAt100: (double)found / relevant,
            MrrAt10: reciprocalRank,
            MapAt100: precisionSum / relevant);
    }

    /// <summary>The mean of each figure over the queries given (those with relevant documents).</summary>
    public static MetricsSummary Average(IReadOnlyCollection<QueryMetrics> queries)
    {
        if (queries.Count == 0)
        {
            return new MetricsSummary(0, 0, 0, 0, 0);
        }

        return new MetricsSummary(
            queries.Average(q => q.NdcgAt10),
            queries.Average(q => q.RecallAt100),
            queries.Average(q => q.MrrAt10),
            queries.Average(q => q.MapAt100),
            queries.Count);
    }

    /// <summary>Compares as C's strcmp compares UTF-8 strings (by code point), which trec_eval uses for ties.</summary>
    internal static int CompareUtf8(string x, string y)
    {
        var a = x.EnumerateRunes();
        var b = y.EnumerateRunes();
        while (true)
        {
            var hasA = a.MoveNext();
            var hasB = b.MoveNext();
            if (!hasA || !hasB)
            {
                return hasA.CompareTo(hasB);
            }

            var c = a.Current.Value.CompareTo(b.Current.Value);
            if (c != 0)
            {
                return c;
            }
        }
    }
}
