using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Store;
using Lucene.Net.Util;
using RagPlatform.Core.Indexing;
using RagPlatform.Storage.Keyword;
using RagPlatform.Storage.Keyword.Internal;
using RagPlatform.Testing;

namespace RagPlatform.Storage.Tests.Keyword;

/// <summary>
/// The searcher returns exactly what plain, exhaustive BM25 returns: the same documents in the same
/// order with bit-identical scores. The reference below reads Lucene's postings and norms directly and
/// adds every contribution up, so it shares nothing with the searcher's arrays, caches or pruning.
/// Random corpora of several segments, with deletions, filters, repeated query words and limits from
/// one to everything; a vocabulary of a few words makes ties common, which is where a ranking that
/// skips work goes wrong first.
/// </summary>
public sealed class Bm25ExactnessTests
{
    private static readonly string[] FewWords = ["cell", "gene", "protein", "risk"];

    private static readonly string[] ManyWords = Enumerable.Range(0, 90).Select(i => "w" + i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private static readonly (string Field, float Weight)[] Fields = [(ChunkFields.Content, 1f), (ChunkFields.Title, 0.25f)];

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    [InlineData(4, true)]
    public void Search_matches_exhaustive_scoring_exactly(int seed, bool ties)
    {
        var rng = new Random(seed);
        var words = ties ? FewWords : ManyWords;
        using var temp = new TempDirectory("bm25-exact");
        using var directory = FSDirectory.Open(temp.Path);
        using var analyzer = new EnglishChunkAnalyzer(KeywordStemmer.None, KeywordStopWords.None, foldToAscii: false);
        var similarity = new ExactLengthBm25Similarity(0.8f, 0.75f);
        var config = new IndexWriterConfig(EnglishChunkAnalyzer.Version, analyzer) { Similarity = similarity, MergePolicy = NoMergePolicy.COMPOUND_FILES };
        using (var writer = new IndexWriter(directory, config))
        {
            // Segments of different sizes; ones before the last lose documents to deletions and updates, the last keeps all.
            var ids = new List<string>();
            var segments = 3 + rng.Next(3);
            for (var segment = 0; segment < segments; segment++)
            {
                var last = segment == segments - 1;
                var size = 1 + rng.Next(segment == 0 ? 3000 : 1200);
                for (var i = 0; i < size; i++)
                {
                    var chunk = Chunk(rng, words, $"s{segment}-{i}");
                    writer.AddDocument(ChunkFields.Create(chunk, KeywordFieldLayout.Combined));
                    if (!last)
                    {
                        ids.Add(chunk.ChunkId);
                    }
                }

                writer.Commit();
                if (segment == segments - 2)
                {
                    foreach (var id in ids.Where(_ => rng.Next(5) == 0))
                    {
                        if (rng.Next(2) == 0)
                        {
                            writer.DeleteDocuments(new Term(ChunkFields.ChunkId, id));
                        }
                        else
                        {
                            writer.UpdateDocument(new Term(ChunkFields.ChunkId, id), ChunkFields.Create(Chunk(rng, words, id), KeywordFieldLayout.Combined));
                        }
                    }

                    writer.Commit();
                }
            }
        }

        using var reader = DirectoryReader.Open(directory);
        Assert.True(reader.Leaves.Count >= 3, "the test needs several segments");
        Assert.True(reader.HasDeletions, "the test needs deletions");
        var searcher = new IndexSearcher(reader) { Similarity = similarity };

        // No room at all (every list read for the query alone), and room for everything (lists kept across queries).
        var caches = new[] { new PostingsCache(0), new PostingsCache(PostingsCache.DefaultCapacityBytes) };
        int[] limits = [1, 2, 3, 10, 25, 100, 1000, 100_000];
        var compared = 0;
        for (var round = 0; round < 150; round++)
        {
            // Long queries too: with many lists the searcher takes another path.
            var length = round % 10 == 9 ? 30 + rng.Next(40) : 1 + rng.Next(8);
            var terms = analyzer.AnalyzeQuery(string.Join(' ', Enumerable.Range(0, length).Select(_ => words[rng.Next(words.Length)])), 1024);
            var filter = round % 3 == 0
                ? KeywordFilters.TenantAndAcl("t1", ["public", "group:eng"])
                : new CachingWrapperFilter(KeywordFilters.TenantAndAcl(rng.Next(4) == 0 ? "t2" : "t1", rng.Next(2) == 0 ? ["public"] : ["group:eng"]));
            var limit = limits[rng.Next(limits.Length)];

            var expected = Exhaustive(searcher, similarity, terms, filter, limit);
            foreach (var cache in caches)
            {
                var actual = Bm25Searcher.Search(searcher, similarity, terms, Fields, filter, limit, cache);
                Assert.Equal(Describe(expected), Describe(actual));
            }

            compared += expected.Length;
        }

        Assert.True(compared > 1000, $"only {compared} hits compared; the corpus or queries do not match enough");
    }

    /// <summary>Every document the filter accepts, scored by adding each (field, term) contribution in sorted term order, field by field.</summary>
    private static ScoreDoc[] Exhaustive(IndexSearcher searcher, ExactLengthBm25Similarity similarity, List<KeyValuePair<string, int>> queryTerms, Filter filter, int limit)
    {
        var terms = queryTerms.Select(t => (Bytes: new BytesRef(t.Key), t.Value)).OrderBy(t => t.Bytes).ToArray();
        var reader = searcher.IndexReader;
        var scores = new Dictionary<int, float>();
        foreach (var (field, fieldWeight) in Fields)
        {
            var stats = searcher.CollectionStatistics(field);
            var documents = stats.DocCount > 0 ? stats.DocCount : stats.MaxDoc;
            var averageLength = stats.SumTotalTermFreq > 0 && documents > 0 ? (float)(stats.SumTotalTermFreq / (double)documents) : 1f;
            var constant = similarity.K1 * (1 - similarity.B);
            var perToken = similarity.K1 * similarity.B / averageLength;
            foreach (var (bytes, count) in terms)
            {
                var docFreq = reader.DocFreq(new Term(field, bytes));
                if (docFreq == 0)
                {
                    continue;
                }

                var idf = Math.Log(1 + ((documents - docFreq + 0.5) / (docFreq + 0.5)));
                var weight = (float)idf * fieldWeight * count * (similarity.K1 + 1);
                foreach (var leaf in reader.Leaves)
                {
                    var bits = filter.GetDocIdSet(leaf, leaf.AtomicReader.LiveDocs)?.Bits;
                    var termsEnum = leaf.AtomicReader.GetTerms(field)?.GetEnumerator();
                    if (bits is null || termsEnum is null || !termsEnum.SeekExact(bytes))
                    {
                        continue;
                    }

                    var norms = leaf.AtomicReader.GetNormValues(field);
                    var docs = termsEnum.Docs(bits, null, DocsFlags.FREQS);
                    int doc;
                    while ((doc = docs.NextDoc()) != DocIdSetIterator.NO_MORE_DOCS)
                    {
                        float freq = docs.Freq;
                        var norm = norms is null ? similarity.K1 : constant + (perToken * norms.Get(doc));
                        var score = weight * freq / (freq + norm);
                        scores[leaf.DocBase + doc] = scores.GetValueOrDefault(leaf.DocBase + doc) + score;
                    }
                }
            }
        }

        return scores
            .OrderByDescending(kv => kv.Value)
            .ThenBy(kv => kv.Key)
            .Take(limit)
            .Select(kv => new ScoreDoc(kv.Key, kv.Value))
            .ToArray();
    }

    /// <summary>Document numbers with the exact bits of their scores, so that a difference in the last place shows.</summary>
    private static string[] Describe(ScoreDoc[] hits)
        => hits.Select(h => $"{h.Doc}:{BitConverter.SingleToInt32Bits(h.Score):x8}").ToArray();

    private static IndexedChunk Chunk(Random rng, string[] words, string id) => new()
    {
        ChunkId = id,
        DocumentId = Guid.NewGuid(),
        Version = 1,
        Tenant = rng.Next(5) == 0 ? "t2" : "t1",
        SourceId = Guid.Empty,
        Acl = rng.Next(3) == 0 ? ["group:eng"] : ["public"],
        Title = rng.Next(4) == 0 ? string.Empty : Words(rng, words, 1 + rng.Next(5)),

        // Mostly short texts, a few long ones: lengths decide scores, and ties need equal lengths.
        Text = Words(rng, words, rng.Next(10) == 0 ? 20 + rng.Next(200) : 1 + rng.Next(12)),
    };

    private static string Words(Random rng, string[] words, int count)
        => string.Join(' ', Enumerable.Range(0, count).Select(_ => words[rng.Next(words.Length)]));
}
