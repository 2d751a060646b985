using RagPlatform.Core.Documents;

namespace RagPlatform.Core.Metadata;

/// <summary>Where a source's documents come from.</summary>
public enum SourceKind
{
    /// <summary>Files and folders given to <c>rag ingest</c>.</summary>
    Files,

    /// <summary>A folder synced on a schedule, with include and exclude globs.</summary>
    Folder,

    /// <summary>A list of HTTP(S) URLs fetched with conditional GET.</summary>
    Urls,

    /// <summary>Documents pushed through the ingestion API.</summary>
    Push,
}

/// <summary>A registered source and its settings.</summary>
public sealed record SourceInfo
{
    public required Guid Id { get; init; }

    public required string Tenant { get; init; }

    public required string Name { get; init; }

    public required SourceKind Kind { get; init; }

    /// <summary>Kind-specific settings as JSON (folder path and globs, URL list file, ...).</summary>
    public string SettingsJson { get; init; } = "{}";

    /// <summary>Cron expression of the recurring sync; null for none.</summary>
    public string? Schedule { get; init; }

    /// <summary>ACL given to documents that carry none of their own (canonical, comma-separated).</summary>
    public string DefaultAcl { get; init; } = string.Empty;

    public int? ChunkTokens { get; init; }

    public int? OverlapTokens { get; init; }

    /// <summary>How stale the source may get before its freshness objective is breached.</summary>
    public TimeSpan? FreshnessObjective { get; init; }

    public bool Enabled { get; init; } = true;

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>What the write path needs to know of a document to decide whether it changed.</summary>
public sealed record DocumentSnapshot
{
    public required Guid Id { get; init; }

    public Guid SourceId { get; init; }

    public string Tenant { get; init; } = string.Empty;

    public required string ExternalKey { get; init; }

    public required DocumentState State { get; init; }

    /// <summary>The searchable version; 0 when none was ever indexed.</summary>
    public required int ActiveVersion { get; init; }

    /// <summary>The highest version number ever used (versions are never reused).</summary>
    public required int LatestVersion { get; init; }

    /// <summary>SHA-256 of the bytes of the active version.</summary>
    public string? ContentHash { get; init; }

    /// <summary>Settings the active version was processed with (parser, chunking, tokenizer, model).</summary>
    public string? PipelineFingerprint { get; init; }

    public required string Acl { get; init; }

    public required string Title { get; init; }

    public string? Uri { get; init; }

    public required string MetadataJson { get; init; }

    /// <summary>A cheap change marker from the source listing (size and mtime, or ETag).</summary>
    public string? SourceStamp { get; init; }

    public DateTimeOffset? ChangedAt { get; init; }

    public FailureKind FailureKind { get; init; }

    /// <summary>SHA-256 of the bytes that failed last, so that unchanged failing bytes are not retried forever.</summary>
    public string? FailedContentHash { get; init; }

    /// <summary>Failed attempts since the last success.</summary>
    public int FailureCount { get; init; }

    /// <summary>A version staged and not yet applied to the indexes (0: none), with what it was made from.</summary>
    public int PendingVersion { get; init; }

    public string? PendingContentHash { get; init; }

    public string? PendingFingerprint { get; init; }

    public string? PendingAcl { get; init; }

    /// <summary>When the pending version's content changed at the source.</summary>
    public DateTimeOffset? PendingChangedAt { get; init; }

    /// <summary>When the platform first saw the document.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When its active version became searchable.</summary>
    public DateTimeOffset? IndexedAt { get; init; }

    public DateTimeOffset? FailedAt { get; init; }

    public string? FailureReason { get; init; }
}
