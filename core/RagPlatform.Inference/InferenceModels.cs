using System.Runtime.ExceptionServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Inference;
using RagPlatform.Core.Text;
using RagPlatform.Inference.Embeddings;
using RagPlatform.Inference.Models;
using RagPlatform.Inference.Reranking;
using RagPlatform.Inference.Tokenization;

namespace RagPlatform.Inference;

/// <summary>
/// The embedder, reranker and token counter that the configuration asks for. Each model loads
/// on first use, once; a configured model that cannot load throws its configuration error on every
/// use (never a silent fall-back to keyword-only). With no embedder configured, retrieval runs
/// keyword-only, and <see cref="Status"/> says so.
/// </summary>
public sealed class InferenceModels : IDisposable
{
    private readonly EmbeddingOptions _embeddings;
    private readonly RerankerOptions _reranking;
    private readonly ILoggerFactory _loggerFactory;
    private readonly LoadOnce<IEmbeddingGenerator<string, Embedding<float>>> _embedder;
    private readonly LoadOnce<OnnxCrossEncoderReranker> _reranker;
    private readonly LoadOnce<ITokenCounter> _tokenCounter;
    private readonly Lock _httpLock = new();
    private HttpClient? _http;

    public InferenceModels(IOptions<RagOptions> options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _embeddings = options.Value.Embeddings;
        _reranking = options.Value.Reranker;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        var error = InferenceOptionsValidator.Errors(_embeddings).FirstOrDefault();
        if (error is not null)
        {
            throw error;
        }

        _embedder = new LoadOnce<IEmbeddingGenerator<string, Embedding<float>>>(LoadEmbedder);
        _reranker = new LoadOnce<OnnxCrossEncoderReranker>(LoadReranker);
        _tokenCounter = new LoadOnce<ITokenCounter>(LoadTokenCounter);
    }

    /// <summary>True when an embedder is configured (local or endpoint), whether or not it has loaded yet.</summary>
    public bool HasEmbedder => LocalModelDirectory is not null || _embeddings.Endpoint is not null;

    /// <summary>The configured embedder, loaded on first access; null when none is configured.</summary>
    public IEmbeddingGenerator<string, Embedding<float>>? Embedder => _embedder.Value;

    /// <summary>The configured cross-encoder, loaded on first access; null when none is configured.</summary>
    public IReranker? Reranker => _reranker.Value;

    /// <summary>Counts as the embedder does: the local model's WordPiece vocabulary, tiktoken otherwise.</summary>
    public ITokenCounter TokenCounter => _tokenCounter.Value!;

    /// <summary>What retrieval can do with these models, for logs, health output and `rag status`.</summary>
    public string Status => $"{DescribeEmbeddings()}; {DescribeReranker()}";

    private string? LocalModelDirectory => string.IsNullOrWhiteSpace(_embeddings.ModelDirectory) ? null : _embeddings.ModelDirectory;

    private string? RerankerDirectory => string.IsNullOrWhiteSpace(_reranking.ModelDirectory) ? null : _reranking.ModelDirectory;

    public void Dispose()
    {
        _embedder.DisposeValue();
        _reranker.DisposeValue();
        lock (_httpLock)
        {
            _http?.Dispose();
            _http = null;
        }
    }

    private IEmbeddingGenerator<string, Embedding<float>>? LoadEmbedder()
    {
        if (LocalModelDirectory is { } dir)
        {
            return OnnxEmbeddingGenerator.Load(dir, _embeddings, _loggerFactory.CreateLogger<OnnxEmbeddingGenerator>());
        }

        if (_embeddings.Endpoint is null)
        {
            return null;
        }

        var settings = OpenAiCompatibleEmbeddingSettings.FromOptions(_embeddings);
        return new OpenAiCompatibleEmbeddingGenerator(HttpClient(), settings, _loggerFactory.CreateLogger<OpenAiCompatibleEmbeddingGenerator>());
    }

    private OnnxCrossEncoderReranker? LoadReranker()
        => RerankerDirectory is { } dir
            ? OnnxCrossEncoderReranker.Load(dir, _embeddings.IntraOpThreads, _embeddings.BatchSize, _loggerFactory.CreateLogger<OnnxCrossEncoderReranker>())
            : null;

    private ITokenCounter LoadTokenCounter()
    {
        if (LocalModelDirectory is not { } dir)
        {
            return TokenCounters.Tiktoken();
        }

        // Only the configuration is read: chunking can count tokens without loading the model.
        var config = ModelConfiguration.Load(dir, ModelKind.Embedder, "Rag:Embeddings:ModelDirectory");
        return TokenCounters.WordPiece(config.VocabPath, config.Lowercase, config.Name);
    }

    private HttpClient HttpClient()
    {
        lock (_httpLock)
        {
            // Requests carry their own time limits; pooled connections are recycled so DNS changes are seen.
            return _http ??= new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            {
                Timeout = Timeout.InfiniteTimeSpan,
            };
        }
    }

    private string DescribeEmbeddings()
    {
        if (LocalModelDirectory is { } dir)
        {
            return _embedder.State switch
            {
                LoadState.Loaded when _embedder.Value is OnnxEmbeddingGenerator onnx =>
                    $"hybrid: local ONNX embedder {onnx.ModelId} ({onnx.Dimensions} dimensions) from {dir}",
                LoadState.Failed => $"embeddings unavailable: the model in {dir} failed to load: {_embedder.Error}",
                _ => $"hybrid: local ONNX embedder in {dir} (loads on first use)",
            };
        }

        if (_embeddings.Endpoint is { } endpoint)
        {
            return _embedder.State == LoadState.Failed
                ? $"embeddings unavailable: the endpoint {endpoint} is misconfigured: {_embedder.Error}"
                : $"hybrid: embeddings from {endpoint} (model {_embeddings.EndpointModel})";
        }

        return "keyword-only: no embedding model configured (set Rag:Embeddings:ModelDirectory or Rag:Embeddings:Endpoint)";
    }

    private string DescribeReranker()
    {
        if (RerankerDirectory is not { } dir)
        {
            return "reranker: none (set Rag:Reranker:ModelDirectory to rerank with a cross-encoder)";
        }

        return _reranker.State switch
        {
            LoadState.Loaded => $"reranker: {_reranker.Value!.ModelId} from {dir}",
            LoadState.Failed => $"reranker unavailable: the model in {dir} failed to load: {_reranker.Error}",
            _ => $"reranker: cross-encoder in {dir} (loads on first use)",
        };
    }

    private enum LoadState
    {
        NotLoaded,
        Loaded,
        Failed,
    }

    /// <summary>
    /// Runs a loader once, on first access, and remembers its result or its exception: a broken
    /// model is not reloaded on every request, and every caller sees the same error.
    /// </summary>
    private sealed class LoadOnce<T>(Func<T?> load)
        where T : class
    {
        private readonly Lock _lock = new();
        private T? _value;
        private ExceptionDispatchInfo? _error;
        private volatile bool _done;

        public LoadState State => !_done ? LoadState.NotLoaded : _error is null ? LoadState.Loaded : LoadState.Failed;

        public string? Error => _error?.SourceException.Message;

        public T? Value
        {
            get
            {
                if (!_done)
                {
                    lock (_lock)
                    {
                        if (!_done)
                        {
                            try
                            {
                                _value = load();
                            }
                            catch (Exception ex)
                            {
                                _error = ExceptionDispatchInfo.Capture(ex);
                            }

                            _done = true;
                        }
                    }
                }

                _error?.Throw();
                return _value;
            }
        }

        public void DisposeValue()
        {
            lock (_lock)
            {
                (_value as IDisposable)?.Dispose();
                _value = null;
            }
        }
    }
}
