using RagPlatform.Core.Documents;
using RagPlatform.Core.Indexing;
using RagPlatform.Core.Metadata;

namespace RagPlatform.Ingestion.Pipeline;

/// <summary>What the preparation stage decided for one item.</summary>
internal abstract record PreparedDocument(string ExternalKey);

/// <summary>
/// Nothing changed; <paramref name="NewStamp"/> is remembered when only the cheap marker moved, and a document that
/// had failed since its active version was indexed is <paramref name="Recovered"/>: its failure is cleared.
/// </summary>
internal sealed record UnchangedDocument(string ExternalKey, Guid DocumentId, int Version, string? NewStamp, bool Recovered = false) : PreparedDocument(ExternalKey);

/// <summary>Same content, another ACL: updated in place, no new version, no re-embedding.</summary>
internal sealed record AccessOnlyChange(string ExternalKey, AccessChange Change, int Version) : PreparedDocument(ExternalKey);

/// <summary>
/// A new version, parsed and chunked; embeddings are attached by the embedding stage.
/// <paramref name="PreviousVersion"/> is the searchable version it replaces (0: a new document).
/// </summary>
internal sealed record VersionedDocument(string ExternalKey, NewVersion Version, IndexedChunk[] Chunks, int PreviousVersion) : PreparedDocument(ExternalKey)
{
    public bool IsNew => PreviousVersion == 0;

    public List<CachedEmbedding> NewEmbeddings { get; } = [];
}

/// <summary>The document failed in this run.</summary>
internal sealed record FailedDocument(string ExternalKey, DocumentFailureRecord Failure, bool Persist, int ActiveVersion) : PreparedDocument(ExternalKey);
