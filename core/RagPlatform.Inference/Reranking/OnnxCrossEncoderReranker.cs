using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Core;
using RagPlatform.Core.Inference;
using RagPlatform.Inference.Models;
using RagPlatform.Inference.Onnx;

namespace RagPlatform.Inference.Reranking;

/// <summary>
/// A BERT cross-encoder (ms-marco-MiniLM-L-6-v2 and the like) run by ONNX Runtime: each
/// (query, passage) pair is read jointly as <c>[CLS] query [SEP] passage [SEP]</c> and scored by
/// the model's relevance logit. Thread-safe.
/// </summary>
public sealed class OnnxCrossEncoderReranker : IReranker, IDisposable
{
    private readonly ModelConfiguration _config;
    private readonly BertOnnxSession _session;
    private readonly WordPieceEncoder _encoder;
    private readonly int _batchSize;
    private readonly int _logitIndex;
    private readonly int _logitStride;

    private OnnxCrossEncoderReranker(ModelConfiguration config, BertOnnxSession session, WordPieceEncoder encoder, int batchSize, string modelId)
    {
        _config = config;
        _session = session;
        _encoder = encoder;
        _batchSize = batchSize;
        ModelId = modelId;

        // [batch, 2] heads are (not relevant, relevant) classifiers: the positive logit ranks.
        var dims = session.OutputDimensions;
        (_logitStride, _logitIndex) = dims.Count == 2 && dims[1] == 2 ? (2, 1) : (1, 0);
    }

    /// <summary><c>{name}@{first 12 hex digits of the model file's sha256}</c>.</summary>
    public string ModelId { get; }

    /// <summary>Word pieces per pair, special tokens included (512 unless rag-model.json says otherwise).</summary>
    public int MaxTokens => _config.MaxTokens;

    /// <summary>
    /// Loads the cross-encoder in <paramref name="modelDirectory"/> (<c>model.onnx</c>,
    /// <c>vocab.txt</c>, optional <c>rag-model.json</c> for name, max_tokens, lowercase, files
    /// and sha256). Configuration problems throw <see cref="RagValidationException"/>.
    /// </summary>
    public static OnnxCrossEncoderReranker Load(string modelDirectory, int intraOpThreads, int batchSize = 32, ILogger? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var started = Stopwatch.GetTimestamp();
        var config = ModelConfiguration.Load(modelDirectory, ModelKind.CrossEncoder, "Rag:Reranker:ModelDirectory");
        var sha256 = config.VerifyModelHash();
        var encoder = WordPieceEncoder.Create(config);
        var session = BertOnnxSession.Open(config, intraOpThreads, ModelKind.CrossEncoder);
        try
        {
            session.Probe(config, encoder.Special);
        }
        catch
        {
            session.Dispose();
            throw;
        }

        var modelId = $"{config.Name}@{sha256[..12]}";
        (logger ?? NullLogger.Instance).LogInformation(
            "Loaded cross-encoder {ModelId} from {ModelDirectory}: max {MaxTokens} tokens, {Threads} threads, in {ElapsedMs} ms",
            modelId, config.Directory, config.MaxTokens, intraOpThreads, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new OnnxCrossEncoderReranker(config, session, encoder, batchSize, modelId);
    }

    /// <summary>Scores each passage against <paramref name="query"/>; scores come back in passage order. Higher is more relevant.</summary>
    public Task<float[]> ScoreAsync(string query, IReadOnlyList<string> passages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(passages);
        var scores = new float[passages.Count];
        if (passages.Count == 0)
        {
            return Task.FromResult(scores);
        }

        var pairs = EncodePairs(query, passages);
        var order = new int[pairs.Length];
        var lengths = new int[pairs.Length];
        for (var i = 0; i < pairs.Length; i++)
        {
            order[i] = i;
            lengths[i] = pairs[i].Length;
        }

        // Batches of similar lengths pad little.
        Array.Sort(lengths, order);
        for (var first = 0; first < order.Length; first += _batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var rows = order.AsSpan(first, Math.Min(_batchSize, order.Length - first));
            ScoreBatch(pairs, rows, lengths[first + rows.Length - 1], scores, cancellationToken);
        }

        return Task.FromResult(scores);
    }

    public void Dispose() => _session.Dispose();

    public override string ToString() => ModelId;

    /// <summary>
    /// Fits each pair into <see cref="MaxTokens"/>. The passage is cut first: the query says what
    /// relevance means, so it stays whole unless it alone would take more than half the budget,
    /// in which case it keeps half and the passage gets the rest.
    /// </summary>
    private Pair[] EncodePairs(string query, IReadOnlyList<string> passages)
    {
        var budget = _config.MaxTokens - 3;
        var queryIds = _encoder.Encode(query, budget);
        var queryLength = Math.Min(queryIds.Count, budget);
        var guaranteedQuery = Math.Min(queryLength, budget / 2);
        var pairs = new Pair[passages.Count];
        for (var i = 0; i < passages.Count; i++)
        {
            var passage = passages[i] ?? throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Passage {i} is null; pass an empty string instead."), nameof(passages));
            var passageIds = _encoder.Encode(passage, budget - guaranteedQuery);
            var passageLength = Math.Min(passageIds.Count, budget - guaranteedQuery);
            var keepQuery = Math.Min(queryLength, Math.Max(budget - passageLength, budget / 2));
            var keepPassage = Math.Min(passageLength, budget - keepQuery);
            pairs[i] = new Pair(queryIds, keepQuery, passageIds, keepPassage);
        }

        return pairs;
    }

    private void ScoreBatch(Pair[] pairs, ReadOnlySpan<int> rows, int sequenceLength, float[] scores, CancellationToken cancellationToken)
    {
        using var batch = TokenBatch.Rent(rows.Length, sequenceLength);
        for (var r = 0; r < rows.Length; r++)
        {
            var pair = pairs[rows[r]];
            batch.WriteRow(r, _encoder.Special, pair.Query, pair.QueryLength, pair.Passage, pair.PassageLength);
        }

        using var outputs = _session.Run(batch, cancellationToken);
        var output = outputs[0];
        var logits = output.GetTensorDataAsSpan<float>();
        if (logits.Length != rows.Length * _logitStride)
        {
            throw new InvalidOperationException(
                $"The cross-encoder {_config.ModelPath} returned {logits.Length} values for {rows.Length} pairs " +
                $"(shape [{string.Join(",", output.GetTensorTypeAndShape().Shape)}]); expected one logit per pair, or two for a [batch, 2] head.");
        }

        for (var r = 0; r < rows.Length; r++)
        {
            scores[rows[r]] = logits[(r * _logitStride) + _logitIndex];
        }
    }

    private readonly record struct Pair(IReadOnlyList<int> Query, int QueryLength, IReadOnlyList<int> Passage, int PassageLength)
    {
        /// <summary>Tokens in the model input: [CLS] query [SEP] passage [SEP].</summary>
        public int Length => QueryLength + PassageLength + 3;
    }
}
