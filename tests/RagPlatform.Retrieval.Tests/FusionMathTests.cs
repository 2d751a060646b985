using RagPlatform.Core.Indexing;
using RagPlatform.Retrieval.Internal;

namespace RagPlatform.Retrieval.Tests;

/// <summary>The fusion arithmetic, checked against values worked out by hand.</summary>
public sealed class FusionMathTests
{
    private static readonly Guid Doc = Guid.Parse("00000000-0000-0000-0000-000000000001");

    [Fact]
    public void Reciprocal_rank_fusion_sums_one_over_k_plus_rank_over_the_lists()
    {
        var keyword = List(("a", 12f), ("b", 9f), ("c", 3f));
        var vector = List(("c", 0.9f), ("a", 0.8f), ("d", 0.1f));

        var fused = FusionMath.Fuse(keyword, vector, new ReciprocalRankFusion(60));

        // a: 1/61 + 1/62 = 0.0325224; c: 1/63 + 1/61 = 0.0322664; b: 1/62; d: 1/63.
        Assert.Equal(["a", "c", "b", "d"], fused.Select(c => c.ChunkId));
        Assert.Equal((1.0 / 61) + (1.0 / 62), fused[0].Fused, 12);
        Assert.Equal((1.0 / 63) + (1.0 / 61), fused[1].Fused, 12);
        Assert.Equal(1.0 / 62, fused[2].Fused, 12);
        Assert.Equal(1.0 / 63, fused[3].Fused, 12);
    }

    [Fact]
    public void Reciprocal_rank_fusion_remembers_each_candidates_ranks_and_scores()
    {
        var fused = FusionMath.Fuse(List(("a", 12f), ("b", 9f)), List(("b", 0.7f), ("z", 0.2f)), new ReciprocalRankFusion(60));

        var a = fused.Single(c => c.ChunkId == "a");
        var b = fused.Single(c => c.ChunkId == "b");
        var z = fused.Single(c => c.ChunkId == "z");
        Assert.Equal((1, 12f, (int?)null, (float?)null), (a.KeywordRank, a.KeywordScore, a.VectorRank, a.VectorScore));
        Assert.Equal((2, 9f, 1, 0.7f), (b.KeywordRank, b.KeywordScore, b.VectorRank, b.VectorScore));
        Assert.Equal(((int?)null, (float?)null, 2, 0.2f), (z.KeywordRank, z.KeywordScore, z.VectorRank, z.VectorScore));
    }

    [Fact]
    public void A_small_k_weighs_the_top_ranks_heavily()
    {
        var fused = FusionMath.Fuse(List(("a", 5f), ("b", 4f)), List(("b", 0.9f), ("a", 0.1f)), new ReciprocalRankFusion(1));

        // Both: 1/2 + 1/3, a tie broken by chunk id.
        Assert.All(fused, c => Assert.Equal((1.0 / 2) + (1.0 / 3), c.Fused, 12));
        Assert.Equal(["a", "b"], fused.Select(c => c.ChunkId));
    }

    [Fact]
    public void Weighted_fusion_min_max_normalises_each_list_and_weighs_them()
    {
        var keyword = List(("a", 10f), ("b", 6f), ("c", 2f));
        var vector = List(("c", 0.9f), ("a", 0.5f), ("d", 0.1f));

        var fused = FusionMath.Fuse(keyword, vector, new WeightedFusion(0.3, 0.7));

        // Keyword normalised: a 1, b 0.5, c 0. Vector normalised: c 1, a 0.5, d 0.
        // a: 0.3 + 0.35 = 0.65; b: 0.15; c: 0.7; d: 0.
        Assert.Equal(["c", "a", "b", "d"], fused.Select(c => c.ChunkId));
        Assert.Equal([0.7, 0.65, 0.15, 0.0], fused.Select(c => Math.Round(c.Fused, 6)));
    }

    [Fact]
    public void Weighted_fusion_counts_a_list_whose_scores_are_all_equal_as_all_best()
    {
        var fused = FusionMath.Fuse(List(("a", 3f), ("b", 3f)), List(("b", 0.9f), ("c", 0.3f)), new WeightedFusion(1, 1));

        // Keyword: both 1. Vector: b 1, c 0.
        Assert.Equal(["b", "a", "c"], fused.Select(c => c.ChunkId));
        Assert.Equal([2.0, 1.0, 0.0], fused.Select(c => Math.Round(c.Fused, 6)));
    }

    [Fact]
    public void Weighted_fusion_with_one_weight_zero_ranks_by_the_other_list_alone()
    {
        var fused = FusionMath.Fuse(List(("a", 10f), ("b", 1f)), List(("b", 0.9f), ("a", 0.2f)), new WeightedFusion(0, 1));

        Assert.Equal(["b", "a"], fused.Select(c => c.ChunkId));
        Assert.Equal([1.0, 0.0], fused.Select(c => Math.Round(c.Fused, 6)));
    }

    [Fact]
    public void Equal_fused_scores_are_ordered_by_chunk_id_whatever_the_input_order()
    {
        var forward = FusionMath.Fuse(List(("m", 2f), ("k", 1f)), List(("k", 0.9f), ("m", 0.8f)), new ReciprocalRankFusion(60));
        var backward = FusionMath.Fuse(List(("k", 2f), ("m", 1f)), List(("m", 0.9f), ("k", 0.8f)), new ReciprocalRankFusion(60));

        Assert.Equal(["k", "m"], forward.Select(c => c.ChunkId));
        Assert.Equal(["k", "m"], backward.Select(c => c.ChunkId));
        Assert.Equal(forward[0].Fused, forward[1].Fused);
    }

    [Fact]
    public void Ties_in_a_single_list_are_ordered_by_chunk_id_too()
    {
        var fused = FusionMath.Fuse(List(("z", 1.5f), ("b", 1.5f), ("q", 1.5f)), [], new ReciprocalRankFusion(60));

        Assert.Equal(["b", "q", "z"], fused.Select(c => c.ChunkId));
    }

    [Fact]
    public void Equal_index_scores_are_ranked_in_chunk_id_order_so_ranks_follow_the_hit_order()
    {
        // An index returns equal scores in its own internal order (Lucene: by segment and doc id,
        // which merges change). Ranks taken from that order disagree with the chunk-id order the
        // hits come in, and make RRF depend on the index's internals.
        var keyword = List(("b", 2f), ("a", 2f), ("c", 1f));
        var vector = List(("y", 0.5f), ("x", 0.5f));

        var keywordOnly = FusionMath.Fuse(keyword, [], new ReciprocalRankFusion(60));
        var fused = FusionMath.Fuse(keyword, vector, new ReciprocalRankFusion(60));

        Assert.Equal(["a", "b", "c"], keywordOnly.Select(c => c.ChunkId));
        Assert.Equal([1, 2, 3], keywordOnly.Select(c => c.KeywordRank!.Value));
        Assert.Equal(1, fused.Single(c => c.ChunkId == "a").KeywordRank);
        Assert.Equal(1, fused.Single(c => c.ChunkId == "x").VectorRank);
    }

    [Fact]
    public void Keyword_only_keeps_the_bm25_score_as_the_fused_score()
    {
        var fused = FusionMath.Fuse(List(("a", 7.25f), ("b", 3.5f)), [], new ReciprocalRankFusion(60));

        Assert.Equal([7.25, 3.5], fused.Select(c => c.Fused));
        Assert.Equal([1, 2], fused.Select(c => c.KeywordRank!.Value));
        Assert.All(fused, c => Assert.Null(c.VectorRank));
    }

    [Fact]
    public void Vector_only_keeps_the_cosine_even_when_negative_and_whatever_the_fusion()
    {
        var fused = FusionMath.Fuse([], List(("a", 0.25f), ("b", -0.5f)), new WeightedFusion(0.9, 0.1));

        Assert.Equal([0.25, -0.5], fused.Select(c => c.Fused));
        Assert.Equal([1, 2], fused.Select(c => c.VectorRank!.Value));
    }

    [Fact]
    public void Nothing_from_either_list_fuses_to_nothing()
        => Assert.Empty(FusionMath.Fuse([], [], Fusion.Default));

    [Theory]
    [InlineData(5, 0, 10, 0.5)]
    [InlineData(0, 0, 10, 0)]
    [InlineData(10, 0, 10, 1)]
    [InlineData(-1, -3, 1, 0.5)]
    [InlineData(4, 4, 4, 1)]
    public void Normalise_maps_min_to_0_and_max_to_1(double score, double min, double max, double expected)
        => Assert.Equal(expected, FusionMath.Normalise(score, min, max), 12);

    private static List<ScoredChunk> List(params (string Id, float Score)[] entries)
        => [.. entries.Select(e => new ScoredChunk(e.Id, Doc, 1, e.Score))];
}
