using RagPlatform.Core.Indexing;
using RagPlatform.Core.Metadata;

namespace RagPlatform.Retrieval;

/// <summary>Why each score is what it is.</summary>
public sealed record HitScores
{
    /// <summary>1-based rank in the keyword candidates, if the chunk was among them.</summary>
    public int? KeywordRank { get; init; }

    public float? KeywordScore { get; init; }

    public int? VectorRank { get; init; }

    public float? VectorScore { get; init; }

    public double FusedScore { get; init; }

    public float? RerankScore { get; init; }

    /// <summary>The score the hits are ordered by: rerank score when reranked, fused score otherwise.</summary>
    public double FinalScore { get; init; }
}

/// <summary>A passage of the chunk around the best match, with the matched query terms.</summary>
public sealed record Snippet
{
    public required string Text { get; init; }

    /// <summary>Where the snippet starts in the document version's normalised text.</summary>
    public required int Start { get; init; }

    /// <summary>Highlighted query terms, relative to <see cref="Text"/>.</summary>
    public required IReadOnlyList<TextSpan> Highlights { get; init; }
}

/// <summary>
/// Enough to quote and link: the exact version, and character offsets into that version's
/// normalised text, where the text equals the chunk text.
/// </summary>
public sealed record Citation
{
    public required Guid DocumentId { get; init; }

    public required int Version { get; init; }

    public required string ChunkId { get; init; }

    public required int Start { get; init; }

    public required int End { get; init; }

    public int? PageStart { get; init; }

    public int? PageEnd { get; init; }

    public required IReadOnlyList<string> HeadingPath { get; init; }

    public Snippet? Snippet { get; init; }
}

public sealed record RetrievalHit
{
    public required LiveChunk Chunk { get; init; }

    public required HitScores Scores { get; init; }

    public required Citation Citation { get; init; }
}

/// <summary>A stage the service did not run, and why (no model, deadline, nothing to do).</summary>
public sealed record SkippedStage(string Stage, string Reason);

public sealed record RetrievalResult
{
    public required IReadOnlyList<RetrievalHit> Hits { get; init; }

    /// <summary>The mode actually used (hybrid falls back to keyword without an embedder).</summary>
    public required RetrievalMode ModeUsed { get; init; }

    public required IReadOnlyList<SkippedStage> Skipped { get; init; }

    /// <summary>Time per stage, in microseconds.</summary>
    public required IReadOnlyDictionary<string, long> TimingsMicroseconds { get; init; }
}
