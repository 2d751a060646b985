using Microsoft.Extensions.AI;

namespace RagPlatform.Core.Inference;

/// <summary>
/// Queries and passages are embedded differently by some models (bge's query instruction, e5's
/// <c>query: </c>/<c>passage: </c> prefixes). Callers say which one they embed through
/// <see cref="EmbeddingGenerationOptions.AdditionalProperties"/>; passages are the default.
/// </summary>
public static class EmbeddingInputKind
{
    public const string PropertyName = "rag.input_kind";
    public const string Query = "query";
    public const string Passage = "passage";

    public static EmbeddingGenerationOptions QueryOptions { get; } = new()
    {
        AdditionalProperties = new AdditionalPropertiesDictionary { [PropertyName] = Query },
    };

    public static bool IsQuery(EmbeddingGenerationOptions? options)
        => options?.AdditionalProperties?.TryGetValue(PropertyName, out var v) == true && Equals(v, Query);
}
