using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Util;

namespace RagPlatform.Storage.Keyword.Internal;

/// <summary>
/// Field lengths and the postings of searched terms, per segment, decoded into plain arrays and shared
/// by all searching threads. Reading postings through Lucene.Net (block decoding behind virtual calls
/// and memory-mapped buffers, the filter's bits checked through an interface) and lengths through
/// packed readers cost more than the scoring itself. Segments are immutable, so what
/// was read once stays true for the segment's life: deleted documents stay in the arrays and are
/// dropped by the filter's bits, which only hold live documents. Entries are keyed weakly by the
/// segment's core, so they go when a merge retires the segment.
/// </summary>
internal sealed class PostingsCache(long capacityBytes)
{
    /// <summary>
    /// Postings of the terms searched most are worth keeping whatever the index size; this caps the
    /// memory they take (6 bytes a posting: every term of 100,000 chunks of 200 words takes about 60 MB).
    /// </summary>
    public const long DefaultCapacityBytes = 256L * 1024 * 1024;

    private readonly ConditionalWeakTable<object, Segment> _segments = [];

    /// <summary>
    /// Each document's length in the field, which <see cref="ExactLengthBm25Similarity"/> stores as the
    /// norm; null when the segment has no norms for the field. Exact in a float: lengths are far below 2^24.
    /// Not counted against the capacity: every query needs them, and they take 4 bytes a document.
    /// </summary>
    public float[]? Lengths(AtomicReader reader, string field)
        => SegmentOf(reader).Lengths.GetOrAdd(field, static (f, r) => ReadLengths(r, f), reader);

    /// <summary>
    /// The postings of <paramref name="term"/>, on which <paramref name="termsEnum"/> is positioned: kept
    /// when the capacity allows, otherwise read into arrays rented for this query, which the caller hands
    /// back with <see cref="Return"/>.
    /// </summary>
    public Postings Get(AtomicReader reader, string field, BytesRef term, TermsEnum termsEnum)
    {
        var segment = SegmentOf(reader);
        if (segment.Terms.TryGetValue((field, term), out var cached))
        {
            return cached;
        }

        var count = termsEnum.DocFreq;
        var bytes = 6L * count;
        if (Used() + bytes > capacityBytes)
        {
            return Read(reader, termsEnum, rented: true);
        }

        var postings = Read(reader, termsEnum, rented: false);
        if (segment.Terms.TryAdd((field, BytesRef.DeepCopyOf(term)), postings))
        {
            Interlocked.Add(ref segment.Bytes, postings.WideFreqs is null ? bytes : bytes + (4L * count));
        }

        return postings;
    }

    public static void Return(Postings postings)
    {
        if (postings.Rented)
        {
            ArrayPool<int>.Shared.Return(postings.Docs);
            ArrayPool<ushort>.Shared.Return(postings.Freqs);
            if (postings.WideFreqs is { } wide)
            {
                ArrayPool<int>.Shared.Return(wide);
            }
        }
    }

    /// <summary>Bytes held for segments still alive; retired segments drop out as they are collected.</summary>
    private long Used()
    {
        long used = 0;
        foreach (var (_, segment) in _segments)
        {
            used += Volatile.Read(ref segment.Bytes);
        }

        return used;
    }

    private Segment SegmentOf(AtomicReader reader) => _segments.GetValue(reader.CoreCacheKey, static _ => new Segment());

    private static Postings Read(AtomicReader reader, TermsEnum termsEnum, bool rented)
    {
        var count = termsEnum.DocFreq;
        var docs = rented ? ArrayPool<int>.Shared.Rent(count) : new int[count];
        var freqs = rented ? ArrayPool<ushort>.Shared.Rent(count) : new ushort[count];
        int[]? wide = null;

        // Every document, live or not: the arrays outlive deletions, and the filter's bits drop the deleted ones.
        var enumerator = termsEnum.Docs(null, null, DocsFlags.FREQS);
        var n = 0;
        int doc;
        while ((doc = enumerator.NextDoc()) != DocIdSetIterator.NO_MORE_DOCS)
        {
            if (n == count)
            {
                throw new InvalidDataException($"a term of {reader} has more postings than its document frequency; the index is damaged");
            }

            var freq = enumerator.Freq;
            if (freq > ushort.MaxValue && wide is null)
            {
                // A word repeated more than 65,535 times in one chunk: this term keeps its frequencies in full.
                wide = rented ? ArrayPool<int>.Shared.Rent(count) : new int[count];
                for (var i = 0; i < n; i++)
                {
                    wide[i] = freqs[i];
                }
            }

            docs[n] = doc;
            if (wide is not null)
            {
                wide[n] = freq;
            }
            else
            {
                freqs[n] = (ushort)freq;
            }

            n++;
        }

        return new Postings(docs, freqs, wide, n, rented);
    }

    private static float[]? ReadLengths(AtomicReader reader, string field)
    {
        var norms = reader.GetNormValues(field);
        if (norms is null)
        {
            return null;
        }

        var lengths = new float[reader.MaxDoc];
        for (var doc = 0; doc < lengths.Length; doc++)
        {
            lengths[doc] = norms.Get(doc);
        }

        return lengths;
    }

    private sealed class Segment
    {
        public long Bytes;

        public ConcurrentDictionary<string, float[]?> Lengths { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<(string Field, BytesRef Term), Postings> Terms { get; } = new();
    }
}

/// <summary>
/// One term's postings in a segment: the first <see cref="Count"/> entries of <see cref="Docs"/>, in
/// increasing order, and at the same index the term's frequency in the document, in <see cref="Freqs"/>
/// or, for a term with a frequency that does not fit 16 bits, in <see cref="WideFreqs"/>.
/// </summary>
internal sealed record Postings(int[] Docs, ushort[] Freqs, int[]? WideFreqs, int Count, bool Rented)
{
    public int Freq(int index) => WideFreqs is null ? Freqs[index] : WideFreqs[index];
}
