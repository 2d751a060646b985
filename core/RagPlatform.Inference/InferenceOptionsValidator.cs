using Microsoft.Extensions.Options;
using RagPlatform.Core;
using RagPlatform.Core.Configuration;

namespace RagPlatform.Inference;

/// <summary>
/// The inference settings that are wrong on their own, without touching any file or endpoint:
/// checked at start-up by hosts that validate options, and again when <see cref="InferenceModels"/> is created.
/// </summary>
internal sealed class InferenceOptionsValidator : IValidateOptions<RagOptions>
{
    public ValidateOptionsResult Validate(string? name, RagOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = Errors(options.Embeddings).Select(e => e.Message).ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public static IEnumerable<RagValidationException> Errors(EmbeddingOptions embeddings)
    {
        if (!string.IsNullOrWhiteSpace(embeddings.ModelDirectory) && embeddings.Endpoint is not null)
        {
            yield return new RagValidationException(
                "Rag:Embeddings",
                $"both ModelDirectory ('{embeddings.ModelDirectory}') and Endpoint ('{embeddings.Endpoint}') are set. " +
                "Choose one: a local ONNX model directory, or an OpenAI-compatible endpoint; unset the other.");
        }

        if (embeddings.Endpoint is not null && string.IsNullOrWhiteSpace(embeddings.EndpointModel))
        {
            yield return new RagValidationException(
                "Rag:Embeddings:EndpointModel",
                $"is not set, but Rag:Embeddings:Endpoint is ({embeddings.Endpoint}). Set it to the embedding model's name at that endpoint, such as text-embedding-3-small or nomic-embed-text.");
        }
    }
}
