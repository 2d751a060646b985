using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using RagPlatform.Core;
using RagPlatform.Inference.Models;

namespace RagPlatform.Inference.Onnx;

/// <summary>
/// An ONNX Runtime session over a BERT-family model: checks at load that the graph takes the
/// inputs we feed and gives an output we can read, then runs <see cref="TokenBatch"/>es.
/// </summary>
internal sealed class BertOnnxSession : IDisposable
{
    public const string InputIds = "input_ids";
    public const string AttentionMask = "attention_mask";
    public const string TokenTypeIds = "token_type_ids";

    private static readonly string[] EmbedderOutputs = ["last_hidden_state", "token_embeddings", "sentence_embedding"];
    private static readonly string[] CrossEncoderOutputs = ["logits"];

    private readonly SessionOptions _options;
    private readonly InferenceSession _session;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly string _modelPath;

    private BertOnnxSession(SessionOptions options, InferenceSession session, string modelPath, bool hasTokenTypeIds, string outputName, int[] outputDimensions)
    {
        _modelPath = modelPath;
        _options = options;
        _session = session;
        HasTokenTypeIds = hasTokenTypeIds;
        _inputNames = hasTokenTypeIds ? [InputIds, AttentionMask, TokenTypeIds] : [InputIds, AttentionMask];
        _outputNames = [outputName];
        OutputName = outputName;
        OutputDimensions = outputDimensions;
    }

    /// <summary>Some exports omit <c>token_type_ids</c>; it is fed only when the graph declares it.</summary>
    public bool HasTokenTypeIds { get; }

    public string OutputName { get; }

    /// <summary>The declared shape of the output; -1 where the dimension is symbolic.</summary>
    public IReadOnlyList<int> OutputDimensions { get; }

    public static BertOnnxSession Open(ModelConfiguration config, int intraOpThreads, ModelKind kind)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(intraOpThreads, 1);
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = intraOpThreads,
            // One graph runs at a time per call; parallelism comes from the intra-op threads.
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            // Failures reach the caller as exceptions with context; ORT's own stderr lines would only repeat them.
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
        };

        InferenceSession session;
        try
        {
            session = new InferenceSession(config.ModelPath, options);
        }
        catch (OnnxRuntimeException ex)
        {
            options.Dispose();
            throw new RagValidationException(
                config.ModelPath,
                $"is not a model ONNX Runtime can load ({ex.Message.Trim()}). Check that the file is complete (compare its sha256 with the published one) " +
                "and that it is an ONNX export of a BERT-family model.");
        }

        try
        {
            var hasTypes = CheckInputs(config.ModelPath, session);
            var (outputName, dims) = ChooseOutput(config, session, kind);
            return new BertOnnxSession(options, session, config.ModelPath, hasTypes, outputName, dims);
        }
        catch
        {
            session.Dispose();
            options.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs the model on <paramref name="batch"/>. The caller disposes the returned outputs after
    /// reading them; cancellation stops a running graph through <see cref="RunOptions.Terminate"/>.
    /// </summary>
    public IDisposableReadOnlyCollection<OrtValue> Run(TokenBatch batch, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long[] shape = [batch.Count, batch.SequenceLength];
        using var ids = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, batch.InputIds, shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, batch.AttentionMask, shape);
        using var types = HasTokenTypeIds ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, batch.TokenTypeIds, shape) : null;
        OrtValue[] inputs = types is null ? [ids, mask] : [ids, mask, types];

        using var runOptions = new RunOptions();
        using var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.Register(static state => ((RunOptions)state!).Terminate = true, runOptions)
            : default;
        try
        {
            return _session.Run(runOptions, _inputNames, inputs, _outputNames);
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidOperationException(
                string.Create(CultureInfo.InvariantCulture, $"ONNX Runtime failed to run {_modelPath} on a batch of [{batch.Count},{batch.SequenceLength}] tokens: {ex.Message.Trim()}"),
                ex);
        }
    }

    /// <summary>
    /// Runs one sequence of <see cref="ModelConfiguration.MaxTokens"/> tokens, so that a limit the
    /// model cannot take fails at load with a clear message instead of on the first long text.
    /// Returns the output's shape.
    /// </summary>
    public long[] Probe(ModelConfiguration config, in SpecialTokens special)
    {
        var filler = new int[config.MaxTokens - 2];
        Array.Fill(filler, special.Pad);
        using var batch = TokenBatch.Rent(1, config.MaxTokens);
        batch.WriteRow(0, special, filler, filler.Length);
        try
        {
            using var outputs = Run(batch, CancellationToken.None);
            return outputs[0].GetTensorTypeAndShape().Shape;
        }
        catch (InvalidOperationException ex) when (ex.InnerException is OnnxRuntimeException ortError)
        {
            throw new RagValidationException(
                config.Source,
                string.Create(CultureInfo.InvariantCulture,
                    $"max_tokens is {config.MaxTokens}, but the model {config.ModelPath} fails on a sequence that long ({ortError.Message.Trim()}). ") +
                $"Lower max_tokens in {Path.Combine(config.Directory, ModelConfiguration.FileName)} to the model's limit (512 for BERT-family models).");
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        _options.Dispose();
    }

    private static bool CheckInputs(string modelPath, InferenceSession session)
    {
        var inputs = session.InputMetadata;
        var declared = string.Join(", ", inputs.Select(i => $"{i.Key} ({i.Value.ElementDataType})"));
        foreach (var name in inputs.Keys)
        {
            if (name is not (InputIds or AttentionMask or TokenTypeIds))
            {
                throw new RagValidationException(
                    modelPath,
                    $"declares the input '{name}', which a BERT encoder does not need; the model declares: {declared}. " +
                    "Export the model with only input_ids, attention_mask and (optionally) token_type_ids.");
            }
        }

        foreach (var required in new[] { InputIds, AttentionMask })
        {
            if (!inputs.ContainsKey(required))
            {
                throw new RagValidationException(
                    modelPath,
                    $"does not declare the input '{required}'; it declares: {declared}. Export the model with input_ids and attention_mask.");
            }
        }

        foreach (var (name, meta) in inputs)
        {
            if (meta.ElementDataType != TensorElementType.Int64 || meta.Dimensions.Length != 2)
            {
                throw new RagValidationException(
                    modelPath,
                    string.Create(CultureInfo.InvariantCulture,
                        $"input '{name}' is {meta.ElementDataType} of rank {meta.Dimensions.Length}, but int64 [batch, sequence] is fed. Export the model with int64 inputs."));
            }
        }

        return inputs.ContainsKey(TokenTypeIds);
    }

    private static (string Name, int[] Dimensions) ChooseOutput(ModelConfiguration config, InferenceSession session, ModelKind kind)
    {
        var outputs = session.OutputMetadata;
        var declared = string.Join(", ", outputs.Select(o => $"{o.Key} [{string.Join(",", o.Value.Dimensions)}]"));
        string? name;
        if (config.OutputName is not null)
        {
            name = outputs.ContainsKey(config.OutputName)
                ? config.OutputName
                : throw new RagValidationException(
                    config.Source,
                    $"output names '{config.OutputName}', but the model {config.ModelPath} has the outputs: {declared}. Write one of those.");
        }
        else
        {
            var preferred = kind == ModelKind.Embedder ? EmbedderOutputs : CrossEncoderOutputs;
            name = preferred.FirstOrDefault(outputs.ContainsKey) ?? (outputs.Count == 1 ? outputs.Keys.First() : null);
            if (name is null)
            {
                throw new RagValidationException(
                    config.ModelPath,
                    $"has the outputs {declared} and none of them is the usual one ({string.Join(", ", preferred)}). " +
                    $"Name the one to read with \"output\" in {Path.Combine(config.Directory, ModelConfiguration.FileName)}.");
            }
        }

        var meta = outputs[name];
        var dims = meta.Dimensions;
        var shapeOk = kind == ModelKind.Embedder
            ? dims.Length is 2 or 3
            : dims.Length == 1 || (dims.Length == 2 && dims[1] is -1 or 1 or 2);
        if (meta.ElementDataType != TensorElementType.Float || !shapeOk)
        {
            var expected = kind == ModelKind.Embedder
                ? "float [batch, sequence, hidden] (token states) or float [batch, hidden] (pooled)"
                : "float logits [batch, 1], [batch] or [batch, 2]";
            throw new RagValidationException(
                config.ModelPath,
                $"output '{name}' is {meta.ElementDataType} [{string.Join(",", dims)}], but {expected} is needed. " +
                $"Check that the file is {(kind == ModelKind.Embedder ? "an embedding model" : "a cross-encoder")}, or name another output with \"output\" in {ModelConfiguration.FileName}.");
        }

        return (name, dims);
    }
}
