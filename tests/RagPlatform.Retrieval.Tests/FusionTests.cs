using RagPlatform.Contracts.V1;
using RagPlatform.Retrieval.Tests.Harness;
using Mode = RagPlatform.Contracts.V1.RetrievalMode;

namespace RagPlatform.Retrieval.Tests;

/// <summary>
/// Documents that share the query's words in different measure, some that share none (vector
/// candidates only), and two identical twins whose scores tie in both lists.
/// </summary>
public sealed class FusionCorpusServer : RagTestServer
{
    public const string Tenant = "fusion";

    protected override bool WithEmbedder => true;

    protected override async Task SeedAsync()
    {
        string[] words = ["river", "stone", "bridge", "mill", "orchard", "lantern", "harbor", "meadow"];
        string[] others = ["copper", "falcon", "glacier", "summit", "willow", "cobalt"];
        var docs = Enumerable.Range(0, 20)
            .Select(i => Wire.Text(
                $"d{i}",
                string.Join(' ', Enumerable.Range(0, 6 + (i % 7)).Select(j => words[((i * 3) + (j * ((i % 4) + 1))) % words.Length])) + $" entry {i}.",
                "public"))
            .Concat(Enumerable.Range(0, 6).Select(i => Wire.Text($"o{i}", string.Join(' ', others.Skip(i).Concat(others.Take(i))) + ".", "public")))
            .Append(Twin("twin-a", "public"))
            .Append(Twin("twin-b", "public"));
        var pushed = await this.PushAsync(Tenant, [.. docs]);

        // An ACL change rewrites the index entries of the twin whose chunk id sorts first after the
        // other's: the index now meets the twins in the opposite order to their chunk ids.
        var first = pushed.Results.Where(r => r.ExternalKey.StartsWith("twin-", StringComparison.Ordinal))
            .OrderBy(r => r.DocumentId.Replace("-", string.Empty, StringComparison.Ordinal), StringComparer.Ordinal)
            .First();
        await this.PushAsync(Tenant, Twin(first.ExternalKey, "public", "group:twins"));
    }

    /// <summary>Same text and same title (the title is searched too), so the same scores.</summary>
    private static PushedDocument Twin(string key, params string[] acl)
    {
        var doc = Wire.Text(key, "River bridge lantern twin.", acl);
        doc.Title = "Twin";
        return doc;
    }
}

/// <summary>Fused scores over the wire are the arithmetic of the ranks each hit reports, and those ranks are the indexes' own.</summary>
public sealed class FusionTests(FusionCorpusServer server) : IClassFixture<FusionCorpusServer>
{
    private const string Query = "river bridge lantern";

    [Theory]
    [InlineData(null)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1000)]
    public async Task A_hybrid_hits_fused_score_is_the_reciprocal_rank_sum_of_the_ranks_it_reports(int? k)
    {
        var request = Wire.Query(FusionCorpusServer.Tenant, Query, topK: 100, mode: Mode.Hybrid);
        if (k is not null)
        {
            request.Fusion = new Contracts.V1.Fusion { Rrf = new Contracts.V1.ReciprocalRankFusion { K = k.Value } };
        }

        var response = await server.RetrieveAsync(request);

        var kk = k ?? 60;
        Assert.Equal(Mode.Hybrid, response.ModeUsed);
        Assert.Contains(response.Hits, h => h.Scores.HasKeywordRank && h.Scores.HasVectorRank);
        Assert.Contains(response.Hits, h => !h.Scores.HasKeywordRank);
        foreach (var hit in response.Hits)
        {
            var s = hit.Scores;
            var expected = (s.HasKeywordRank ? 1.0 / (kk + s.KeywordRank) : 0) + (s.HasVectorRank ? 1.0 / (kk + s.VectorRank) : 0);
            Assert.Equal(expected, s.FusedScore, 12);
            Assert.Equal(s.FusedScore, s.FinalScore);
        }

        AssertOrdered(response);
    }

    [Fact]
    public async Task The_ranks_a_hybrid_hit_reports_are_those_of_the_keyword_and_vector_searches()
    {
        var hybrid = await server.RetrieveAsync(Wire.Query(FusionCorpusServer.Tenant, Query, topK: 100, mode: Mode.Hybrid));
        var keyword = await server.RetrieveAsync(Wire.Query(FusionCorpusServer.Tenant, Query, topK: 100, mode: Mode.Keyword));
        var vector = await server.RetrieveAsync(Wire.Query(FusionCorpusServer.Tenant, Query, topK: 100, mode: Mode.Vector));

        var keywordRanks = keyword.Hits.ToDictionary(h => h.ChunkId, h => (h.Scores.KeywordRank, h.Scores.KeywordScore));
        var vectorRanks = vector.Hits.ToDictionary(h => h.ChunkId, h => (h.Scores.VectorRank, h.Scores.VectorScore));
        foreach (var hit in hybrid.Hits)
        {
            var s = hit.Scores;
            Assert.Equal(keywordRanks.TryGetValue(hit.ChunkId, out var k) ? k : ((int, float)?)null, s.HasKeywordRank ? (s.KeywordRank, s.KeywordScore) : null);
            Assert.Equal(vectorRanks.TryGetValue(hit.ChunkId, out var v) ? v : ((int, float)?)null, s.HasVectorRank ? (s.VectorRank, s.VectorScore) : null);
        }

        Assert.Equal(Enumerable.Range(1, keyword.Hits.Count), keyword.Hits.Select(h => h.Scores.KeywordRank).Order());
        Assert.Equal(Enumerable.Range(1, vector.Hits.Count), vector.Hits.Select(h => h.Scores.VectorRank).Order());

        // Every chunk of the tenant is a vector candidate; the keyword ones are all among the hybrid hits.
        Assert.Equal(vector.Hits.Count, hybrid.Hits.Count);
        Assert.Superset(keyword.Hits.Select(h => h.ChunkId).ToHashSet(), hybrid.Hits.Select(h => h.ChunkId).ToHashSet());
    }

    [Theory]
    [InlineData(Mode.Keyword)]
    [InlineData(Mode.Vector)]
    public async Task In_a_single_list_mode_the_nth_hit_reports_rank_n_even_among_tied_scores(Mode mode)
    {
        var response = await server.RetrieveAsync(Wire.Query(FusionCorpusServer.Tenant, Query, topK: 100, mode: mode));

        // The twins tie in both lists; the hits put them in chunk-id order, so must their ranks.
        var twins = response.Hits.Where(h => h.Text == "River bridge lantern twin.").ToList();
        Assert.Equal(2, twins.Count);
        Assert.Equal(twins[0].Scores.FinalScore, twins[1].Scores.FinalScore);
        Assert.Equal(
            Enumerable.Range(1, response.Hits.Count),
            response.Hits.Select(h => mode == Mode.Keyword ? h.Scores.KeywordRank : h.Scores.VectorRank));
    }

    [Fact]
    public async Task Weighted_fusion_scores_lie_between_zero_and_the_sum_of_the_weights_and_order_the_hits()
    {
        var request = Wire.Query(FusionCorpusServer.Tenant, Query, topK: 100, mode: Mode.Hybrid);
        request.Fusion = new Contracts.V1.Fusion { Weighted = new Contracts.V1.WeightedFusion { KeywordWeight = 0.25, VectorWeight = 0.75 } };

        var response = await server.RetrieveAsync(request);

        Assert.All(response.Hits, h => Assert.InRange(h.Scores.FusedScore, 0, 1.0 + 1e-9));

        // The best keyword hit is normalised to 1 and the best vector hit too.
        var bestKeyword = response.Hits.Single(h => h.Scores.HasKeywordRank && h.Scores.KeywordRank == 1);
        var bestVector = response.Hits.Single(h => h.Scores.HasVectorRank && h.Scores.VectorRank == 1);
        Assert.True(bestKeyword.Scores.FusedScore >= 0.25 - 1e-9);
        Assert.True(bestVector.Scores.FusedScore >= 0.75 - 1e-9);
        AssertOrdered(response);
    }

    [Theory]
    [InlineData(Mode.Keyword)]
    [InlineData(Mode.Vector)]
    public async Task A_single_list_mode_reports_the_indexes_own_score_as_the_fused_score(Mode mode)
    {
        var response = await server.RetrieveAsync(Wire.Query(FusionCorpusServer.Tenant, Query, topK: 100, mode: mode));

        Assert.NotEmpty(response.Hits);
        foreach (var hit in response.Hits)
        {
            var s = hit.Scores;
            var own = mode == Mode.Keyword ? s.KeywordScore : s.VectorScore;
            Assert.True(mode == Mode.Keyword ? s.HasKeywordRank : s.HasVectorRank);
            Assert.False(mode == Mode.Keyword ? s.HasVectorRank : s.HasKeywordRank);
            Assert.Equal(own, s.FusedScore, 6);
            Assert.Equal(s.FusedScore, s.FinalScore);
        }

        if (mode == Mode.Vector)
        {
            Assert.All(response.Hits, h => Assert.InRange(h.Scores.VectorScore, -1.0001f, 1.0001f));
        }

        AssertOrdered(response);
    }

    [Fact]
    public async Task Min_score_drops_the_hits_below_it_and_keeps_the_rest()
    {
        var all = await server.RetrieveAsync(Wire.Query(FusionCorpusServer.Tenant, Query, topK: 100, mode: Mode.Keyword));
        var threshold = all.Hits[all.Hits.Count / 2].Scores.FinalScore;
        var request = Wire.Query(FusionCorpusServer.Tenant, Query, topK: 100, mode: Mode.Keyword);
        request.MinScore = threshold;

        var filtered = await server.RetrieveAsync(request);

        Assert.Equal(all.Hits.Where(h => h.Scores.FinalScore >= threshold).Select(h => h.ChunkId), filtered.Hits.Select(h => h.ChunkId));
        Assert.True(filtered.Hits.Count < all.Hits.Count);
    }

    [Fact]
    public async Task Mmr_picks_top_k_distinct_hits_from_the_candidates()
    {
        var request = Wire.Query(FusionCorpusServer.Tenant, Query, topK: 5, mode: Mode.Hybrid);
        request.Diversity = new Diversity { MmrLambda = 0.3 };

        var diverse = await server.RetrieveAsync(request);
        var plain = await server.RetrieveAsync(Wire.Query(FusionCorpusServer.Tenant, Query, topK: 15, mode: Mode.Hybrid));

        Assert.Equal(5, diverse.Hits.Count);
        Assert.Equal(5, diverse.Hits.Select(h => h.ChunkId).Distinct().Count());

        // MMR chooses among the top_k × 3 best fused candidates, and the best one always comes first.
        Assert.Subset(plain.Hits.Select(h => h.ChunkId).ToHashSet(), diverse.Hits.Select(h => h.ChunkId).ToHashSet());
        Assert.Equal(plain.Hits[0].ChunkId, diverse.Hits[0].ChunkId);
        Assert.True(diverse.TimingsUs.ContainsKey("mmr"));
        Assert.DoesNotContain(diverse.Skipped, s => s.Stage == "mmr");

        // Diversity changed the answer: it is not simply the five best.
        Assert.NotEqual(plain.Hits.Take(5).Select(h => h.ChunkId), diverse.Hits.Select(h => h.ChunkId));
    }

    private static void AssertOrdered(RetrieveResponse response)
    {
        for (var i = 1; i < response.Hits.Count; i++)
        {
            var (a, b) = (response.Hits[i - 1], response.Hits[i]);
            Assert.True(
                a.Scores.FinalScore > b.Scores.FinalScore || (a.Scores.FinalScore == b.Scores.FinalScore && string.CompareOrdinal(a.ChunkId, b.ChunkId) < 0),
                $"hit {i} ({b.ChunkId}, {b.Scores.FinalScore}) is out of order after {a.ChunkId} ({a.Scores.FinalScore})");
        }
    }
}
