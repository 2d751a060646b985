using RagPlatform.Cli.Evaluation;
using RagPlatform.Core;
using RagPlatform.Testing;

namespace RagPlatform.Cli.Tests.Evaluation;

public sealed class BeirDatasetTests : IDisposable
{
    private readonly TempDirectory _dir = new("beir");

    public BeirDatasetTests() => TinyBeir.Write(_dir);

    [Fact]
    public void A_split_holds_the_judged_queries_only_with_their_grades()
    {
        var split = new BeirDataset(_dir.Path).ReadSplit("test");

        Assert.Equal(["q1", "q2", "q3", "q4"], split.Select(q => q.Id));
        Assert.Equal("owls hunting at night", split[1].Text);
        Assert.Equal(new Dictionary<string, int> { ["d4"] = 1, ["d5"] = 1 }, split[1].Judgements);
        Assert.Equal(0, split[3].Judgements["d5"]);
    }

    [Fact]
    public void Qrels_without_a_header_and_in_trec_four_column_form_are_read()
    {
        _dir.Write(Path.Combine("qrels", "trec.tsv"), "q1\t0\td3\t1\nq2\t0\td4\t2\n");

        var qrels = new BeirDataset(_dir.Path).ReadQrels("trec");

        Assert.Equal(1, qrels["q1"]["d3"]);
        Assert.Equal(2, qrels["q2"]["d4"]);
    }

    [Fact]
    public void A_malformed_qrels_line_is_rejected_with_its_file_and_line()
    {
        _dir.Write(Path.Combine("qrels", "bad.tsv"), "query-id\tcorpus-id\tscore\nq1\td3\t1\nq2 d4 1\n");

        var ex = Assert.Throws<RagValidationException>(() => new BeirDataset(_dir.Path).ReadQrels("bad"));

        Assert.Contains("bad.tsv line 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_judged_query_missing_from_the_queries_is_an_incomplete_dataset()
    {
        _dir.Write(Path.Combine("qrels", "extra.tsv"), "query-id\tcorpus-id\tscore\nq1\td3\t1\nq9\td1\t1\n");

        var ex = Assert.Throws<RagValidationException>(() => new BeirDataset(_dir.Path).ReadSplit("extra"));

        Assert.Contains("(first: 'q9')", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_corpus_line_that_is_not_json_names_its_line()
    {
        _dir.Write("corpus.jsonl", "{\"_id\":\"d1\",\"title\":\"t\",\"text\":\"x\"}\n{not json\n");

        var ex = Assert.Throws<RagValidationException>(() => new BeirDataset(_dir.Path).CorpusItems());

        Assert.Contains("corpus.jsonl line 2 is not valid JSON", ex.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();
}
