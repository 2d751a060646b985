using System.ComponentModel.DataAnnotations;

namespace RagPlatform.Retrieval;

/// <summary>Read-path settings, bound from <c>Rag:Retrieval</c>.</summary>
public sealed class RetrievalOptions
{
    public const string SectionName = "Rag:Retrieval";

    /// <summary>Candidates fetched from each index before fusion. 100 covers Recall@100 and leaves room for ACL-dropped hits.</summary>
    [Range(1, 1000)]
    public int CandidateDepth { get; set; } = 100;

    /// <summary>
    /// Fused candidates the cross-encoder rescores. A MiniLM cross-encoder does about 120 pairs/s on
    /// two cores, so 30 keeps reranking near a quarter of a second.
    /// </summary>
    [Range(1, 1000)]
    public int RerankDepth { get; set; } = 30;

    /// <summary>Longest accepted query, in characters; longer ones are rejected (the API maps it to ResourceExhausted).</summary>
    [Range(1, 1_000_000)]
    public int MaxQueryCharacters { get; set; } = 8192;

    [Range(40, 4000)]
    public int SnippetCharacters { get; set; } = 240;

    /// <summary>The most hits a caller of the API or the CLI may ask for.</summary>
    public const int MaxTopK = 100;

    /// <summary>The most the retriever returns to in-process callers (evaluation ranks 100 documents from chunk hits).</summary>
    public const int MaxInternalTopK = 1000;
}
