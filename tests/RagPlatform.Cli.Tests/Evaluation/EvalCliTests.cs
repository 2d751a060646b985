using System.Text.Json;
using RagPlatform.Testing;

namespace RagPlatform.Cli.Tests.Evaluation;

/// <summary><c>rag eval</c> as a user runs it, on a tiny BEIR dataset whose rankings are known.</summary>
public sealed class EvalCliTests : IDisposable
{
    // No embedding model, whatever the machine's environment says: hybrid must run as keyword.
    private static readonly Dictionary<string, string?> NoModel = new(StringComparer.Ordinal)
    {
        ["RAG__Embeddings__ModelDirectory"] = string.Empty,
    };

    private readonly TempDirectory _dataset = new("eval-dataset");
    private readonly TempDirectory _data = new("eval-data");

    public EvalCliTests() => TinyBeir.Write(_dataset);

    [Theory]
    [InlineData("keyword")]
    [InlineData("hybrid")]
    public async Task Eval_prints_the_metrics_of_the_tiny_dataset_as_one_json_object(string mode)
    {
        var result = await CliProcess.RunAsync(["eval", _dataset.Path, "--mode", mode, "--json"], NoModel);

        Assert.True(result.ExitCode == 0, CliProcess.Describe(result));
        using var json = JsonDocument.Parse(result.Stdout);
        var root = json.RootElement;
        Assert.Equal(
            ["ndcg_at_10", "recall_at_100", "mrr_at_10", "map_at_100", "queries", "latency_us", "split", "mode", "mode_used"],
            root.EnumerateObject().Select(p => p.Name));
        TinyBeir.AssertExpectedFigures(
            root.GetProperty("ndcg_at_10").GetDouble(),
            root.GetProperty("recall_at_100").GetDouble(),
            root.GetProperty("mrr_at_10").GetDouble(),
            root.GetProperty("map_at_100").GetDouble(),
            root.GetProperty("queries").GetInt32());
        var latency = root.GetProperty("latency_us");
        Assert.Equal(["p50", "p95", "p99"], latency.EnumerateObject().Select(p => p.Name));
        var (p50, p95, p99) = (latency.GetProperty("p50").GetInt64(), latency.GetProperty("p95").GetInt64(), latency.GetProperty("p99").GetInt64());
        Assert.True(p50 > 0 && p50 <= p95 && p95 <= p99, $"percentiles out of order: {latency}");
        Assert.Equal("test", root.GetProperty("split").GetString());
        Assert.Equal(mode, root.GetProperty("mode").GetString());
        Assert.Equal("keyword", root.GetProperty("mode_used").GetString());
    }

    [Theory]
    [InlineData("hybrid")]
    [InlineData("vector")]
    public async Task With_an_embedding_model_every_document_becomes_a_vector_candidate(string mode)
    {
        // The synthetic model has random weights, so its ranking means nothing; but vector search
        // ranks every permitted chunk, so each relevant document of this 5-document corpus is retrieved.
        using var model = SharedModels.Embedder();

        var result = await CliProcess.RunAsync(["eval", _dataset.Path, "--mode", mode, "--json"], new Dictionary<string, string?> { ["RAG__Embeddings__ModelDirectory"] = model.Path });

        Assert.True(result.ExitCode == 0, CliProcess.Describe(result));
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal(mode, json.RootElement.GetProperty("mode_used").GetString());
        Assert.Equal(1.0, json.RootElement.GetProperty("recall_at_100").GetDouble());
        Assert.Equal(3, json.RootElement.GetProperty("queries").GetInt32());
    }

    [Fact]
    public async Task Eval_with_a_data_directory_ingests_once_and_finds_the_corpus_unchanged_the_second_time()
    {
        var first = await CliProcess.RunAsync(["eval", _dataset.Path, "--mode", "keyword", "--data", _data.Path], NoModel);
        var second = await CliProcess.RunAsync(["eval", _dataset.Path, "--mode", "keyword", "--data", _data.Path], NoModel);

        Assert.True(first.ExitCode == 0, CliProcess.Describe(first));
        Assert.True(second.ExitCode == 0, CliProcess.Describe(second));
        Assert.Contains($"corpus: {TinyBeir.Documents} added, 0 updated, 0 unchanged", first.Stdout, StringComparison.Ordinal);
        Assert.Contains($"corpus: 0 added, 0 updated, {TinyBeir.Documents} unchanged, 0 deleted, 0 failed; 0 chunks written in", second.Stdout, StringComparison.Ordinal);
        Assert.Contains("nDCG@10     0.7480", second.Stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_data.Path, "metadata.db")), "the data directory given with --data is kept");
    }

    [Fact]
    public async Task A_split_without_qrels_exits_2_and_names_the_splits_there_are()
    {
        var result = await CliProcess.RunAsync(["eval", _dataset.Path, "--split", "dev"], NoModel);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("dev.tsv does not exist; the splits here are: test", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_folder_that_is_not_a_dataset_exits_2_saying_what_a_dataset_holds()
    {
        var result = await CliProcess.RunAsync(["eval", _data.Path], NoModel);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("a BEIR dataset has corpus.jsonl, queries.jsonl and qrels/SPLIT.tsv", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Vector_mode_without_a_model_exits_2_and_says_to_use_keyword_or_hybrid()
    {
        var result = await CliProcess.RunAsync(["eval", _dataset.Path, "--mode", "vector"], NoModel);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("vector mode needs an embedding model", result.Stderr, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _dataset.Dispose();
        _data.Dispose();
    }
}
