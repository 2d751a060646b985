using RagPlatform.Inference.Benchmarks;
using RagPlatform.Inference.Embeddings;
using static RagPlatform.Inference.Tests.TestModels;

namespace RagPlatform.Inference.Tests.Benchmarks;

public sealed class EmbeddingBenchmarkTests
{
    [Fact]
    public void Benchmark_texts_are_distinct_and_exactly_as_long_as_the_raw_batch()
    {
        using var dir = EmbedderDirectory();
        using var embedder = OnnxEmbeddingGenerator.Load(dir.Path, Options(batchSize: 8));

        var texts = EmbeddingBenchmark.Texts(embedder, 8, 61);

        Assert.Equal(8, texts.Distinct().Count());
        Assert.All(texts, t => Assert.Equal(61, embedder.CountTokens(t)));
    }

    [Fact]
    public async Task Benchmark_reports_both_rates_for_the_configured_batch()
    {
        using var dir = EmbedderDirectory();
        using var embedder = OnnxEmbeddingGenerator.Load(dir.Path, Options(batchSize: 8));

        var result = await EmbeddingBenchmark.MeasureAsync(embedder, sequenceLength: 20, batches: 2, TestContext.Current.CancellationToken);

        Assert.Equal(embedder.ModelId, result.ModelId);
        Assert.Equal((8, 20, 2), (result.BatchSize, result.SequenceLength, result.Batches));
        Assert.True(result.RawSentencesPerSecond > 0 && result.PipelineSentencesPerSecond > 0);
        Assert.Equal(result.PipelineSentencesPerSecond / result.RawSentencesPerSecond, result.PipelineToRaw, 6);
    }

    [Fact]
    public async Task Raw_batch_longer_than_the_model_allows_is_refused_before_running()
    {
        using var dir = EmbedderDirectory(("max_tokens", 16));
        using var embedder = OnnxEmbeddingGenerator.Load(dir.Path, Options());

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => EmbeddingBenchmark.MeasureAsync(embedder, sequenceLength: 17, cancellationToken: TestContext.Current.CancellationToken));
    }
}
