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

/// <summary>Where each store departs from the metadata store, document by document.</summary>
public sealed record StoreDrift
{
    /// <summary>Index writes started and not finished.</summary>
    public required IReadOnlyList<PendingOperation> Pending { get; init; }

    /// <summary>The searchable version of every live document, by document id.</summary>
    public required IReadOnlyDictionary<Guid, ActiveDocumentVersion> Active { get; init; }

    /// <summary>Active versions missing from the keyword index, or there with other chunk counts.</summary>
    public required IReadOnlyList<ActiveDocumentVersion> KeywordMissing { get; init; }

    /// <summary>Active versions that were embedded (or have vectors) without exactly their chunks in the vector index.</summary>
    public required IReadOnlyList<ActiveDocumentVersion> VectorIncomplete { get; init; }

    public required IReadOnlyList<IndexedDocumentVersion> KeywordOrphans { get; init; }

    public required IReadOnlyList<IndexedDocumentVersion> VectorOrphans { get; init; }
}

/// <summary>
/// Checks that the indexes hold exactly the active versions of the live documents: every one in
/// the keyword index with all its chunks, nothing else; in the vector index, every document that was
/// embedded (and any document present) with all its chunks, and nothing else. The one definition of
/// drift: <c>rag reconcile</c> groups the same analysis by source and repairs it.
/// </summary>
public sealed class StoreConsistencyChecker(IMetadataStore metadata, IKeywordIndex keyword, IVectorIndex vectors)
{
    public async Task<ConsistencyReport> CheckAsync(CancellationToken cancellationToken)
    {
        var drift = await AnalyzeAsync(cancellationToken);
        return new ConsistencyReport
        {
            Documents = drift.Active.Count,
            PendingOperations = drift.Pending.Count,
            KeywordMissing = drift.KeywordMissing.Select(a => a.DocumentId).ToList(),
            KeywordOrphans = drift.KeywordOrphans,
            VectorIncomplete = drift.VectorIncomplete.Select(a => a.DocumentId).ToList(),
            VectorOrphans = drift.VectorOrphans,
        };
    }

    public async Task<StoreDrift> AnalyzeAsync(CancellationToken cancellationToken)
    {
        var pending = await metadata.ListPendingOperationsAsync(cancellationToken);
        var active = (await metadata.ListActiveVersionsAsync(cancellationToken)).ToDictionary(v => v.DocumentId);
        var inKeyword = await keyword.ListDocumentVersionsAsync(cancellationToken);
        var inVectors = await vectors.ListDocumentVersionsAsync(cancellationToken);

        bool IsActive(IndexedDocumentVersion v) => active.TryGetValue(v.DocumentId, out var a) && a.Version == v.Version;

        var keywordByDoc = inKeyword.Where(IsActive).ToDictionary(v => v.DocumentId);
        var vectorsByDoc = inVectors.Where(IsActive).ToDictionary(v => v.DocumentId);
        return new StoreDrift
        {
            Pending = pending,
            Active = active,
            KeywordMissing = active.Values
                .Where(a => !keywordByDoc.TryGetValue(a.DocumentId, out var k) || k.ChunkCount != a.ChunkCount)
                .ToList(),
            VectorIncomplete = active.Values
                .Where(a => vectorsByDoc.TryGetValue(a.DocumentId, out var v) ? v.ChunkCount != a.ChunkCount : a.EmbeddingModel is not null)
                .ToList(),
            KeywordOrphans = inKeyword.Where(v => !IsActive(v)).ToList(),
            VectorOrphans = inVectors.Where(v => !IsActive(v)).ToList(),
        };
    }
}
