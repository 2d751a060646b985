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
/// more than the scoring. Here each segment and field gets one terms enumerator, postings and field
/// lengths are read from <see cref="PostingsCache"/>'s arrays, and scores add up in a per-thread
/// array. The ranking is the same: the formula is <see cref="ExactLengthBm25Similarity"/>'s, and ties
/// go to the lower document number.
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
        int limit,
        PostingsCache cache)
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
                var termsEnum = SegmentTerms.For(leaves[l].AtomicReader, field);
                if (termsEnum is null)
                {
                    continue;
                }

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

        // Pass 2: per segment, score the documents the filter accepts.
        var top = new TopHits(limit);
        var lists = new List<PostingsList>();
        for (var l = 0; l < leaves.Count; l++)
        {
            var leaf = leaves[l];
            if (!HasTerms(states, l) || Accepted(filter, leaf) is not { } accepted)
            {
                continue;
            }

            // The segment's lists field by field and term by term: the order in which a document's
            // contributions are added up, as it always has been, so that scores stay the same floats.
            var reader = leaf.AtomicReader;
            try
            {
                for (var f = 0; f < fields.Count; f++)
                {
                    if (states[f][l] is not { } leafStates)
                    {
                        continue;
                    }

                    var termsEnum = enums[f][l]!;
                    var scoring = new FieldScoring(
                        cache.Lengths(reader, fields[f].Field),
                        similarity.K1,
                        similarity.K1 * (1 - similarity.B),
                        similarity.K1 * similarity.B / averageLengths[f]);
                    for (var t = 0; t < terms.Length; t++)
                    {
                        if (leafStates[t] is { } state)
                        {
                            termsEnum.SeekExact(terms[t].Bytes, state);
                            lists.Add(new PostingsList(cache.Get(reader, fields[f].Field, terms[t].Bytes, termsEnum), weights[f][t], scoring));
                        }
                    }
                }

                TermAtATime(lists, leaf, new Acceptance(accepted), top);
            }
            finally
            {
                foreach (var list in lists)
                {
                    PostingsCache.Return(list.Postings);
                }

                lists.Clear();
            }
        }

        return top.ToSortedArray();
    }

    /// <summary>BM25 of one posting: the one place the formula is written, so that every path rounds alike.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Score(float weight, float freq, FieldScoring field, int doc)
    {
        // A segment without norms for the field (none indexed there): no length normalisation, as Lucene does.
        var norm = field.Lengths is null ? field.K1 : field.Constant + (field.PerToken * field.Lengths[doc]);
        return weight * freq / (freq + norm);
    }

    /// <summary>
    /// Every posting of every list, added up per document: exhaustive, and cheap per posting. The
    /// segment is taken a stretch of documents at a time, all lists over each stretch, so that the
    /// accumulators and field lengths being updated stay in the nearest caches.
    /// </summary>
    private static void TermAtATime(List<PostingsList> lists, AtomicReaderContext leaf, Acceptance accepted, TopHits top)
    {
        var scratch = t_scratch ??= new Scratch();
        scratch.Prepare(leaf.AtomicReader.MaxDoc, lists.Count);
        var scores = scratch.Scores;
        var touched = scratch.Touched;
        var positions = scratch.Positions;
        Array.Clear(positions, 0, lists.Count);
        var maxDoc = leaf.AtomicReader.MaxDoc;
        int count;
        try
        {
            count = Accumulate(lists, accepted, maxDoc, scores, touched, positions);
        }
        catch
        {
            // The accumulators are reused by this thread's next query: leave them clean.
            Array.Clear(scores, 0, maxDoc);
            throw;
        }

        // Most documents score below the worst of a full top k: compare first, offer only those that may get in.
        var floor = top.Floor;
        for (var i = 0; i < count; i++)
        {
            var doc = touched[i];
            var score = scores[doc];
            scores[doc] = 0;
            if (score >= floor)
            {
                top.Offer(score, leaf.DocBase + doc);
                floor = top.Floor;
            }
        }
    }

    /// <summary>Adds every posting's contribution to its document's score; returns how many documents were touched.</summary>
    private static int Accumulate(List<PostingsList> lists, Acceptance accepted, int maxDoc, float[] scores, int[] touched, int[] positions)
    {
        var count = 0;
        for (var start = 0; start < maxDoc; start += Scratch.Stretch)
        {
            var end = (int)Math.Min((long)start + Scratch.Stretch, maxDoc);
            for (var l = 0; l < lists.Count; l++)
            {
                var list = lists[l];
                var postings = list.Postings;
                var docs = postings.Docs;
                var length = postings.Count;
                var weight = list.Weight;
                var scoring = list.Scoring;
                var i = positions[l];
                for (; i < length && docs[i] < end; i++)
                {
                    // Without branches on the filter and on the first touch, which are as good as random:
                    // a mispredicted branch costs more than scoring a posting for nothing.
                    var doc = docs[i];
                    var pass = accepted.Bit(doc);
                    var score = Score(weight, postings.Freq(i), scoring, doc);
                    var before = scores[doc];
                    touched[count] = doc;
                    count += (before == 0 ? 1 : 0) & pass;
                    scores[doc] = before + (pass != 0 ? score : 0);
                }

                positions[l] = i;
            }
        }

        return count;
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
    /// A segment's terms enumerator for one field, kept per thread across queries: creating one clones
    /// memory-mapped inputs, which Lucene.Net makes costly. Keyed weakly by the segment's core, so it
    /// goes when the segment goes; a segment that is searched is open, so the enumerator of its core is
    /// valid whenever it is used.
    /// </summary>
    private static class SegmentTerms
    {
        [ThreadStatic]
        private static ConditionalWeakTable<object, Dictionary<string, TermsEnum?>>? t_cache;

        public static TermsEnum? For(AtomicReader reader, string field)
        {
            var cache = t_cache ??= [];
            var byField = cache.GetValue(reader.CoreCacheKey, static _ => new Dictionary<string, TermsEnum?>(StringComparer.Ordinal));
            if (!byField.TryGetValue(field, out var terms))
            {
                terms = reader.GetTerms(field)?.GetEnumerator();
                byField[field] = terms;
            }

            return terms;
        }
    }

    /// <summary>The filter's bits, read straight from the words when they are a <see cref="FixedBitSet"/> (the usual case: no deletions).</summary>
    private readonly struct Acceptance(IBits bits)
    {
        private readonly long[]? _words = (bits as FixedBitSet)?.GetBits();

        /// <summary>1 when the document passes, 0 when not.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Bit(int doc) => _words is not null ? (int)((ulong)_words[doc >> 6] >> doc) & 1 : (bits.Get(doc) ? 1 : 0);
    }

    /// <summary>What the length normalisation of one field needs in one segment.</summary>
    private readonly record struct FieldScoring(float[]? Lengths, float K1, float Constant, float PerToken);

    /// <summary>One term of one field in one segment: its postings and its weight (idf * field weight * count in the query * (k1 + 1)).</summary>
    private sealed record PostingsList(Postings Postings, float Weight, FieldScoring Scoring);

    /// <summary>
    /// Score accumulators reused by one thread across queries (scores are positive, so 0 means
    /// untouched), and room for the list of touched documents, which holds each document once at most.
    /// </summary>
    private sealed class Scratch
    {
        /// <summary>Documents taken at a time: their accumulators and lengths (32 KB) stay in the first-level cache.</summary>
        public const int Stretch = 4096;

        public float[] Scores { get; private set; } = [];

        public int[] Touched { get; private set; } = [];

        /// <summary>Per list, the next posting to read.</summary>
        public int[] Positions { get; private set; } = [];

        public void Prepare(int maxDoc, int lists)
        {
            if (Scores.Length < maxDoc)
            {
                var length = Math.Max(maxDoc, Scores.Length * 2);
                Scores = new float[length];

                // One more: the last slot is written (and not counted) after every document is in.
                Touched = new int[length + 1];
            }

            if (Positions.Length < lists)
            {
                Positions = new int[lists];
            }
        }
    }

    /// <summary>The best hits seen so far: a min-heap on (score, then higher document number is worse).</summary>
    private sealed class TopHits(int limit)
    {
        private readonly List<ScoreDoc> _heap = new(Math.Min(limit, 1024));

        /// <summary>The lowest score that may still get in (ties are decided by document number): none until the heap is full.</summary>
        public float Floor => _heap.Count < limit ? float.NegativeInfinity : _heap[0].Score;

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
