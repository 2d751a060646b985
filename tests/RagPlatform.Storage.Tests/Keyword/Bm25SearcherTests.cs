using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Store;
using RagPlatform.Core.Indexing;
using RagPlatform.Storage.Keyword;
using RagPlatform.Storage.Keyword.Internal;
using RagPlatform.Testing;

namespace RagPlatform.Storage.Tests.Keyword;

/// <summary>The hand-written scorer ranks exactly as Lucene scores the same bag-of-words query with the same similarity.</summary>
public sealed class Bm25SearcherTests
{
    private static readonly string[] Vocabulary =
    [
        "protein", "cell", "insulin", "tumour", "gene", "expression", "mouse", "patient", "risk", "blood",
        "pressure", "signal", "pathway", "receptor", "kinase", "therapy", "dose", "response", "brain", "neuron",
        "the", "of", "and", "increased", "reduced", "running", "studies", "Darwin's", "café", "x",
    ];

    [Fact]
    public void Scores_and_order_match_lucenes_boolean_query_across_segments_and_deletions()
    {
        using var temp = new TempDirectory("bm25");
        using var directory = FSDirectory.Open(temp.Path);
        using var analyzer = new EnglishChunkAnalyzer(KeywordStemmer.Porter, KeywordStopWords.Lucene, foldToAscii: true);
        var similarity = new ExactLengthBm25Similarity(0.8f, 0.75f);
        var rng = new Random(99);
        using var writer = new IndexWriter(directory, new IndexWriterConfig(EnglishChunkAnalyzer.Version, analyzer) { Similarity = similarity });
        var ids = new List<string>();
        for (var segment = 0; segment < 4; segment++)
        {
            for (var i = 0; i < 150; i++)
            {
                var chunk = new IndexedChunk
                {
                    ChunkId = $"c{segment}-{i}",
                    DocumentId = Guid.NewGuid(),
                    Version = 1,
                    Tenant = rng.Next(3) == 0 ? "t2" : "t1",
                    SourceId = Guid.Empty,
                    Acl = rng.Next(4) == 0 ? ["group:eng"] : ["public"],
                    Title = Words(rng, 1 + rng.Next(6)),
                    Text = Words(rng, 5 + rng.Next(80)),
                };
                writer.AddDocument(ChunkFields.Create(chunk, KeywordFieldLayout.Combined));
                ids.Add(chunk.ChunkId);
            }

            writer.Commit();
        }

        foreach (var id in ids.Where(_ => rng.Next(10) == 0))
        {
            writer.DeleteDocuments(new Term(ChunkFields.ChunkId, id));
        }

        writer.Commit();
        using var reader = DirectoryReader.Open(directory);
        Assert.True(reader.Leaves.Count > 1, "the test needs several segments");
        var searcher = new IndexSearcher(reader) { Similarity = similarity };
        (string, float)[] fields = [(ChunkFields.Content, 1f), (ChunkFields.Title, 0.25f)];

        for (var round = 0; round < 60; round++)
        {
            var terms = analyzer.AnalyzeQuery(Words(rng, 1 + rng.Next(6)), 1024);
            if (terms.Count == 0)
            {
                continue;
            }

            var filter = KeywordFilters.TenantAndAcl("t1", rng.Next(2) == 0 ? ["public"] : ["public", "group:eng"]);
            var mine = Bm25Searcher.Search(searcher, similarity, terms, fields, filter, 25, new PostingsCache(PostingsCache.DefaultCapacityBytes));
            var lucene = searcher.Search(new FilteredQuery(LuceneQuery(terms, fields), filter), 25).ScoreDocs;

            Assert.Equal(lucene.Length, mine.Length);
            for (var i = 0; i < mine.Length; i++)
            {
                Assert.Equal(lucene[i].Score, mine[i].Score, tolerance: 1e-4f);

                // Documents may swap places only when their scores tie to float precision.
                if (lucene[i].Doc != mine[i].Doc)
                {
                    Assert.Contains(lucene, h => h.Doc == mine[i].Doc && Math.Abs(h.Score - mine[i].Score) < 1e-4);
                }
            }
        }
    }

    private static BooleanQuery LuceneQuery(List<KeyValuePair<string, int>> terms, (string Field, float Weight)[] fields)
    {
        var query = new BooleanQuery(disableCoord: true);
        foreach (var (field, weight) in fields)
        {
            foreach (var (term, count) in terms)
            {
                query.Add(new TermQuery(new Term(field, term)) { Boost = weight * count }, Occur.SHOULD);
            }
        }

        return query;
    }

    private static string Words(Random rng, int count)
        => string.Join(' ', Enumerable.Range(0, count).Select(_ => Vocabulary[rng.Next(Vocabulary.Length)]));
}
