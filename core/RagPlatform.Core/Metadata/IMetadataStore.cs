using RagPlatform.Core.Documents;

namespace RagPlatform.Core.Metadata;

/// <summary>
/// The metadata store: the source of truth for tenants, sources, documents, versions, chunks,
/// runs and the journal of index writes. SQLite by default, PostgreSQL when configured.
/// </summary>
public interface IMetadataStore
{
    /// <summary>Creates or upgrades the schema.</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    // Sources

    Task<SourceInfo> EnsureSourceAsync(string tenant, string name, SourceKind kind, CancellationToken cancellationToken);

    Task<SourceInfo?> FindSourceAsync(string tenant, string name, CancellationToken cancellationToken);

    Task<SourceInfo?> GetSourceAsync(Guid sourceId, CancellationToken cancellationToken);

    /// <summary>Every source of a tenant (of all tenants when null), by tenant and name.</summary>
    Task<IReadOnlyList<SourceInfo>> ListSourcesAsync(string? tenant, CancellationToken cancellationToken);

    /// <summary>Registers a source; a source of that name in the tenant already existing is a <see cref="RagConflictException"/>.</summary>
    Task<SourceInfo> CreateSourceAsync(SourceInfo source, CancellationToken cancellationToken);

    /// <summary>Replaces a source's settings (not its tenant, name or kind).</summary>
    Task<SourceInfo> UpdateSourceAsync(SourceInfo source, CancellationToken cancellationToken);

    /// <summary>Removes a source whose documents are all deleted (the caller deletes them from every store first).</summary>
    Task DeleteSourceAsync(Guid sourceId, CancellationToken cancellationToken);

    // Documents as the write path sees them

    /// <summary>Every document of a source that is not deleted.</summary>
    Task<IReadOnlyList<DocumentSnapshot>> ListDocumentsAsync(Guid sourceId, CancellationToken cancellationToken);

    Task<DocumentSnapshot?> FindDocumentAsync(Guid sourceId, string externalKey, CancellationToken cancellationToken);

    /// <summary>Remembers new cheap change markers of documents whose bytes turned out unchanged.</summary>
    Task UpdateSourceStampsAsync(IReadOnlyList<(Guid DocumentId, string SourceStamp)> stamps, CancellationToken cancellationToken);

    /// <summary>
    /// Documents that had failed since their active version was indexed (a transient error, a broken ACL file) and
    /// were found with that same content again: indexed again, their failure cleared.
    /// </summary>
    Task ClearFailuresAsync(IReadOnlyList<Guid> documentIds, CancellationToken cancellationToken);

    /// <summary>Marks documents failed with class and reason; an indexed version, if any, stays searchable.</summary>
    Task RecordFailuresAsync(IReadOnlyList<DocumentFailureRecord> failures, CancellationToken cancellationToken);

    // The write protocol (see WriteBatch): stage -> indexes -> activate -> indexes -> finish.

    /// <summary>Persists new versions (not yet searchable), ACL changes, deletions and the journal entries for all of them.</summary>
    Task StageAsync(WriteBatch batch, CancellationToken cancellationToken);

    /// <summary>Makes the staged versions the active ones (after every index holds them).</summary>
    Task ActivateAsync(WriteBatch batch, DateTimeOffset indexedAt, CancellationToken cancellationToken);

    /// <summary>Drops superseded chunks and deleted documents' content, and closes the journal entries (after the indexes dropped them).</summary>
    Task FinishAsync(WriteBatch batch, CancellationToken cancellationToken);

    Task<IReadOnlyList<PendingOperation>> ListPendingOperationsAsync(CancellationToken cancellationToken);

    /// <summary>Staged versions as they were staged (header, text, chunks, embedding model), for applying them to the indexes.</summary>
    Task<IReadOnlyList<NewVersion>> GetStagedVersionsAsync(IReadOnlyCollection<(Guid DocumentId, int Version)> versions, CancellationToken cancellationToken);

    /// <summary>Rolls back a staged version that never became active (its index entries must already be gone).</summary>
    Task AbandonStagedVersionAsync(PendingOperation operation, CancellationToken cancellationToken);

    /// <summary>Completes an operation whose index writes were redone after a crash.</summary>
    Task CompleteOperationAsync(PendingOperation operation, CancellationToken cancellationToken);

    // Embedding cache, keyed by chunk hash and model

    Task<IReadOnlyDictionary<string, float[]>> GetCachedEmbeddingsAsync(string modelId, IReadOnlyCollection<string> contentHashes, CancellationToken cancellationToken);

    // Reading

    /// <summary>
    /// The chunks among <paramref name="chunkIds"/> that are servable now: of the tenant, of their
    /// document's active version, and of a document that is not deleted. The read path's final check.
    /// </summary>
    Task<IReadOnlyList<LiveChunk>> GetLiveChunksAsync(string tenant, IReadOnlyCollection<string> chunkIds, CancellationToken cancellationToken);

    /// <summary>The chunks of each document's active version, for rebuilding index entries.</summary>
    Task<IReadOnlyList<LiveChunk>> GetActiveChunksAsync(IReadOnlyCollection<Guid> documentIds, CancellationToken cancellationToken);

    Task<DocumentDetails?> GetDocumentAsync(string tenant, Guid documentId, CancellationToken cancellationToken);

    /// <summary>The normalised text of one version, or null when it is unknown or purged.</summary>
    Task<string?> GetVersionTextAsync(string tenant, Guid documentId, int version, CancellationToken cancellationToken);

    /// <summary>Every searchable (document, active version, chunk count), for reconciliation.</summary>
    Task<IReadOnlyList<ActiveDocumentVersion>> ListActiveVersionsAsync(CancellationToken cancellationToken);

    // Runs

    Task<Guid> StartRunAsync(string tenant, Guid? sourceId, string trigger, DateTimeOffset startedAt, string? jobId, CancellationToken cancellationToken);

    Task FinishRunAsync(Guid runId, RunSummary summary, CancellationToken cancellationToken);

    Task<IReadOnlyList<RunInfo>> ListRunsAsync(Guid? sourceId, int limit, CancellationToken cancellationToken);

    /// <summary>A run by its id, or the latest run of a background job.</summary>
    Task<RunInfo?> FindRunAsync(Guid? runId, string? jobId, CancellationToken cancellationToken);

    /// <summary>Documents whose last attempt failed (the dead letters), of a tenant or source or all.</summary>
    Task<IReadOnlyList<DocumentSnapshot>> ListFailedDocumentsAsync(string? tenant, Guid? sourceId, CancellationToken cancellationToken);
}

/// <summary>A chunk that may be served, with what a hit needs of its document.</summary>
public sealed record LiveChunk
{
    public required string ChunkId { get; init; }

    public required Guid DocumentId { get; init; }

    public required int Version { get; init; }

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

    public required string Tenant { get; init; }

    public required Guid SourceId { get; init; }

    public required string ExternalKey { get; init; }

    public required string Title { get; init; }

    public string? Uri { get; init; }

    public required string Acl { get; init; }

    public required string MetadataJson { get; init; }

    public DateTimeOffset? ChangedAt { get; init; }
}

/// <summary>A searchable version; <paramref name="EmbeddingModel"/> null means it was indexed keyword-only (no vectors expected).</summary>
public sealed record ActiveDocumentVersion(Guid DocumentId, Guid SourceId, int Version, int ChunkCount, string? EmbeddingModel = null);

public sealed record DocumentVersionInfo(int Version, string ContentHash, string Format, int ChunkCount, int? PageCount, DateTimeOffset CreatedAt, string State);

public sealed record DocumentDetails
{
    public required DocumentSnapshot Document { get; init; }

    public required string Tenant { get; init; }

    public required Guid SourceId { get; init; }

    public string? FailureReason { get; init; }

    public DateTimeOffset? IndexedAt { get; init; }

    public required IReadOnlyList<DocumentVersionInfo> Versions { get; init; }
}

public sealed record RunSummary
{
    public int Added { get; init; }

    public int Updated { get; init; }

    public int Unchanged { get; init; }

    public int Deleted { get; init; }

    public int Failed { get; init; }

    public int Chunks { get; init; }

    public DateTimeOffset FinishedAt { get; init; }

    public string Status { get; init; } = "succeeded";

    public string? Error { get; init; }

    public IReadOnlyList<RunFailure> Failures { get; init; } = [];
}

public sealed record RunFailure(string ExternalKey, FailureKind Kind, string Reason);

public sealed record RunInfo(Guid Id, string Tenant, Guid? SourceId, string Trigger, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string Status, RunSummary? Summary)
{
    public string? JobId { get; init; }
}
