using System.Diagnostics;
using RagPlatform.Inference.Embeddings;

namespace RagPlatform.Inference.Benchmarks;

/// <summary>Sentences per second of the raw model and of the whole embedding pipeline, measured in the same run.</summary>
public sealed record EmbeddingThroughput(
    string ModelId, int BatchSize, int SequenceLength, int Batches, double RawSentencesPerSecond, double PipelineSentencesPerSecond)
{
    /// <summary>Pipeline throughput as a share of the raw model's; tokenizing, copying and pooling cost the rest.</summary>
    public double PipelineToRaw => PipelineSentencesPerSecond / RawSentencesPerSecond;
}

/// <summary>
/// Measures what the embedding pipeline (tokenize, batch, run, pool, normalise) costs on top of the
/// model: the same model runs pre-tokenized fixed batches (<see cref="OnnxEmbeddingGenerator.RunRawBatch"/>)
/// and real texts of exactly the same token length (<see cref="OnnxEmbeddingGenerator.GenerateAsync"/>),
/// interleaved, so load from other processes falls on both alike.
/// </summary>
public static class EmbeddingBenchmark
{
    private static readonly string[] Words =
    [
        "the", "index", "search", "model", "query", "document", "answer", "green", "river", "house", "music", "water",
        "light", "stone", "paper", "table", "window", "garden", "city", "road", "bridge", "market", "winter", "summer",
        "doctor", "school", "letter", "number", "family", "office", "forest", "island", "report", "system", "energy", "signal",
    ];

    /// <summary>
    /// Runs <paramref name="batches"/> batches each way, after one warm-up batch each. A batch has the
    /// generator's configured batch size; each text is <paramref name="sequenceLength"/> tokens with [CLS] and [SEP].
    /// </summary>
    public static async Task<EmbeddingThroughput> MeasureAsync(
        OnnxEmbeddingGenerator embedder, int sequenceLength = 63, int batches = 10, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentOutOfRangeException.ThrowIfLessThan(sequenceLength, 3);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sequenceLength, embedder.MaxTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(batches, 1);
        var batchSize = embedder.BatchSize;
        var texts = Texts(embedder, batchSize, sequenceLength - 2);

        embedder.RunRawBatch(batchSize, sequenceLength);
        await embedder.GenerateAsync(texts, cancellationToken: cancellationToken);
        var raw = TimeSpan.Zero;
        var pipeline = TimeSpan.Zero;
        for (var i = 0; i < batches; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var started = Stopwatch.GetTimestamp();
            embedder.RunRawBatch(batchSize, sequenceLength);
            raw += Stopwatch.GetElapsedTime(started);

            started = Stopwatch.GetTimestamp();
            await embedder.GenerateAsync(texts, cancellationToken: cancellationToken);
            pipeline += Stopwatch.GetElapsedTime(started);
        }

        var sentences = (double)batchSize * batches;
        return new EmbeddingThroughput(embedder.ModelId, batchSize, sequenceLength, batches, sentences / raw.TotalSeconds, sentences / pipeline.TotalSeconds);
    }

    /// <summary>Distinct texts of exactly <paramref name="tokens"/> word pieces each, from words that are one piece in the model's vocabulary.</summary>
    internal static string[] Texts(OnnxEmbeddingGenerator embedder, int count, int tokens)
    {
        var words = Words.Where(w => embedder.CountTokens(w) == 1).ToArray();
        if (words.Length < 2)
        {
            throw new InvalidOperationException($"The vocabulary of {embedder.ModelId} has too few whole English words to build benchmark texts.");
        }

        var random = new Random(42);
        return Enumerable.Range(0, count)
            .Select(_ => string.Join(' ', Enumerable.Range(0, tokens).Select(_ => words[random.Next(words.Length)])))
            .ToArray();
    }
}
