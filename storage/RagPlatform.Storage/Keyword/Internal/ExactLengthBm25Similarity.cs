using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Util;

namespace RagPlatform.Storage.Keyword.Internal;

/// <summary>
/// BM25 with exact field lengths. Lucene 4.8's <see cref="BM25Similarity"/> stores a field's length
/// in one byte (1/sqrt(length) with a 3-bit mantissa), off by up to a quarter for chunk-sized
/// texts; here the norm is the length itself (norms are 64-bit doc values), so length normalisation
/// is what the formula says. Scores: idf * boost * (k1 + 1) * tf / (tf + k1 * (1 - b + b * length / avgdl)),
/// idf = ln(1 + (N - df + 0.5) / (df + 0.5)), as Lucene computes them.
/// </summary>
internal sealed class ExactLengthBm25Similarity(float k1, float b) : Similarity
{
    public float K1 { get; } = k1;

    public float B { get; } = b;

    /// <summary>Tokens of the field, not counting the extra positions some filters stack on one word (Lucene's discountOverlaps).</summary>
    public override long ComputeNorm(FieldInvertState state) => state.Length - state.NumOverlap;

    public override SimWeight ComputeWeight(float queryBoost, CollectionStatistics collectionStats, params TermStatistics[] termStats)
    {
        var documents = collectionStats.DocCount > 0 ? collectionStats.DocCount : collectionStats.MaxDoc;
        double idf = 0;
        foreach (var term in termStats)
        {
            idf += Math.Log(1 + ((documents - term.DocFreq + 0.5) / (term.DocFreq + 0.5)));
        }

        var averageLength = collectionStats.SumTotalTermFreq > 0 && documents > 0
            ? (float)(collectionStats.SumTotalTermFreq / (double)documents)
            : 1f;
        return new Bm25Weight(collectionStats.Field, (float)idf, queryBoost, averageLength);
    }

    public override SimScorer GetSimScorer(SimWeight weight, AtomicReaderContext context)
    {
        var w = (Bm25Weight)weight;
        return new Bm25Scorer(w.Value * (K1 + 1), K1 * (1 - B), K1 * B / w.AverageLength, K1, context.AtomicReader.GetNormValues(w.Field));
    }

    private sealed class Bm25Weight(string field, float idf, float queryBoost, float averageLength) : SimWeight
    {
        public string Field { get; } = field;

        public float AverageLength { get; } = averageLength;

        public float Value { get; private set; } = idf * queryBoost;

        public override float GetValueForNormalization() => Value * Value;

        // BM25 ignores the query norm (Lucene's BM25 does too); only the boost of an enclosing query applies.
        public override void Normalize(float queryNorm, float topLevelBoost) => Value = idf * queryBoost * topLevelBoost;
    }

    private sealed class Bm25Scorer(float weight, float constant, float perToken, float k1, NumericDocValues? norms) : SimScorer
    {
        public override float Score(int doc, float freq)
        {
            // A segment without norms for the field (none indexed there): no length normalisation, as Lucene does.
            var norm = norms is null ? k1 : constant + (perToken * norms.Get(doc));
            return weight * freq / (freq + norm);
        }

        public override float ComputeSlopFactor(int distance) => 1f / (distance + 1);

        public override float ComputePayloadFactor(int doc, int start, int end, BytesRef payload) => 1f;
    }
}
