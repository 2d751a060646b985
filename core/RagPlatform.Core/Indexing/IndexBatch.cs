namespace RagPlatform.Core.Indexing;

/// <summary>
/// A set of changes that an index applies atomically and durably: when <see cref="IChunkIndex.ApplyAsync"/>
/// returns, all of it is persisted; after a crash, either all of it or none of it is there.
/// Order inside a batch: deletions first, then upserts, then access updates.
/// </summary>
public sealed class IndexBatch
{
    /// <summary>Chunks to add or replace (by <see cref="IndexedChunk.ChunkId"/>).</summary>
    public List<IndexedChunk> Upserts { get; } = [];

    /// <summary>Chunks to remove, by document and version.</summary>
    public List<DocumentDeletion> Deletions { get; } = [];

    /// <summary>ACL changes applied in place to every chunk of a document, with no re-embedding.</summary>
    public List<AccessUpdate> AccessUpdates { get; } = [];

    public bool IsEmpty => Upserts.Count == 0 && Deletions.Count == 0 && AccessUpdates.Count == 0;
}

/// <summary>
/// Removes every chunk of <paramref name="DocumentId"/> except those of <paramref name="KeepVersion"/>
/// (all of them when it is null).
/// </summary>
public sealed record DocumentDeletion(Guid DocumentId, int? KeepVersion = null);

/// <summary>Replaces the ACL of every chunk of a document.</summary>
public sealed record AccessUpdate(Guid DocumentId, IReadOnlyList<string> Acl);

/// <summary>What an index holds of one document version, for reconciliation.</summary>
public sealed record IndexedDocumentVersion(Guid DocumentId, int Version, int ChunkCount);
