using RagPlatform.Core.Documents;
using RagPlatform.Core.Indexing;
using RagPlatform.Core.Metadata;

namespace RagPlatform.Ingestion.Pipeline;

/// <summary>What the preparation stage decided for one item.</summary>
internal abstract record PreparedDocument(string ExternalKey);

/// <summary>Nothing changed; <paramref name="NewStamp"/> is remembered when only the cheap marker moved.</summary>
internal sealed record UnchangedDocument(string ExternalKey, Guid DocumentId, string? NewStamp) : PreparedDocument(ExternalKey);

/// <summary>Same content, another ACL: updated in place, no new version, no re-embedding.</summary>
internal sealed record AccessOnlyChange(string ExternalKey, AccessChange Change) : PreparedDocument(ExternalKey);

/// <summary>A new version, parsed and chunked; embeddings are attached by the embedding stage.</summary>
internal sealed record VersionedDocument(string ExternalKey, NewVersion Version, IndexedChunk[] Chunks, bool IsNew) : PreparedDocument(ExternalKey)
{
    public List<CachedEmbedding> NewEmbeddings { get; } = [];
}

/// <summary>The document failed in this run.</summary>
internal sealed record FailedDocument(string ExternalKey, DocumentFailureRecord Failure, bool Persist) : PreparedDocument(ExternalKey);
