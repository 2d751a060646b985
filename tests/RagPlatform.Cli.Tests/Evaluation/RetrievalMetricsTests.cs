using RagPlatform.Cli.Evaluation;

namespace RagPlatform.Cli.Tests.Evaluation;

/// <summary>The metrics against values worked out by hand with trec_eval's definitions.</summary>
public sealed class RetrievalMetricsTests
{
    private static readonly double Log2Of3 = Math.Log2(3);

    [Fact]
    public void A_relevant_document_at_the_top_scores_one_on_every_metric()
    {
        var score = RetrievalMetrics.Score(["d1", "d2"], Relevant("d1"));

        Assert.Equal(new QueryMetrics(1, 1, 1, 1), score);
    }

    [Fact]
    public void Two_relevant_documents_at_ranks_two_and_four_score_as_worked_out_by_hand()
    {
        // DCG = 1/log2(3) + 1/log2(5); ideal DCG = 1 + 1/log2(3).
        // AP = (1/2 + 2/4) / 2. A grade of 0 is judged but not relevant.
        var judgements = new Dictionary<string, int> { ["d1"] = 0, ["d2"] = 1, ["d4"] = 2 };

        var score = RetrievalMetrics.Score(["d1", "d2", "d3", "d4"], judgements)!.Value;

        Assert.Equal((1 / Log2Of3 + 1 / Math.Log2(5)) / (1 + 1 / Log2Of3), score.NdcgAt10, 12);
        Assert.Equal(0.6509209298, score.NdcgAt10, 9);
        Assert.Equal(1.0, score.RecallAt100, 12);
        Assert.Equal(0.5, score.MrrAt10, 12);
        Assert.Equal(0.5, score.MapAt100, 12);
    }

    [Fact]
    public void Fewer_than_ten_results_are_scored_against_all_relevant_documents()
    {
        // d9 is relevant but not retrieved: it still counts in the ideal DCG, recall and AP.
        var score = RetrievalMetrics.Score(["d1", "d2", "d3"], Relevant("d2", "d9"))!.Value;

        Assert.Equal(0.3868528072, score.NdcgAt10, 9);
        Assert.Equal(0.5, score.RecallAt100, 12);
        Assert.Equal(0.5, score.MrrAt10, 12);
        Assert.Equal(0.25, score.MapAt100, 12);
    }

    [Fact]
    public void No_relevant_document_retrieved_scores_zero()
    {
        Assert.Equal(new QueryMetrics(0, 0, 0, 0), RetrievalMetrics.Score(["d1", "d2"], Relevant("d7")));
        Assert.Equal(new QueryMetrics(0, 0, 0, 0), RetrievalMetrics.Score([], Relevant("d7")));
    }

    [Fact]
    public void Relevant_documents_count_only_within_each_metrics_cutoff()
    {
        // Relevant at rank 11 (outside nDCG@10 and MRR@10, inside Recall@100 and MAP@100) and at rank 101 (outside all).
        var ranking = Enumerable.Range(1, 150).Select(i => $"d{i:000}").ToList();

        var score = RetrievalMetrics.Score(ranking, Relevant("d011", "d101"))!.Value;

        Assert.Equal(0.0, score.NdcgAt10);
        Assert.Equal(0.0, score.MrrAt10);
        Assert.Equal(0.5, score.RecallAt100, 12);
        Assert.Equal(1.0 / 11 / 2, score.MapAt100, 12);
    }

    [Fact]
    public void The_ideal_ranking_is_cut_at_ten_when_a_query_has_more_relevant_documents()
    {
        var twelve = Enumerable.Range(1, 12).Select(i => $"d{i:00}").ToArray();

        var score = RetrievalMetrics.Score(twelve, Relevant(twelve))!.Value;

        Assert.Equal(1.0, score.NdcgAt10, 12);
        Assert.Equal(1.0, score.MapAt100, 12);
    }

    [Fact]
    public void A_query_without_relevant_documents_is_skipped_in_the_average()
    {
        Assert.Null(RetrievalMetrics.Score(["d1"], new Dictionary<string, int> { ["d1"] = 0 }));
        Assert.Null(RetrievalMetrics.Score(["d1"], new Dictionary<string, int>()));

        var average = RetrievalMetrics.Average([new QueryMetrics(1, 1, 1, 1), new QueryMetrics(0.5, 0, 0.25, 0)]);

        Assert.Equal(new MetricsSummary(0.75, 0.5, 0.625, 0.5, 2), average);
    }

    [Fact]
    public void Ties_are_broken_by_document_id_descending_as_trec_eval_does()
    {
        var ranked = RetrievalMetrics.RankDocuments([("a", 2.0), ("b", 3.0), ("c", 2.0), ("d", 1.0), ("ab", 2.0)]);

        Assert.Equal(["b", "c", "ab", "a", "d"], ranked);

        // So a relevant "a" tied with "c" and "ab" comes after them, whatever order the hits arrived in.
        var reversed = RetrievalMetrics.RankDocuments([("ab", 2.0), ("d", 1.0), ("c", 2.0), ("b", 3.0), ("a", 2.0)]);
        Assert.Equal(ranked, reversed);
        Assert.Equal(0.25, RetrievalMetrics.Score(ranked, Relevant("a"))!.Value.MrrAt10, 12);
    }

    [Fact]
    public void Ties_compare_ids_by_code_point_as_strcmp_compares_utf8()
    {
        // UTF-16 ordinal order puts the surrogate pair of U+1F600 before U+FFFD; UTF-8 bytes (and trec_eval) put it after.
        var ranked = RetrievalMetrics.RankDocuments([("\uFFFD", 1.0), ("\U0001F600", 1.0)]);

        Assert.Equal(["\U0001F600", "\uFFFD"], ranked);
    }

    [Fact]
    public void Several_chunks_of_one_document_count_once_at_the_rank_of_the_best()
    {
        var ranked = RetrievalMetrics.RankDocuments([("x", 5.0), ("x", 4.0), ("y", 3.0), ("x", 6.0), ("z", 4.5)]);

        Assert.Equal(["x", "z", "y"], ranked);
        var score = RetrievalMetrics.Score(ranked, Relevant("y"))!.Value;
        Assert.Equal(1.0 / 3, score.MrrAt10, 12);
        Assert.Equal(0.5, score.NdcgAt10, 12);
    }

    [Fact]
    public void A_repeated_id_in_a_ranking_is_counted_at_its_first_rank_only()
    {
        var score = RetrievalMetrics.Score(["d1", "d1", "d2"], Relevant("d1", "d2"))!.Value;

        Assert.Equal(1.0, score.NdcgAt10, 12);
        Assert.Equal(1.0, score.MapAt100, 12);
    }

    [Fact]
    public void Nearest_rank_percentiles_of_latencies()
    {
        var latency = LatencySummary.From(Enumerable.Range(1, 200).Select(i => (long)i).Reverse().ToList());

        Assert.Equal(new LatencySummary(100, 190, 198), latency);
        Assert.Equal(new LatencySummary(7, 7, 7), LatencySummary.From([7]));
    }

    private static Dictionary<string, int> Relevant(params string[] ids) => ids.ToDictionary(id => id, _ => 1);
}
