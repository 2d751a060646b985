using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Core;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Inference;
using RagPlatform.Inference.Models;
using RagPlatform.Inference.Onnx;

namespace RagPlatform.Inference.Embeddings;

/// <summary>
/// A local BERT-family sentence embedder (all-MiniLM-L6-v2, bge-small, ...) run by ONNX Runtime,
/// configured by a model directory (<c>model.onnx</c>, <c>vocab.txt</c>, <c>rag-model.json</c>).
/// Thread-safe: calls may run concurrently.
/// </summary>
public sealed class OnnxEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    public const string ProviderName = "onnx";

    // Inputs are sorted by length within windows of this many batches: enough to group similar
    // lengths, while a call with a million texts does not hold a million token lists at once.
    private const int BatchesPerSortWindow = 16;

    private readonly ModelConfiguration _config;
    private readonly BertOnnxSession _session;
    private readonly WordPieceEncoder _encoder;
    private readonly int _batchSize;
    private readonly bool _pooledOutput;
    private readonly Lock _rawLock = new();
    private TokenBatch? _rawBatch;

    private OnnxEmbeddingGenerator(ModelConfiguration config, BertOnnxSession session, WordPieceEncoder encoder, int batchSize, string modelId, int dimensions)
    {
        _config = config;
        _session = session;
        _encoder = encoder;
        _batchSize = batchSize;
        _pooledOutput = session.OutputDimensions.Count == 2;
        ModelId = modelId;
        Dimensions = dimensions;
        Metadata = new EmbeddingGeneratorMetadata(ProviderName, new Uri(config.Directory + Path.DirectorySeparatorChar), modelId, dimensions);
    }

    /// <summary>
    /// <c>{name}@{first 12 hex digits of the model file's sha256}</c>. It keys the embedding cache,
    /// so a different model file never reuses vectors computed by another.
    /// </summary>
    public string ModelId { get; }

    public int Dimensions { get; }

    /// <summary>Word pieces per text, [CLS] and [SEP] included; longer texts are truncated.</summary>
    public int MaxTokens => _config.MaxTokens;

    /// <summary>Texts per model run (<see cref="EmbeddingOptions.BatchSize"/>).</summary>
    public int BatchSize => _batchSize;

    public EmbeddingGeneratorMetadata Metadata { get; }

    /// <summary>
    /// Loads the model in <paramref name="modelDirectory"/>: reads its configuration, verifies the
    /// pinned sha256, opens the ONNX session with <see cref="EmbeddingOptions.IntraOpThreads"/>
    /// threads, and checks the graph's inputs and output. Configuration problems throw
    /// <see cref="RagValidationException"/> naming the file, the key and what to write.
    /// </summary>
    public static OnnxEmbeddingGenerator Load(string modelDirectory, EmbeddingOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var started = Stopwatch.GetTimestamp();
        var config = ModelConfiguration.Load(modelDirectory, ModelKind.Embedder, "Rag:Embeddings:ModelDirectory");
        var sha256 = config.VerifyModelHash();
        var encoder = WordPieceEncoder.Create(config);
        var session = BertOnnxSession.Open(config, options.IntraOpThreads, ModelKind.Embedder);
        try
        {
            var dimensions = (int)session.Probe(config, encoder.Special)[^1];

            var modelId = $"{config.Name}@{sha256[..12]}";
            var generator = new OnnxEmbeddingGenerator(config, session, encoder, options.BatchSize, modelId, dimensions);
            (logger ?? NullLogger.Instance).LogInformation(
                "Loaded embedding model {ModelId} from {ModelDirectory}: {Dimensions} dimensions, {Pooling} pooling, max {MaxTokens} tokens, {Threads} threads, in {ElapsedMs} ms",
                modelId, config.Directory, dimensions, generator._pooledOutput ? "model" : config.Pooling.ToString().ToLowerInvariant(),
                config.MaxTokens, options.IntraOpThreads, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return generator;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Embeds <paramref name="values"/>, in their order. Passages are the default; pass
    /// <see cref="EmbeddingInputKind.QueryOptions"/> to embed queries (the model's query prefix
    /// is then prepended).
    /// </summary>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var texts = values as IReadOnlyList<string> ?? values.ToList();
        var prefix = EmbeddingInputKind.IsQuery(options) ? _config.QueryPrefix : _config.PassagePrefix;
        var budget = _config.MaxTokens - 2;
        var results = new Embedding<float>[texts.Count];
        long tokenCount = 0;

        var window = _batchSize * BatchesPerSortWindow;
        var tokens = new IReadOnlyList<int>[Math.Min(window, texts.Count)];
        var lengths = new int[tokens.Length];
        var order = new int[tokens.Length];
        for (var start = 0; start < texts.Count; start += window)
        {
            var count = Math.Min(window, texts.Count - start);
            for (var i = 0; i < count; i++)
            {
                var text = texts[start + i] ?? throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"Text {start + i} is null; pass an empty string to embed nothing."), nameof(values));
                tokens[i] = _encoder.Encode(prefix.Length == 0 ? text : prefix + text, budget);
                lengths[i] = Math.Min(tokens[i].Count, budget);
                order[i] = start + i;
                tokenCount += lengths[i] + 2;
            }

            // Sorting by length makes each batch pad to a near neighbour, not to the longest text of the call.
            Array.Sort(lengths, order, 0, count);
            for (var first = 0; first < count; first += _batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var size = Math.Min(_batchSize, count - first);
                EmbedBatch(tokens, start, order.AsSpan(first, size), lengths[first + size - 1] + 2, results, cancellationToken);
            }
        }

        return Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(results)
        {
            Usage = new UsageDetails { InputTokenCount = tokenCount, TotalTokenCount = tokenCount },
        });
    }

    /// <summary>
    /// Runs the model alone on one fixed, pre-tokenized batch (<paramref name="batchSize"/> rows of
    /// <paramref name="sequenceLength"/> real tokens, no padding), so that a benchmark can compare
    /// the raw model's throughput with <see cref="GenerateAsync"/>'s in the same run. Only the
    /// session runs here; the batch is built once per shape.
    /// </summary>
    public void RunRawBatch(int batchSize, int sequenceLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sequenceLength, 2);
        lock (_rawLock)
        {
            if (_rawBatch is null || _rawBatch.Count != batchSize || _rawBatch.SequenceLength != sequenceLength)
            {
                _rawBatch?.Dispose();
                _rawBatch = TokenBatch.Rent(batchSize, sequenceLength);
                var ids = new List<int>(sequenceLength);
                while (ids.Count < sequenceLength - 2)
                {
                    ids.AddRange(_encoder.Encode("retrieval augmented generation answers questions from indexed documents ", sequenceLength));
                }

                for (var row = 0; row < batchSize; row++)
                {
                    _rawBatch.WriteRow(row, _encoder.Special, ids, sequenceLength - 2);
                }
            }

            using var outputs = _session.Run(_rawBatch, CancellationToken.None);
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? Metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    public void Dispose()
    {
        lock (_rawLock)
        {
            _rawBatch?.Dispose();
            _rawBatch = null;
        }

        _session.Dispose();
    }

    public override string ToString() => ModelId;

    internal int CountTokens(string text) => _encoder.CountTokens(text);

    private void EmbedBatch(
        IReadOnlyList<int>[] tokens, int windowStart, ReadOnlySpan<int> rows, int sequenceLength, Embedding<float>[] results, CancellationToken cancellationToken)
    {
        var budget = _config.MaxTokens - 2;
        using var batch = TokenBatch.Rent(rows.Length, sequenceLength);
        Span<int> realTokens = rows.Length <= 64 ? stackalloc int[rows.Length] : new int[rows.Length];
        for (var r = 0; r < rows.Length; r++)
        {
            var ids = tokens[rows[r] - windowStart];
            realTokens[r] = batch.WriteRow(r, _encoder.Special, ids, Math.Min(ids.Count, budget));
        }

        using var outputs = _session.Run(batch, cancellationToken);
        var output = outputs[0];
        var shape = output.GetTensorTypeAndShape().Shape;
        var expected = _pooledOutput ? new long[] { rows.Length, Dimensions } : [rows.Length, sequenceLength, Dimensions];
        if (!shape.AsSpan().SequenceEqual(expected))
        {
            throw new InvalidOperationException(
                $"The model {_config.ModelPath} returned '{_session.OutputName}' of shape [{string.Join(",", shape)}] for a batch of shape [{rows.Length},{sequenceLength}]; " +
                $"expected [{string.Join(",", expected)}]. The model's output does not follow the BERT encoder layout.");
        }

        var data = output.GetTensorDataAsSpan<float>();
        for (var r = 0; r < rows.Length; r++)
        {
            results[rows[r]] = new Embedding<float>(Pool(data, r, sequenceLength, realTokens[r])) { ModelId = ModelId };
        }
    }

    private float[] Pool(ReadOnlySpan<float> output, int row, int sequenceLength, int realTokens)
    {
        var h = Dimensions;
        var vector = new float[h];
        if (_pooledOutput)
        {
            output.Slice(row * h, h).CopyTo(vector);
        }
        else
        {
            var rowStates = output.Slice(row * sequenceLength * h, sequenceLength * h);
            rowStates[..h].CopyTo(vector);
            if (_config.Pooling == PoolingMode.Mean)
            {
                // The attention mask is 1 on exactly the first realTokens positions ([CLS] and
                // [SEP] included, as sentence-transformers counts them), so the masked mean is
                // the mean of those rows; padding never enters.
                for (var t = 1; t < realTokens; t++)
                {
                    TensorPrimitives.Add(vector, rowStates.Slice(t * h, h), vector);
                }

                TensorPrimitives.Multiply(vector, 1f / realTokens, vector);
            }
        }

        if (_config.Normalize)
        {
            var norm = TensorPrimitives.Norm(vector);
            if (norm > 0f)
            {
                TensorPrimitives.Multiply(vector, 1f / norm, vector);
            }
        }

        return vector;
    }
}
