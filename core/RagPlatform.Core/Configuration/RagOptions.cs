using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace RagPlatform.Core.Configuration;

/// <summary>
/// Settings of the whole platform, bound from the <c>Rag</c> section. Read in this order, later
/// winning: <c>appsettings.json</c>, environment variables (<c>RAG__Embeddings__ModelDirectory</c>),
/// command-line flags.
/// </summary>
public sealed class RagOptions
{
    public const string SectionName = "Rag";

    /// <summary>What this process does; see <see cref="PlatformRole"/>.</summary>
    public PlatformRole Role { get; set; } = PlatformRole.All;

    /// <summary>Where the embedded stores live: <c>metadata.db</c>, <c>keyword/</c>, <c>vectors/</c>.</summary>
    [Required(ErrorMessage = "Rag:DataDirectory is required: set it (or pass --data DIR) to the directory where the indexes live.")]
    public string DataDirectory { get; set; } = string.Empty;

    public MetadataStoreOptions Metadata { get; set; } = new();

    [ValidateObjectMembers]
    public EmbeddingOptions Embeddings { get; set; } = new();

    public RerankerOptions Reranker { get; set; } = new();

    [ValidateObjectMembers]
    public ChunkingOptions Chunking { get; set; } = new();

    [ValidateObjectMembers]
    public IngestionLimits Limits { get; set; } = new();
}

/// <summary>
/// What a process does. Only processes that own the indexes write them: indexer workers stage new
/// versions (text, chunks, embeddings) in the metadata store with a journal entry each, and the
/// index owner applies the journal to its indexes, so any number of workers can share one queue.
/// </summary>
public enum PlatformRole
{
    /// <summary>Everything in one process: ingestion and retrieval services, the job host, the indexes.</summary>
    All,

    /// <summary>Only the job host: syncs sources and stages what changed; never opens the indexes.</summary>
    Indexer,

    /// <summary>The gRPC services and the indexes (applying what indexers staged); no job host.</summary>
    Retrieval,
}

public enum MetadataProvider
{
    /// <summary>A file under the data directory; the default for one machine.</summary>
    Sqlite,

    /// <summary>A PostgreSQL database given by <see cref="MetadataStoreOptions.ConnectionString"/>.</summary>
    Postgres,
}

public sealed class MetadataStoreOptions
{
    public MetadataProvider Provider { get; set; } = MetadataProvider.Sqlite;

    /// <summary>Required for PostgreSQL; for SQLite, defaults to <c>DATA/metadata.db</c>.</summary>
    public string? ConnectionString { get; set; }
}

public sealed class EmbeddingOptions
{
    /// <summary>A directory with <c>model.onnx</c>, <c>vocab.txt</c> and <c>rag-model.json</c>. Unset: no local model.</summary>
    public string? ModelDirectory { get; set; }

    /// <summary>Base URL of an OpenAI-compatible embeddings endpoint (OpenAI, Azure OpenAI, Ollama, vLLM, TEI).</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>Model name sent to the endpoint.</summary>
    public string? EndpointModel { get; set; }

    /// <summary>API key for the endpoint; read from the environment (<c>RAG__Embeddings__ApiKey</c>), never logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Texts per model call. 32 keeps padding waste low for chunks of 256 tokens.</summary>
    [Range(1, 1024)]
    public int BatchSize { get; set; } = 32;

    /// <summary>Threads for the local model; the machines we target have 2 cores.</summary>
    [Range(1, 256)]
    public int IntraOpThreads { get; set; } = Math.Max(1, Environment.ProcessorCount);
}

public sealed class RerankerOptions
{
    /// <summary>A directory with a cross-encoder <c>model.onnx</c>, <c>vocab.txt</c> and optional <c>rag-model.json</c>. Unset: no reranking.</summary>
    public string? ModelDirectory { get; set; }
}

public sealed class ChunkingOptions
{
    /// <summary>
    /// Token budget of one chunk. 256 fits the small BERT-family embedders (max 256 to 512 word pieces)
    /// and keeps a chunk focused enough to cite.
    /// </summary>
    [Range(16, 8192)]
    public int MaxTokens { get; set; } = 256;

    /// <summary>Tokens repeated from the end of one chunk at the start of the next, so that a sentence cut by a boundary is still found.</summary>
    [Range(0, 4096)]
    public int OverlapTokens { get; set; } = 32;
}

public sealed class IngestionLimits
{
    /// <summary>Files larger than this are rejected as too large (default 50 MB).</summary>
    [Range(1, long.MaxValue)]
    public long MaxFileBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>Documents committed to the stores together; one index commit per batch.</summary>
    [Range(1, 100_000)]
    public int CommitBatchSize { get; set; } = 256;
}

/// <summary>Validates <see cref="RagOptions"/> and its nested sections at start-up (source-generated).</summary>
[OptionsValidator]
public sealed partial class RagOptionsValidator : IValidateOptions<RagOptions>
{
}
