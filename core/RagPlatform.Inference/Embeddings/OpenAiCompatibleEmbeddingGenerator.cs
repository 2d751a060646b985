using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Numerics.Tensors;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace RagPlatform.Inference.Embeddings;

/// <summary>
/// Embeds through an OpenAI-compatible <c>POST {endpoint}/embeddings</c> (OpenAI, Azure OpenAI,
/// Ollama, vLLM, TEI): batched requests, results ordered by their <c>index</c> and L2-normalised
/// (our vector index takes dot product as cosine), retries with backoff on 429, 5xx, timeouts and
/// network failures, immediate errors on the rest. Thread-safe; the HttpClient is the caller's.
/// </summary>
public sealed class OpenAiCompatibleEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    public const string ProviderName = "openai-compatible";

    private const int MaxErrorDetail = 300;

    private readonly HttpClient _http;
    private readonly OpenAiCompatibleEmbeddingSettings _settings;
    private readonly ILogger _logger;
    private readonly Uri _requestUri;
    private readonly bool _azure;
    private int _dimensions;

    public OpenAiCompatibleEmbeddingGenerator(HttpClient httpClient, OpenAiCompatibleEmbeddingSettings settings, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        _http = httpClient;
        _settings = settings;
        _logger = logger ?? NullLogger.Instance;
        _dimensions = settings.Dimensions ?? 0;

        var builder = new UriBuilder(settings.Endpoint);
        builder.Path = builder.Path.TrimEnd('/') + "/embeddings";
        _requestUri = builder.Uri;
        // Azure OpenAI takes its keys in an api-key header; Bearer there means an Entra ID token.
        _azure = settings.Endpoint.Host.EndsWith(".openai.azure.com", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The vector size: configured, or learned from the first response; null before that.</summary>
    public int? Dimensions => Volatile.Read(ref _dimensions) is var d && d > 0 ? d : null;

    /// <summary>Provider <c>openai-compatible</c>, the endpoint, the model name and (once known) the dimensions.</summary>
    public EmbeddingGeneratorMetadata Metadata => new(ProviderName, _settings.Endpoint, _settings.Model, Dimensions);

    /// <summary>Waits between attempts; tests replace it to observe the delays without sleeping.</summary>
    internal Func<TimeSpan, CancellationToken, Task> Delay { get; set; } = Task.Delay;

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var texts = values as IReadOnlyList<string> ?? values.ToList();
        var results = new Embedding<float>[texts.Count];
        var requested = options?.Dimensions;
        long promptTokens = 0;
        long totalTokens = 0;
        for (var start = 0; start < texts.Count; start += _settings.BatchSize)
        {
            var batch = new string[Math.Min(_settings.BatchSize, texts.Count - start)];
            for (var i = 0; i < batch.Length; i++)
            {
                batch[i] = texts[start + i] ?? throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"Text {start + i} is null; pass an empty string to embed nothing."), nameof(values));
            }

            var response = await SendAsync(batch, requested, cancellationToken);
            PlaceResults(response, batch.Length, requested, results.AsSpan(start, batch.Length));
            promptTokens += response.Usage?.PromptTokens ?? 0;
            totalTokens += response.Usage?.TotalTokens ?? 0;
        }

        return new GeneratedEmbeddings<Embedding<float>>(results)
        {
            Usage = totalTokens > 0 ? new UsageDetails { InputTokenCount = promptTokens, TotalTokenCount = totalTokens } : null,
        };
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? Metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <summary>Nothing to release: the HttpClient belongs to the caller.</summary>
    public void Dispose()
    {
    }

    public override string ToString() => $"{_settings.Model} at {_requestUri}";

    private void PlaceResults(OpenAiEmbeddingResponse response, int count, int? requested, Span<Embedding<float>> destination)
    {
        var data = response.Data;
        if (data is null || data.Count != count)
        {
            throw Invalid($"returned {data?.Count ?? 0} embeddings for {count} inputs");
        }

        foreach (var item in data)
        {
            if (item.Index is not { } index || index < 0 || index >= count)
            {
                throw Invalid($"returned an embedding with index {item.Index?.ToString(CultureInfo.InvariantCulture) ?? "(missing)"} for a request of {count} inputs");
            }

            if (destination[index] is not null)
            {
                throw Invalid($"returned index {index} twice");
            }

            var vector = item.Embedding;
            if (vector is null || vector.Length == 0)
            {
                throw Invalid($"returned no vector for input {index}");
            }

            CheckDimensions(vector.Length, requested);
            var norm = TensorPrimitives.Norm(vector);
            if (norm > 0f)
            {
                TensorPrimitives.Multiply(vector, 1f / norm, vector);
            }

            destination[index] = new Embedding<float>(vector) { ModelId = _settings.Model };
        }
    }

    private void CheckDimensions(int actual, int? requested)
    {
        if (requested is { } wanted)
        {
            if (actual != wanted)
            {
                throw Invalid($"returned vectors of {actual} dimensions, but {wanted} were requested (EmbeddingGenerationOptions.Dimensions)");
            }

            return;
        }

        var known = Interlocked.CompareExchange(ref _dimensions, actual, 0);
        if (known != 0 && known != actual)
        {
            var origin = _settings.Dimensions is null ? "learned from its first response" : "configured";
            throw Invalid(
                $"returned vectors of {actual} dimensions, but {known} are expected ({origin}). A model with another vector size needs its own index: " +
                "check that Rag:Embeddings:EndpointModel has not changed, or re-index with the new model");
        }
    }

    private EmbeddingEndpointException Invalid(string what)
        => new($"The embedding endpoint {_requestUri} (model '{_settings.Model}') {what}. The response does not match the request; " +
               "check that the endpoint implements the OpenAI embeddings API.", isTransient: false, HttpStatusCode.OK);

    private async Task<OpenAiEmbeddingResponse> SendAsync(string[] batch, int? dimensions, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(
            new OpenAiEmbeddingRequest(_settings.Model, batch, "float", dimensions), OpenAiJsonContext.Default.OpenAiEmbeddingRequest);
        for (var attempt = 1; ; attempt++)
        {
            string failure;
            HttpStatusCode? status = null;
            TimeSpan? retryAfter = null;
            Exception? cause = null;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(_settings.RequestTimeout);
                try
                {
                    using var request = CreateRequest(body);
                    using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                    if (response.IsSuccessStatusCode)
                    {
                        return await ReadResponseAsync(response, timeout.Token);
                    }

                    status = response.StatusCode;
                    var detail = await ReadErrorDetailAsync(response, timeout.Token);
                    if (!IsTransient(response.StatusCode))
                    {
                        throw new EmbeddingEndpointException(PermanentMessage(response.StatusCode, detail, batch.Length), isTransient: false, response.StatusCode);
                    }

                    failure = string.Create(CultureInfo.InvariantCulture, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}: {detail}");
                    retryAfter = RetryAfter(response);
                }
                catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    failure = $"no response within {_settings.RequestTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s";
                    cause = ex;
                }
                catch (HttpRequestException ex)
                {
                    failure = ex.Message;
                    cause = ex;
                }
                catch (IOException ex)
                {
                    failure = ex.Message;
                    cause = ex;
                }
            }

            if (attempt >= _settings.MaxAttempts)
            {
                throw new EmbeddingEndpointException(
                    $"The embedding endpoint {_requestUri} is failing ({failure}) after {attempt} attempts. This is transient: " +
                    "the endpoint is overloaded, rate-limited or unreachable; retry later, or check that it is running.",
                    isTransient: true, status, cause);
            }

            if (retryAfter > _settings.MaxRetryAfter)
            {
                throw new EmbeddingEndpointException(
                    $"The embedding endpoint {_requestUri} is rate-limiting ({failure}) and asks to wait {retryAfter.Value.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s, " +
                    "longer than we wait within one call. This is transient: retry later, or raise the endpoint's rate limit.",
                    isTransient: true, status, cause);
            }

            var delay = retryAfter ?? Backoff(attempt);
            _logger.LogWarning(
                "Embedding request to {Endpoint} failed ({Failure}); attempt {Attempt} of {MaxAttempts}, retrying in {DelayMs} ms",
                _requestUri, failure, attempt, _settings.MaxAttempts, (long)delay.TotalMilliseconds);
            await Delay(delay, cancellationToken);
        }
    }

    private HttpRequestMessage CreateRequest(byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _requestUri)
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (_settings.ApiKey is { } key)
        {
            if (_azure)
            {
                request.Headers.Add("api-key", key);
            }
            else
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            }
        }

        return request;
    }

    private async Task<OpenAiEmbeddingResponse> ReadResponseAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            return await JsonSerializer.DeserializeAsync(stream, OpenAiJsonContext.Default.OpenAiEmbeddingResponse, cancellationToken)
                ?? throw new JsonException("the body is JSON null");
        }
        catch (JsonException ex)
        {
            throw new EmbeddingEndpointException(
                $"The embedding endpoint {_requestUri} answered {(int)response.StatusCode} with a body that is not an embeddings response ({ex.Message}). " +
                "Check that Rag:Embeddings:Endpoint is the API's base URL (such as https://api.openai.com/v1), not a web page or a proxy's.",
                isTransient: false, response.StatusCode, ex);
        }
    }

    /// <summary>The server's own explanation: <c>error.message</c> or <c>error</c> of a JSON body, or the start of the text.</summary>
    private async Task<string> ReadErrorDetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (HttpRequestException)
        {
            return "(no readable body)";
        }

        var detail = text.Trim();
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error))
            {
                detail = error.ValueKind switch
                {
                    JsonValueKind.String => error.GetString()!,
                    JsonValueKind.Object when error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String => m.GetString()!,
                    _ => detail,
                };
            }
        }
        catch (JsonException)
        {
            // Not JSON: a proxy's HTML or plain text; its start is still the best explanation we have.
        }

        if (_settings.ApiKey is { Length: > 0 } key)
        {
            detail = detail.Replace(key, "[redacted]", StringComparison.Ordinal);
        }

        return detail.Length == 0 ? "(empty body)" : detail.Length <= MaxErrorDetail ? detail : string.Concat(detail.AsSpan(0, MaxErrorDetail), "…");
    }

    private string PermanentMessage(HttpStatusCode status, string detail, int batchSize)
    {
        var advice = status switch
        {
            HttpStatusCode.Unauthorized => _settings.ApiKey is null
                ? "No API key is configured: set the environment variable RAG__Embeddings__ApiKey."
                : "The API key was not accepted: check the key in the environment variable RAG__Embeddings__ApiKey.",
            HttpStatusCode.Forbidden =>
                $"The API key may not use model '{_settings.Model}': check the key's permissions (RAG__Embeddings__ApiKey) and the model name (Rag:Embeddings:EndpointModel).",
            HttpStatusCode.NotFound =>
                $"Check the base URL Rag:Embeddings:Endpoint (such as https://api.openai.com/v1 or http://localhost:11434/v1; /embeddings is appended) " +
                $"and the model name Rag:Embeddings:EndpointModel ('{_settings.Model}').",
            HttpStatusCode.RequestEntityTooLarge =>
                string.Create(CultureInfo.InvariantCulture, $"The request is too large: lower Rag:Embeddings:BatchSize (now {batchSize}) or Rag:Chunking:MaxTokens."),
            _ => $"Check the model name Rag:Embeddings:EndpointModel ('{_settings.Model}') and that the texts fit the model's input limit (lower Rag:Chunking:MaxTokens if they do not).",
        };
        return string.Create(CultureInfo.InvariantCulture, $"The embedding endpoint {_requestUri} answered {(int)status} {status}: {detail}. {advice}");
    }

    private static bool IsTransient(HttpStatusCode status)
        => status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        // OpenAI also sends the finer retry-after-ms; either way, the server knows best when to come back.
        if (response.Headers.TryGetValues("retry-after-ms", out var ms) &&
            double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds) && milliseconds >= 0)
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        return header?.Date is { } date ? TimeSpan.FromTicks(Math.Max(0, (date - DateTimeOffset.UtcNow).Ticks)) : null;
    }

    private TimeSpan Backoff(int attempt)
    {
        var exponential = _settings.InitialBackoff.TotalMilliseconds * Math.Pow(2, attempt - 1);
        var capped = Math.Min(exponential, _settings.MaxBackoff.TotalMilliseconds);
        // Jitter spreads retries of many workers hit by the same outage.
        return TimeSpan.FromMilliseconds(capped * (0.5 + (Random.Shared.NextDouble() * 0.5)));
    }
}
