using RagPlatform.Core.Indexing;
using RagPlatform.Core.Metadata;

namespace RagPlatform.Ingestion.Pipeline;

/// <summary>How far the indexes are from the metadata store.</summary>
public sealed record ConsistencyReport
{
    /// <summary>Searchable documents according to the metadata store.</summary>
    public required int Documents { get; init; }

    /// <summary>Index writes started and not finished (repaired at the start of the next run).</summary>
    public required int PendingOperations { get; init; }

    /// <summary>Documents whose active version is missing from the keyword index or has other chunk counts.</summary>
    public required IReadOnlyList<Guid> KeywordMissing { get; init; }

    /// <summary>(document, version) pairs in the keyword index that are not an active version.</summary>
    public required IReadOnlyList<IndexedDocumentVersion> KeywordOrphans { get; init; }

    /// <summary>Documents with vectors for only part of their active version's chunks.</summary>
    public required IReadOnlyList<Guid> VectorIncomplete { get; init; }

    public required IReadOnlyList<IndexedDocumentVersion> VectorOrphans { get; init; }

    public bool Consistent => PendingOperations == 0 && KeywordMissing.Count == 0 && KeywordOrphans.Count == 0 && VectorIncomplete.Count == 0 && VectorOrphans.Count == 0;
}

/// <summary>
/// Checks that the indexes hold exactly the active versions of the live documents: every one in
/// the keyword index with all its chunks, nothing else; in the vector index, any document present
/// has all its chunks (documents ingested keyword-only have none), and nothing else.
/// </summary>
public sealed class StoreConsistencyChecker(IMetadataStore metadata, IKeywordIndex keyword, IVectorIndex vectors)
{
    public async Task<ConsistencyReport> CheckAsync(CancellationToken cancellationToken)
    {
        var pending = await metadata.ListPendingOperationsAsync(cancellationToken);
        var active = (await metadata.ListActiveVersionsAsync(cancellationToken)).ToDictionary(v => v.DocumentId);
        var inKeyword = await keyword.ListDocumentVersionsAsync(cancellationToken);
        var inVectors = await vectors.ListDocumentVersionsAsync(cancellationToken);

        bool IsActive(IndexedDocumentVersion v) => active.TryGetValue(v.DocumentId, out var a) && a.Version == v.Version;

        var keywordByDoc = inKeyword.Where(IsActive).ToDictionary(v => v.DocumentId);
        return new ConsistencyReport
        {
            Documents = active.Count,
            PendingOperations = pending.Count,
            KeywordMissing = active.Values
                .Where(a => !keywordByDoc.TryGetValue(a.DocumentId, out var k) || k.ChunkCount != a.ChunkCount)
                .Select(a => a.DocumentId)
                .ToList(),
            KeywordOrphans = inKeyword.Where(v => !IsActive(v)).ToList(),
            VectorIncomplete = inVectors.Where(v => IsActive(v) && v.ChunkCount != active[v.DocumentId].ChunkCount).Select(v => v.DocumentId).ToList(),
            VectorOrphans = inVectors.Where(v => !IsActive(v)).ToList(),
        };
    }
}
