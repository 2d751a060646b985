using System.Text.Json;
using RagPlatform.Testing;

namespace RagPlatform.Cli.Tests.Evaluation;

/// <summary>
/// A BEIR dataset small enough to rank by hand. Keyword rankings (BM25, stemmed, stop words dropped):
/// q1 "beavers build dams": d3 first (relevant d3): every metric 1.
/// q2 "owls hunting at night": d4 (owls, hunt, night), then d1 (hunt); relevant d4 and d5, d5 shares no word:
///    nDCG = 1 / (1 + 1/log2 3) = 0.613147, recall 0.5, MRR 1, AP 0.5.
/// q3 "fish in rivers": d2 (fish, river), then d1 (fish); relevant d1: nDCG = 1/log2 3 = 0.630930, recall 1, MRR 0.5, AP 0.5.
/// q4 is judged with grade 0 only, so it is run but not scored; q5 has no qrels, so it is not run.
/// Means over the 3 scored queries: nDCG 0.748026, recall 0.833333, MRR 0.833333, MAP 0.666667.
/// </summary>
internal static class TinyBeir
{
    public const int Documents = 5;

    public static void Write(TempDirectory dir)
    {
        dir.Write("corpus.jsonl", Lines(
            new { _id = "d1", title = "Herons", text = "Grey herons hunt fish in shallow water." },
            new { _id = "d2", title = "Otters", text = "Otters eat fish and crabs along rivers." },
            new { _id = "d3", title = "Beavers", text = "Beavers build dams from wood." },
            new { _id = "d4", title = "Owls", text = "Owls hunt mice at night." },
            new { _id = "d5", title = "Kestrels", text = "Kestrels hover before diving on voles." }));
        dir.Write("queries.jsonl", Lines(
            new { _id = "q1", text = "beavers build dams" },
            new { _id = "q2", text = "owls hunting at night" },
            new { _id = "q3", text = "fish in rivers" },
            new { _id = "q4", text = "kestrels" },
            new { _id = "q5", text = "voles" }));
        dir.Write(Path.Combine("qrels", "test.tsv"), "query-id\tcorpus-id\tscore\nq1\td3\t1\nq2\td4\t1\nq2\td5\t1\nq3\td1\t1\nq4\td5\t0\n");
    }

    public static void AssertExpectedFigures(double ndcg, double recall, double mrr, double map, int queries)
    {
        Assert.Equal(3, queries);
        Assert.Equal(0.7480, ndcg, 4);
        Assert.Equal(0.8333, recall, 4);
        Assert.Equal(0.8333, mrr, 4);
        Assert.Equal(0.6667, map, 4);
    }

    private static string Lines(params object[] rows) => string.Concat(rows.Select(r => JsonSerializer.Serialize(r) + "\n"));
}
