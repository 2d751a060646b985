using RagPlatform.Core.Indexing;
using RagPlatform.Core.Security;

namespace RagPlatform.Retrieval;

public enum RetrievalMode
{
    Hybrid,
    Keyword,
    Vector,
}

/// <summary>How keyword and vector candidates are combined.</summary>
public abstract record Fusion
{
    public static Fusion Default { get; } = new ReciprocalRankFusion(60);
}

/// <summary>Reciprocal rank fusion: <c>score = Σ 1 / (k + rank)</c> over the lists a chunk appears in (rank from 1).</summary>
public sealed record ReciprocalRankFusion(int K) : Fusion;

/// <summary>Each list's scores min-max normalised to [0, 1], then <c>score = wk·keyword + wv·vector</c> (absent counts 0).</summary>
public sealed record WeightedFusion(double KeywordWeight, double VectorWeight) : Fusion;

/// <summary>One retrieval request, already validated at the API boundary or by <see cref="Retriever"/>.</summary>
public sealed record RetrievalQuery
{
    public required string Tenant { get; init; }

    public required CallerIdentity Caller { get; init; }

    public required string Text { get; init; }

    public int TopK { get; init; } = 10;

    public RetrievalMode Mode { get; init; } = RetrievalMode.Hybrid;

    public Fusion Fusion { get; init; } = Fusion.Default;

    public IReadOnlyList<MetadataFilter> Metadata { get; init; } = [];

    public IReadOnlyCollection<Guid>? SourceIds { get; init; }

    public IReadOnlyCollection<Guid>? DocumentIds { get; init; }

    public DateTimeOffset? ChangedAfter { get; init; }

    /// <summary>Hits scoring below this (on the final score) are dropped.</summary>
    public double? MinScore { get; init; }

    public bool Rerank { get; init; }

    /// <summary>MMR trade-off between relevance (1) and diversity (0); null for none.</summary>
    public double? MmrLambda { get; init; }

    public bool Snippets { get; init; } = true;

    /// <summary>Candidates fetched from each index; null takes <see cref="RetrievalOptions.CandidateDepth"/>.</summary>
    public int? CandidateDepth { get; init; }
}
