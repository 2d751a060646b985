using System.Net;

namespace RagPlatform.Inference.Embeddings;

/// <summary>
/// An embedding endpoint failed. <see cref="IsTransient"/> says whether a later retry may succeed
/// (rate limits, server errors, timeouts, network failures, after our own retries ran out) or
/// whether a setting must change first (key, model name, URL). The message names the endpoint,
/// the status and what to check; it never contains the API key.
/// </summary>
public sealed class EmbeddingEndpointException : Exception
{
    public EmbeddingEndpointException(string message, bool isTransient, HttpStatusCode? statusCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        IsTransient = isTransient;
        StatusCode = statusCode;
    }

    public EmbeddingEndpointException()
    {
    }

    public EmbeddingEndpointException(string message)
        : base(message)
    {
    }

    public EmbeddingEndpointException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public bool IsTransient { get; }

    /// <summary>The last HTTP status received, or null when no response came (timeout, connection failure).</summary>
    public HttpStatusCode? StatusCode { get; }
}
