namespace RagPlatform.Core.Indexing;

/// <summary>What the keyword and vector indexes have in common: atomic batches and an inventory.</summary>
public interface IChunkIndex
{
    /// <summary>Applies <paramref name="batch"/> atomically and durably (see <see cref="IndexBatch"/>).</summary>
    Task ApplyAsync(IndexBatch batch, CancellationToken cancellationToken);

    /// <summary>Every (document, version) the index holds, with its chunk count; for reconciliation.</summary>
    Task<IReadOnlyList<IndexedDocumentVersion>> ListDocumentVersionsAsync(CancellationToken cancellationToken);

    /// <summary>Number of chunks held.</summary>
    long Count { get; }
}

/// <summary>A chunk found by an index, with the index's own score (higher is better).</summary>
public readonly record struct ScoredChunk(string ChunkId, Guid DocumentId, int Version, float Score);

/// <summary>BM25 full-text search over title and body, filtered inside the query.</summary>
public interface IKeywordIndex : IChunkIndex
{
    /// <summary>
    /// The best <paramref name="limit"/> chunks for <paramref name="queryText"/> that pass <paramref name="filter"/>,
    /// best first. Query text is treated as plain words: operators and syntax in it are never interpreted,
    /// so hostile strings cannot fail the search.
    /// </summary>
    ValueTask<IReadOnlyList<ScoredChunk>> SearchAsync(string queryText, SearchFilter filter, int limit, CancellationToken cancellationToken);
}

/// <summary>Nearest-neighbour search by cosine similarity (vectors are L2-normalised), filtered inside the search.</summary>
public interface IVectorIndex : IChunkIndex
{
    /// <summary>Dimensions of the vectors held, or null while empty.</summary>
    int? Dimensions { get; }

    ValueTask<IReadOnlyList<ScoredChunk>> SearchAsync(ReadOnlyMemory<float> query, SearchFilter filter, int limit, CancellationToken cancellationToken);

    /// <summary>The stored vectors of the given chunks (for MMR); missing ids are left out.</summary>
    ValueTask<IReadOnlyDictionary<string, float[]>> GetVectorsAsync(IReadOnlyCollection<string> chunkIds, CancellationToken cancellationToken);
}
