using RagPlatform.Core;
using RagPlatform.Inference.Reranking;
using RagPlatform.Testing;
using static RagPlatform.Inference.Tests.TestModels;

namespace RagPlatform.Inference.Tests.Reranking;

public sealed class OnnxCrossEncoderRerankerTests
{
    // The synthetic cross-encoder has random weights, so its logits differ from pair to pair only
    // in the fifth or sixth decimal: "same" means within 1e-6, "different" means further apart.
    private const float Same = 1e-7f;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Scores_come_back_in_passage_order_as_if_scored_one_by_one()
    {
        using var dir = CrossEncoderDirectory();
        using var reranker = OnnxCrossEncoderReranker.Load(dir.Path, intraOpThreads: 1, batchSize: 3);
        var query = "how do rivers shape valleys";
        var passages = Enumerable.Range(0, 8).Select(i => Words(2 + ((i * 5) % 9) * 2, offset: i)).ToArray();

        var together = await reranker.ScoreAsync(query, passages, Token);
        var alone = new List<float>();
        foreach (var passage in passages)
        {
            alone.Add((await reranker.ScoreAsync(query, [passage], Token))[0]);
        }

        Assert.Equal(passages.Length, together.Length);
        for (var i = 0; i < passages.Length; i++)
        {
            Assert.InRange(Math.Abs(together[i] - alone[i]), 0f, Same);
        }

        var distinguishable = Enumerable.Range(0, passages.Length - 1).Count(i => Math.Abs(alone[i] - alone[i + 1]) > Same);
        Assert.True(distinguishable >= passages.Length / 2, "neighbouring passages must score differently for the order to be checked");
    }

    [Fact]
    public async Task Batch_size_does_not_change_scores()
    {
        using var dir = CrossEncoderDirectory();
        using var small = OnnxCrossEncoderReranker.Load(dir.Path, intraOpThreads: 1, batchSize: 1);
        using var large = OnnxCrossEncoderReranker.Load(dir.Path, intraOpThreads: 1, batchSize: 64);
        var passages = Enumerable.Range(0, 10).Select(i => Words(1 + i * 2, offset: i)).ToArray();

        var one = await small.ScoreAsync("garden water", passages, Token);
        var all = await large.ScoreAsync("garden water", passages, Token);

        for (var i = 0; i < passages.Length; i++)
        {
            Assert.InRange(Math.Abs(one[i] - all[i]), 0f, Same);
        }
    }

    [Fact]
    public async Task Long_passage_is_truncated_to_fit_beside_the_query()
    {
        using var dir = CrossEncoderDirectory(("max_tokens", 32));
        using var reranker = OnnxCrossEncoderReranker.Load(dir.Path, intraOpThreads: 1);
        var query = Words(3, offset: 7);

        // 32 = [CLS] + 3 query pieces + [SEP] + 26 passage pieces + [SEP].
        var scores = await reranker.ScoreAsync(query, [Words(5000), Words(26), Words(25)], Token);

        Assert.InRange(Math.Abs(scores[0] - scores[1]), 0f, Same);
        Assert.True(Math.Abs(scores[1] - scores[2]) > Same, "one piece fewer must score differently");
    }

    [Fact]
    public async Task Query_longer_than_half_the_budget_keeps_half_when_the_passage_needs_room()
    {
        using var dir = CrossEncoderDirectory(("max_tokens", 32));
        using var reranker = OnnxCrossEncoderReranker.Load(dir.Path, intraOpThreads: 1);

        // 29 pieces to share: the long query keeps 14, the passage gets 15.
        var truncated = await reranker.ScoreAsync(Words(100, offset: 3), [Words(100)], Token);
        var exact = await reranker.ScoreAsync(Words(14, offset: 3), [Words(15)], Token);
        var otherSplit = await reranker.ScoreAsync(Words(13, offset: 3), [Words(16)], Token);
        // A short passage leaves the long query more room than half.
        var shortPassage = await reranker.ScoreAsync(Words(100, offset: 3), [Words(4)], Token);
        var shortExact = await reranker.ScoreAsync(Words(25, offset: 3), [Words(4)], Token);

        Assert.InRange(Math.Abs(truncated[0] - exact[0]), 0f, Same);
        Assert.True(Math.Abs(truncated[0] - otherSplit[0]) > Same);
        Assert.InRange(Math.Abs(shortPassage[0] - shortExact[0]), 0f, Same);
    }

    [Fact]
    public async Task Query_and_passage_order_matters()
    {
        using var dir = CrossEncoderDirectory();
        using var reranker = OnnxCrossEncoderReranker.Load(dir.Path, intraOpThreads: 1);
        var query = "stone bridge over the river";
        var passage = "the old city built a bridge of stone where the river is narrow";

        var forward = await reranker.ScoreAsync(query, [passage], Token);
        var backward = await reranker.ScoreAsync(passage, [query], Token);

        Assert.True(Math.Abs(forward[0] - backward[0]) > Same, $"{forward[0]} vs {backward[0]}");
    }

    [Fact]
    public async Task No_passages_give_no_scores()
    {
        using var dir = CrossEncoderDirectory();
        using var reranker = OnnxCrossEncoderReranker.Load(dir.Path, intraOpThreads: 1);

        Assert.Empty(await reranker.ScoreAsync("anything", [], Token));
    }

    [Fact]
    public void Model_id_is_the_name_and_the_model_file_hash()
    {
        using var dir = CrossEncoderDirectory();
        using var reranker = OnnxCrossEncoderReranker.Load(dir.Path, intraOpThreads: 1);

        Assert.Equal("tiny-ce@" + Sha256Hex(RepositoryPaths.TinyCrossEncoderModel)[..12], reranker.ModelId);
    }

    [Fact]
    public async Task Directory_with_only_model_and_vocabulary_loads_with_bert_defaults()
    {
        using var dir = new TempDirectory("reranker");
        File.CreateSymbolicLink(dir.Combine("model.onnx"), RepositoryPaths.TinyCrossEncoderModel);
        File.CreateSymbolicLink(dir.Combine("vocab.txt"), RepositoryPaths.BertVocab);

        using var reranker = OnnxCrossEncoderReranker.Load(dir.Path, intraOpThreads: 1);

        Assert.Equal(512, reranker.MaxTokens);
        Assert.StartsWith(Path.GetFileName(dir.Path) + "@", reranker.ModelId, StringComparison.Ordinal);
        Assert.Single(await reranker.ScoreAsync("query", [Words(600)], Token));
    }

    [Fact]
    public void Embedding_model_is_rejected_as_a_cross_encoder()
    {
        using var dir = CrossEncoderDirectory(("model_file", RepositoryPaths.TinyEmbedderModel));

        var error = Assert.Throws<RagValidationException>(() => OnnxCrossEncoderReranker.Load(dir.Path, intraOpThreads: 1));

        Assert.Contains("output 'last_hidden_state' is Float [-1,-1,32], but float logits [batch, 1], [batch] or [batch, 2] is needed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_reranker_directory_names_the_reranker_setting()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"rag-no-such-reranker-{Guid.NewGuid():N}");

        var error = Assert.Throws<RagValidationException>(() => OnnxCrossEncoderReranker.Load(missing, intraOpThreads: 1));

        Assert.Equal("Rag:Reranker:ModelDirectory", error.Field);
    }
}
