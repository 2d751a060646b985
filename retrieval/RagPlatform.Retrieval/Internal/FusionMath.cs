using RagPlatform.Core.Indexing;

namespace RagPlatform.Retrieval.Internal;

/// <summary>A candidate after fusion, remembering where it came from.</summary>
internal sealed class FusedCandidate(string chunkId)
{
    public string ChunkId { get; } = chunkId;

    public int? KeywordRank { get; set; }

    public float? KeywordScore { get; set; }

    public int? VectorRank { get; set; }

    public float? VectorScore { get; set; }

    public double Fused { get; set; }
}

/// <summary>The fusion arithmetic, kept pure so that tests can check it by hand.</summary>
internal static class FusionMath
{
    public static List<FusedCandidate> Fuse(IReadOnlyList<ScoredChunk> keyword, IReadOnlyList<ScoredChunk> vector, Fusion fusion)
    {
        var byId = new Dictionary<string, FusedCandidate>(keyword.Count + vector.Count, StringComparer.Ordinal);
        FusedCandidate Get(string id)
        {
            if (!byId.TryGetValue(id, out var c))
            {
                c = new FusedCandidate(id);
                byId[id] = c;
            }

            return c;
        }

        // Ranks follow score, then chunk id: an index returns equal scores in its own internal order (Lucene: by
        // segment and doc id, which merges change), and neither the ranks reported nor RRF may depend on that.
        var ranked = InRankOrder(keyword);
        for (var i = 0; i < ranked.Count; i++)
        {
            var c = Get(ranked[i].ChunkId);
            c.KeywordRank = i + 1;
            c.KeywordScore = ranked[i].Score;
        }

        ranked = InRankOrder(vector);
        for (var i = 0; i < ranked.Count; i++)
        {
            var c = Get(ranked[i].ChunkId);
            c.VectorRank = i + 1;
            c.VectorScore = ranked[i].Score;
        }

        if (keyword.Count == 0 || vector.Count == 0)
        {
            // Nothing to fuse: the one list's own scores (BM25 or cosine) are kept, so that scores and
            // min_score mean the same as in that index.
            foreach (var c in byId.Values)
            {
                c.Fused = c.KeywordScore ?? c.VectorScore ?? 0;
            }
        }
        else
        {
            FuseBoth(byId.Values, keyword, vector, fusion);
        }

        // Ties broken by chunk id so that equal scores always come back in the same order. Ids are unique, so the
        // order is total and an in-place sort gives exactly what a stable one would.
        var fused = new List<FusedCandidate>(byId.Values);
        fused.Sort(static (a, b) => b.Fused.CompareTo(a.Fused) is var byScore and not 0 ? byScore : string.CompareOrdinal(a.ChunkId, b.ChunkId));
        return fused;
    }

    private static IReadOnlyList<ScoredChunk> InRankOrder(IReadOnlyList<ScoredChunk> list)
    {
        var inOrder = true;
        for (var i = 1; i < list.Count && inOrder; i++)
        {
            inOrder = ComesBefore(list[i - 1], list[i]);
        }

        if (inOrder)
        {
            return list;
        }

        var sorted = list.ToArray();
        Array.Sort(sorted, static (a, b) => ComesBefore(a, b) ? -1 : ComesBefore(b, a) ? 1 : 0);
        return sorted;
    }

    private static bool ComesBefore(ScoredChunk a, ScoredChunk b) =>
        a.Score > b.Score || (a.Score == b.Score && string.CompareOrdinal(a.ChunkId, b.ChunkId) < 0);

    private static void FuseBoth(IEnumerable<FusedCandidate> candidates, IReadOnlyList<ScoredChunk> keyword, IReadOnlyList<ScoredChunk> vector, Fusion fusion)
    {
        switch (fusion)
        {
            case ReciprocalRankFusion rrf:
                foreach (var c in candidates)
                {
                    c.Fused = (c.KeywordRank is { } kr ? 1.0 / (rrf.K + kr) : 0) + (c.VectorRank is { } vr ? 1.0 / (rrf.K + vr) : 0);
                }

                break;
            case WeightedFusion weighted:
                var (kMin, kMax) = Range(keyword);
                var (vMin, vMax) = Range(vector);
                foreach (var c in candidates)
                {
                    var k = c.KeywordScore is { } ks ? Normalise(ks, kMin, kMax) : 0;
                    var v = c.VectorScore is { } vs ? Normalise(vs, vMin, vMax) : 0;
                    c.Fused = (weighted.KeywordWeight * k) + (weighted.VectorWeight * v);
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(fusion), fusion, "unknown fusion");
        }
    }

    /// <summary>Min-max normalisation; a list whose scores are all equal maps them all to 1.</summary>
    public static double Normalise(double score, double min, double max) => max > min ? (score - min) / (max - min) : 1.0;

    private static (double Min, double Max) Range(IReadOnlyList<ScoredChunk> list)
    {
        if (list.Count == 0)
        {
            return (0, 0);
        }

        double min = double.MaxValue, max = double.MinValue;
        foreach (var s in list)
        {
            min = Math.Min(min, s.Score);
            max = Math.Max(max, s.Score);
        }

        return (min, max);
    }
}
