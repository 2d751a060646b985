using System.Runtime.CompilerServices;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Util;

namespace RagPlatform.Storage.Keyword.Internal;

/// <summary>
/// Scores a bag of words with BM25 term at a time, straight from the postings, inside the filter.
/// Lucene's own path (a BooleanQuery of TermQuery clauses) opens a terms enumerator and a postings
/// enumerator per term and segment, and with memory-mapped files each of those clones an input that
/// Lucene.Net tracks with weak references; at 100,000 chunks that setup and the garbage it made cost
/// more than the scoring. Here each segment and field gets one terms enumerator and one reused
/// postings enumerator, and scores add up in a per-thread array. The ranking is the same: the
/// formula is <see cref="ExactLengthBm25Similarity"/>'s, and ties go to the lower document number.
/// </summary>
internal static class Bm25Searcher
{
    [ThreadStatic]
    private static Scratch? t_scratch;

    public static ScoreDoc[] Search(
        IndexSearcher searcher,
        ExactLengthBm25Similarity similarity,
        List<KeyValuePair<string, int>> queryTerms,
        IReadOnlyList<(string Field, float Weight)> fields,
        Filter filter,
        int limit)
    {
        var leaves = searcher.IndexReader.Leaves;
        var terms = queryTerms.Select(t => (Bytes: new BytesRef(t.Key), Count: t.Value)).OrderBy(t => t.Bytes).ToArray();

        // Pass 1: find each term once per segment and field, summing document frequencies for idf.
        var enums = new TermsEnum?[fields.Count][];
        var states = new TermState?[fields.Count][][];
        var weights = new float[fields.Count][];
        var averageLengths = new float[fields.Count];
        var found = false;
        for (var f = 0; f < fields.Count; f++)
        {
            var field = fields[f].Field;
            enums[f] = new TermsEnum?[leaves.Count];
            states[f] = new TermState?[leaves.Count][];
            var docFreqs = new long[terms.Length];
            for (var l = 0; l < leaves.Count; l++)
            {
                var cached = SegmentEnums.For(leaves[l].AtomicReader, field);
                if (cached is null)
                {
                    continue;
                }

                var termsEnum = cached.Terms;
                var leafStates = new TermState?[terms.Length];
                var any = false;
                for (var t = 0; t < terms.Length; t++)
                {
                    if (termsEnum.SeekExact(terms[t].Bytes))
                    {
                        leafStates[t] = termsEnum.GetTermState();
                        docFreqs[t] += termsEnum.DocFreq;
                        any = true;
                    }
                }

                if (any)
                {
                    enums[f][l] = termsEnum;
                    states[f][l] = leafStates;
                    found = true;
                }
            }

            var stats = searcher.CollectionStatistics(field);
            var documents = stats.DocCount > 0 ? stats.DocCount : stats.MaxDoc;
            averageLengths[f] = stats.SumTotalTermFreq > 0 && documents > 0 ? (float)(stats.SumTotalTermFreq / (double)documents) : 1f;
            weights[f] = new float[terms.Length];
            for (var t = 0; t < terms.Length; t++)
            {
                if (docFreqs[t] > 0)
                {
                    var idf = Math.Log(1 + ((documents - docFreqs[t] + 0.5) / (docFreqs[t] + 0.5)));
                    weights[f][t] = (float)idf * fields[f].Weight * terms[t].Count * (similarity.K1 + 1);
                }
            }
        }

        if (!found)
        {
            return [];
        }

        // Pass 2: per segment, add up each term's BM25 contribution for the documents the filter accepts.
        var scratch = t_scratch ??= new Scratch();
        var top = new TopHits(limit);
        for (var l = 0; l < leaves.Count; l++)
        {
            var leaf = leaves[l];
            var reader = leaf.AtomicReader;
            if (!HasTerms(states, l))
            {
                continue;
            }

            var accepted = Accepted(filter, leaf);
            if (accepted is null)
            {
                continue;
            }

            var scores = scratch.Scores(reader.MaxDoc);
            var touched = scratch.Touched;
            try
            {
                for (var f = 0; f < fields.Count; f++)
                {
                    if (states[f][l] is not { } leafStates)
                    {
                        continue;
                    }

                    var termsEnum = enums[f][l]!;
                    var norms = reader.GetNormValues(fields[f].Field);
                    var constant = similarity.K1 * (1 - similarity.B);
                    var perToken = similarity.K1 * similarity.B / averageLengths[f];
                    var cached = SegmentEnums.For(reader, fields[f].Field)!;
                    var docs = cached.Docs;
                    for (var t = 0; t < terms.Length; t++)
                    {
                        if (leafStates[t] is not { } state)
                        {
                            continue;
                        }

                        termsEnum.SeekExact(terms[t].Bytes, state);
                        docs = termsEnum.Docs(accepted, docs, DocsFlags.FREQS);
                        var weight = weights[f][t];
                        int doc;
                        while ((doc = docs.NextDoc()) != DocIdSetIterator.NO_MORE_DOCS)
                        {
                            float freq = docs.Freq;
                            var norm = norms is null ? similarity.K1 : constant + (perToken * norms.Get(doc));
                            var score = weight * freq / (freq + norm);
                            if (scores[doc] == 0)
                            {
                                touched.Add(doc);
                            }

                            scores[doc] += score;
                        }
                    }

                    cached.Docs = docs;
                }
            }
            catch
            {
                // The accumulators are reused by this thread's next query: leave them clean.
                scratch.Reset();
                throw;
            }

            foreach (var doc in touched)
            {
                top.Offer(scores[doc], leaf.DocBase + doc);
                scores[doc] = 0;
            }

            touched.Clear();
        }

        return top.ToSortedArray();
    }

    private static bool HasTerms(TermState?[][][] states, int leaf)
    {
        foreach (var field in states)
        {
            if (field[leaf] is not null)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The live documents of the segment that pass the filter, as random-access bits; null when none do.</summary>
    private static IBits? Accepted(Filter filter, AtomicReaderContext leaf)
    {
        var set = filter.GetDocIdSet(leaf, leaf.AtomicReader.LiveDocs);
        if (set is null)
        {
            return null;
        }

        if (set.Bits is { } bits)
        {
            return bits;
        }

        var iterator = set.GetIterator();
        if (iterator is null)
        {
            return null;
        }

        var copy = new FixedBitSet(leaf.AtomicReader.MaxDoc);
        copy.Or(iterator);
        return copy;
    }

    /// <summary>
    /// A segment's terms and postings enumerators for one field, kept per thread across queries:
    /// creating them clones memory-mapped inputs, which Lucene.Net makes costly. Keyed weakly by the
    /// segment's core, so they go when the segment goes; a segment that is searched is open, so the
    /// enumerators of its core are valid whenever they are used.
    /// </summary>
    private sealed class SegmentEnums(TermsEnum terms)
    {
        [ThreadStatic]
        private static ConditionalWeakTable<object, Dictionary<string, SegmentEnums?>>? t_cache;

        public TermsEnum Terms { get; } = terms;

        public DocsEnum? Docs { get; set; }

        public static SegmentEnums? For(AtomicReader reader, string field)
        {
            var cache = t_cache ??= [];
            var byField = cache.GetValue(reader.CoreCacheKey, static _ => new Dictionary<string, SegmentEnums?>(StringComparer.Ordinal));
            if (!byField.TryGetValue(field, out var enums))
            {
                enums = reader.GetTerms(field) is { } terms ? new SegmentEnums(terms.GetEnumerator()) : null;
                byField[field] = enums;
            }

            return enums;
        }
    }

    /// <summary>Score accumulators reused by one thread across queries (scores are positive, so 0 means untouched).</summary>
    private sealed class Scratch
    {
        private float[] _scores = [];

        public List<int> Touched { get; } = [];

        public void Reset()
        {
            foreach (var doc in Touched)
            {
                _scores[doc] = 0;
            }

            Touched.Clear();
        }

        public float[] Scores(int maxDoc)
        {
            if (_scores.Length < maxDoc)
            {
                _scores = new float[Math.Max(maxDoc, _scores.Length * 2)];
            }

            return _scores;
        }
    }

    /// <summary>The best hits seen so far: a min-heap on (score, then higher document number is worse).</summary>
    private sealed class TopHits(int limit)
    {
        private readonly List<ScoreDoc> _heap = new(Math.Min(limit, 1024));

        public void Offer(float score, int doc)
        {
            if (_heap.Count < limit)
            {
                _heap.Add(new ScoreDoc(doc, score));
                Up(_heap.Count - 1);
            }
            else if (Better(score, doc, _heap[0]))
            {
                _heap[0] = new ScoreDoc(doc, score);
                Down(0);
            }
        }

        public ScoreDoc[] ToSortedArray()
        {
            var result = _heap.ToArray();
            Array.Sort(result, static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Doc.CompareTo(b.Doc));
            return result;
        }

        private static bool Better(float score, int doc, ScoreDoc than) => score > than.Score || (score == than.Score && doc < than.Doc);

        private void Up(int i)
        {
            while (i > 0)
            {
                var parent = (i - 1) / 2;
                if (!Better(_heap[parent].Score, _heap[parent].Doc, _heap[i]))
                {
                    break;
                }

                (_heap[i], _heap[parent]) = (_heap[parent], _heap[i]);
                i = parent;
            }
        }

        private void Down(int i)
        {
            while (true)
            {
                var worst = i;
                var left = (2 * i) + 1;
                var right = left + 1;
                if (left < _heap.Count && Better(_heap[worst].Score, _heap[worst].Doc, _heap[left]))
                {
                    worst = left;
                }

                if (right < _heap.Count && Better(_heap[worst].Score, _heap[worst].Doc, _heap[right]))
                {
                    worst = right;
                }

                if (worst == i)
                {
                    return;
                }

                (_heap[i], _heap[worst]) = (_heap[worst], _heap[i]);
                i = worst;
            }
        }
    }
}
