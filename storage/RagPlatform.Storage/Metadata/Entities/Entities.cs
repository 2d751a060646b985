using RagPlatform.Core.Documents;
using RagPlatform.Core.Metadata;

namespace RagPlatform.Storage.Metadata.Entities;

// Persistence shapes only: the rest of the platform sees the records of RagPlatform.Core.Metadata.

internal sealed class TenantEntity
{
    public string Id { get; set; } = string.Empty;

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class SourceEntity
{
    public Guid Id { get; set; }

    public string TenantId { get; set; } = string.Empty;

    public string Name { get; set; } = string.Empty;

    public SourceKind Kind { get; set; }

    public string SettingsJson { get; set; } = "{}";

    public string? Schedule { get; set; }

    public string DefaultAcl { get; set; } = string.Empty;

    public int? ChunkTokens { get; set; }

    public int? OverlapTokens { get; set; }

    public long? FreshnessObjectiveSeconds { get; set; }

    public bool Enabled { get; set; } = true;

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class DocumentEntity
{
    public Guid Id { get; set; }

    public string TenantId { get; set; } = string.Empty;

    public Guid SourceId { get; set; }

    public string ExternalKey { get; set; } = string.Empty;

    /// <summary>SHA-256 of the external key: paths and URLs can exceed what a unique index accepts.</summary>
    public string ExternalKeyHash { get; set; } = string.Empty;

    public string Title { get; set; } = string.Empty;

    public string? Uri { get; set; }

    public string Acl { get; set; } = string.Empty;

    public string MetadataJson { get; set; } = "{}";

    public string? ContentType { get; set; }

    public long? SizeBytes { get; set; }

    public string? ContentHash { get; set; }

    public string? PipelineFingerprint { get; set; }

    /// <summary>The searchable version; 0 before the first one is indexed.</summary>
    public int ActiveVersion { get; set; }

    /// <summary>The highest version number used so far.</summary>
    public int LatestVersion { get; set; }

    public DocumentState State { get; set; }

    public FailureKind FailureKind { get; set; }

    public string? FailureReason { get; set; }

    public string? FailedContentHash { get; set; }

    public int FailureCount { get; set; }

    public DateTimeOffset? FailedAt { get; set; }

    public string? SourceStamp { get; set; }

    public DateTimeOffset? ChangedAt { get; set; }

    public DateTimeOffset? IndexedAt { get; set; }

    public DateTimeOffset? DeletedAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

internal enum VersionState
{
    Staged,
    Active,
    Superseded,
}

internal sealed class DocumentVersionEntity
{
    public Guid DocumentId { get; set; }

    public int Version { get; set; }

    public string ContentHash { get; set; } = string.Empty;

    public string PipelineFingerprint { get; set; } = string.Empty;

    public string Format { get; set; } = string.Empty;

    /// <summary>The normalised text citations point into; null once purged (document deleted).</summary>
    public string? Text { get; set; }

    public int? PageCount { get; set; }

    public int ChunkCount { get; set; }

    /// <summary>The document's header as staged with this version (title, URI, ACL, metadata...), applied on activation.</summary>
    public string HeaderJson { get; set; } = "{}";

    /// <summary>The model of the version's embeddings in the cache; null when keyword-only.</summary>
    public string? EmbeddingModel { get; set; }

    public VersionState State { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class ChunkEntity
{
    public string Id { get; set; } = string.Empty;

    public Guid DocumentId { get; set; }

    public int Version { get; set; }

    public int Ordinal { get; set; }

    public string Text { get; set; } = string.Empty;

    public int Start { get; set; }

    public int End { get; set; }

    public int ByteStart { get; set; }

    public int ByteEnd { get; set; }

    public int? PageStart { get; set; }

    public int? PageEnd { get; set; }

    /// <summary>Heading texts joined with U+001F (unit separator), which normalised text never contains.</summary>
    public string HeadingPath { get; set; } = string.Empty;

    public int TokenCount { get; set; }

    public string ContentHash { get; set; } = string.Empty;
}

internal sealed class EmbeddingCacheEntity
{
    public string ModelId { get; set; } = string.Empty;

    public string ContentHash { get; set; } = string.Empty;

    /// <summary>Little-endian float32 values.</summary>
    public byte[] Vector { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class IndexOperationEntity
{
    public long Id { get; set; }

    public Guid DocumentId { get; set; }

    public OperationKind Kind { get; set; }

    public int Version { get; set; }

    public int Step { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class RunEntity
{
    public Guid Id { get; set; }

    public string TenantId { get; set; } = string.Empty;

    public Guid? SourceId { get; set; }

    public string Trigger { get; set; } = string.Empty;

    /// <summary>The background job that ran it, when a job did.</summary>
    public string? JobId { get; set; }

    public string Status { get; set; } = "running";

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public int Added { get; set; }

    public int Updated { get; set; }

    public int Unchanged { get; set; }

    public int Deleted { get; set; }

    public int Failed { get; set; }

    public int Chunks { get; set; }

    public string? Error { get; set; }

    /// <summary>The run's failures as JSON: [{"key","kind","reason"}].</summary>
    public string FailuresJson { get; set; } = "[]";
}
