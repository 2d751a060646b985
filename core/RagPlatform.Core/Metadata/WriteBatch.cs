using RagPlatform.Core.Documents;

namespace RagPlatform.Core.Metadata;

/// <summary>The descriptive fields of a document: what it is and who may see it.</summary>
public sealed record DocumentHeader
{
    public required Guid Id { get; init; }

    public required string Tenant { get; init; }

    public required Guid SourceId { get; init; }

    /// <summary>Unique within the source: a path, a URL, or the caller's id.</summary>
    public required string ExternalKey { get; init; }

    public required string Title { get; init; }

    public string? Uri { get; init; }

    /// <summary>Canonical, comma-separated principals (<see cref="Security.AccessControlList.ToString"/>).</summary>
    public required string Acl { get; init; }

    /// <summary>A JSON object of string values.</summary>
    public string MetadataJson { get; init; } = "{}";

    /// <summary>When the document changed at its source (modification time, the sync that saw a new ETag, or the push time).</summary>
    public DateTimeOffset? ChangedAt { get; init; }

    public string? SourceStamp { get; init; }

    public string? ContentType { get; init; }

    public long? SizeBytes { get; init; }
}

/// <summary>A chunk row of one document version.</summary>
public sealed record ChunkRecord
{
    public required string ChunkId { get; init; }

    public required int Ordinal { get; init; }

    public required string Text { get; init; }

    public required int Start { get; init; }

    public required int End { get; init; }

    /// <summary>The same range in bytes of the UTF-8 encoded normalised text.</summary>
    public int ByteStart { get; init; }

    public int ByteEnd { get; init; }

    public int? PageStart { get; init; }

    public int? PageEnd { get; init; }

    public required IReadOnlyList<string> HeadingPath { get; init; }

    public required int TokenCount { get; init; }

    public required string ContentHash { get; init; }
}

/// <summary>A new version of a document, parsed and chunked, ready to be staged.</summary>
public sealed record NewVersion
{
    public required DocumentHeader Document { get; init; }

    public required int Version { get; init; }

    /// <summary>SHA-256 of the source bytes.</summary>
    public required string ContentHash { get; init; }

    public required string PipelineFingerprint { get; init; }

    public required string Format { get; init; }

    /// <summary>The normalised text that citations point into.</summary>
    public required string Text { get; init; }

    public int? PageCount { get; init; }

    /// <summary>The model whose embeddings (in the cache, by chunk hash) belong to this version; null when keyword-only.</summary>
    public string? EmbeddingModel { get; init; }

    public required IReadOnlyList<ChunkRecord> Chunks { get; init; }
}

/// <summary>An ACL-only change, applied in place without a new version or re-embedding.</summary>
public sealed record AccessChange(Guid DocumentId, string Acl, string? SourceStamp, DateTimeOffset? ChangedAt);

/// <summary>A cached embedding of a chunk text under one model.</summary>
public sealed record CachedEmbedding(string ModelId, string ContentHash, float[] Vector);

/// <summary>
/// Everything one commit of the pipeline writes. The store and the indexes go through it in
/// steps (stage, index, activate, clean up), each preceded by a persisted state, so that a crash
/// at any point is repaired on restart.
/// </summary>
public sealed class WriteBatch
{
    public List<NewVersion> Versions { get; } = [];

    public List<AccessChange> AccessChanges { get; } = [];

    /// <summary>Documents that disappeared from their source.</summary>
    public List<Guid> Deletions { get; } = [];

    public List<CachedEmbedding> Embeddings { get; } = [];

    public bool IsEmpty => Versions.Count == 0 && AccessChanges.Count == 0 && Deletions.Count == 0;
}

/// <summary>A document that could not be processed.</summary>
public sealed record DocumentFailureRecord(DocumentHeader Document, FailureKind Kind, string Reason, string? ContentHash);

public enum OperationKind
{
    /// <summary>A version is being made searchable; <see cref="PendingOperation.Step"/> 0 = staged, 1 = active with cleanup pending.</summary>
    Upsert,

    /// <summary>A document is being removed from every index.</summary>
    Delete,

    /// <summary>A document's ACL is being applied to every index.</summary>
    Access,
}

/// <summary>
/// An index write that was started and not finished: the journal that makes crashes repairable.
/// <paramref name="ActiveVersion"/> and <paramref name="Acl"/> are the document's current ones, which
/// recovery needs to roll the indexes back or forward.
/// </summary>
public sealed record PendingOperation(long Id, Guid DocumentId, OperationKind Kind, int Version, int Step, int ActiveVersion = 0, string Acl = "");
