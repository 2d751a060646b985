using RagPlatform.Core.Configuration;
using RagPlatform.Core.Documents;
using RagPlatform.Core.Metadata;
using RagPlatform.Core.Security;

namespace RagPlatform.Ingestion.Pipeline;

/// <summary>One run of the pipeline over a source's documents.</summary>
public sealed record IngestionRequest
{
    public required SourceInfo Source { get; init; }

    public required IReadOnlyList<IngestItem> Items { get; init; }

    /// <summary>The ACL of items that carry none.</summary>
    public AccessControlList DefaultAcl { get; init; } = AccessControlList.Empty;

    /// <summary>
    /// Which existing documents of the source this listing speaks for: those whose external key
    /// passes and that are not among <see cref="Items"/> are deleted. Null: the run deletes nothing
    /// (a push of some documents says nothing about the others).
    /// </summary>
    public Func<string, bool>? DeletionScope { get; init; }

    /// <summary>External keys to delete explicitly.</summary>
    public IReadOnlyCollection<string> Deletions { get; init; } = [];

    /// <summary>Chunking of this source; null takes the platform default.</summary>
    public ChunkingOptions? Chunking { get; init; }

    /// <summary>What started the run: <c>cli</c>, <c>push</c>, <c>schedule</c>, <c>manual</c>, <c>replay</c>.</summary>
    public string Trigger { get; init; } = "cli";

    /// <summary>Reprocess documents even when nothing changed (after a parser fix, for a replay).</summary>
    public bool Force { get; init; }

    /// <summary>The background job running this, recorded with the run.</summary>
    public string? JobId { get; init; }
}

/// <summary>What a run did.</summary>
public sealed record IngestionResult
{
    public Guid RunId { get; init; }

    public int Added { get; init; }

    public int Updated { get; init; }

    public int Unchanged { get; init; }

    public int Deleted { get; init; }

    public int Failed { get; init; }

    /// <summary>Chunks written to the indexes by this run.</summary>
    public int Chunks { get; init; }

    public IReadOnlyList<IngestionFailure> Failures { get; init; } = [];

    /// <summary>Every document the run touched, in the order they were committed.</summary>
    public IReadOnlyList<DocumentOutcomeRecord> Outcomes { get; init; } = [];

    public TimeSpan Elapsed { get; init; }

    /// <summary>Chunks embedded by the model in this run, and chunks whose embedding came from the cache.</summary>
    public int EmbeddedChunks { get; init; }

    public int CachedEmbeddings { get; init; }

    /// <summary>Null when an embedding model was used; otherwise why the run was keyword-only.</summary>
    public string? KeywordOnlyReason { get; init; }

    /// <summary>Time spent in each stage, summed over the workers that ran it.</summary>
    public IReadOnlyDictionary<string, TimeSpan> StageTimes { get; init; } = new Dictionary<string, TimeSpan>();

    /// <summary>Documents that were processed in any way (not failed).</summary>
    public int Succeeded => Added + Updated + Unchanged + Deleted;
}

public sealed record IngestionFailure(string ExternalKey, FailureKind Kind, string Reason);

public enum DocumentOutcome
{
    Added,
    Updated,
    Unchanged,
    Failed,
    Deleted,

    /// <summary>Asked to delete a document that does not exist (or is already deleted).</summary>
    NotFound,
}

/// <summary>What happened to one document in a run, and its searchable version afterwards (0 when none).</summary>
public sealed record DocumentOutcomeRecord(string ExternalKey, Guid DocumentId, DocumentOutcome Outcome, int Version, IngestionFailure? Failure = null);

/// <summary>Progress of a run, for a terminal progress bar.</summary>
public readonly record struct IngestionProgress(int Done, int Total, string? Current);
