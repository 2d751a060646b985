using RagPlatform.Core;
using RagPlatform.Core.Configuration;

namespace RagPlatform.Inference.Embeddings;

/// <summary>How to reach an OpenAI-compatible <c>/embeddings</c> endpoint, and how patiently.</summary>
public sealed class OpenAiCompatibleEmbeddingSettings
{
    /// <summary>The API's base URL, such as <c>https://api.openai.com/v1</c> or <c>http://localhost:11434/v1</c>; <c>/embeddings</c> is appended.</summary>
    public required Uri Endpoint { get; init; }

    /// <summary>The model name sent with every request.</summary>
    public required string Model { get; init; }

    /// <summary>Sent as <c>Authorization: Bearer</c>, or as <c>api-key</c> to Azure OpenAI hosts. Never logged.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Texts per request.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>The vector size every response must have; unset, the first response sets it.</summary>
    public int? Dimensions { get; init; }

    /// <summary>Attempts per request, the first included, before a transient failure is reported.</summary>
    public int MaxAttempts { get; init; } = 6;

    /// <summary>The first backoff; it doubles on each retry (with jitter) up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A <c>Retry-After</c> longer than this is not waited for; the failure is reported as transient instead.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>One request's time limit, reading the response included; a timeout counts as transient.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Settings from <c>Rag:Embeddings</c>: Endpoint, EndpointModel, ApiKey and BatchSize.</summary>
    public static OpenAiCompatibleEmbeddingSettings FromOptions(EmbeddingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var endpoint = options.Endpoint
            ?? throw new RagValidationException("Rag:Embeddings:Endpoint", "is not set. Set it to the API's base URL, such as https://api.openai.com/v1 or http://localhost:11434/v1.");
        if (string.IsNullOrWhiteSpace(options.EndpointModel))
        {
            throw new RagValidationException(
                "Rag:Embeddings:EndpointModel",
                $"is not set, but Rag:Embeddings:Endpoint is ({endpoint}). Set it to the embedding model's name at that endpoint, such as text-embedding-3-small or nomic-embed-text.");
        }

        return new OpenAiCompatibleEmbeddingSettings
        {
            Endpoint = endpoint,
            Model = options.EndpointModel,
            ApiKey = string.IsNullOrEmpty(options.ApiKey) ? null : options.ApiKey,
            BatchSize = options.BatchSize,
        };
    }

    internal void Validate()
    {
        if (!Endpoint.IsAbsoluteUri || (Endpoint.Scheme != Uri.UriSchemeHttp && Endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new RagValidationException("Rag:Embeddings:Endpoint", $"must be an absolute http or https URL such as https://api.openai.com/v1, got '{Endpoint}'.");
        }

        if (string.IsNullOrWhiteSpace(Model))
        {
            throw new RagValidationException("Rag:Embeddings:EndpointModel", "must name the embedding model, such as text-embedding-3-small.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxAttempts, 1, nameof(MaxAttempts));
        if (Dimensions is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Dimensions), Dimensions, "Dimensions must be positive when set.");
        }
    }
}
