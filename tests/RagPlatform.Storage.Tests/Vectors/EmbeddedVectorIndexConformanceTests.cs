using RagPlatform.Core.Indexing;
using RagPlatform.Storage.Tests.Indexing;
using RagPlatform.Storage.Vectors;

namespace RagPlatform.Storage.Tests.Vectors;

/// <summary>The shared index contract, run against the embedded vector index with exact f32 scoring.</summary>
public sealed class EmbeddedVectorIndexConformanceTests : ChunkIndexConformanceTests<EmbeddedVectorIndex>
{
    protected override EmbeddedVectorIndex CreateIndex(string directory) => EmbeddedVectorIndex.Open(directory);

    protected override ValueTask<IReadOnlyList<ScoredChunk>> SearchAllAsync(EmbeddedVectorIndex index, SearchFilter filter, int limit)
        => index.SearchAsync(UnitVector(Guid.Empty, 0, 0), filter, limit, Ct);
}

/// <summary>The same contract with int8 scoring: rescoring must not lose any chunk that passes the filter.</summary>
public sealed class EmbeddedVectorIndexInt8ConformanceTests : ChunkIndexConformanceTests<EmbeddedVectorIndex>
{
    protected override EmbeddedVectorIndex CreateIndex(string directory)
        => EmbeddedVectorIndex.Open(directory, new VectorIndexOptions { Quantization = VectorQuantization.Int8 });

    protected override ValueTask<IReadOnlyList<ScoredChunk>> SearchAllAsync(EmbeddedVectorIndex index, SearchFilter filter, int limit)
        => index.SearchAsync(UnitVector(Guid.Empty, 0, 0), filter, limit, Ct);
}

/// <summary>
/// The same contract with the table regrouped after nearly every batch, so that deletions, moves and access
/// changes meet rows inside the per-access-group runs rather than in the unsorted tail.
/// </summary>
public sealed class EmbeddedVectorIndexRegroupedConformanceTests : ChunkIndexConformanceTests<EmbeddedVectorIndex>
{
    protected override EmbeddedVectorIndex CreateIndex(string directory)
        => EmbeddedVectorIndex.Open(directory, new VectorIndexOptions { MinUngroupedRows = 1 });

    protected override ValueTask<IReadOnlyList<ScoredChunk>> SearchAllAsync(EmbeddedVectorIndex index, SearchFilter filter, int limit)
        => index.SearchAsync(UnitVector(Guid.Empty, 0, 0), filter, limit, Ct);
}
