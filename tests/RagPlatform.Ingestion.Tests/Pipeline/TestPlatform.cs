using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Core.Indexing;
using RagPlatform.Core.Metadata;
using RagPlatform.Core.Security;
using RagPlatform.Ingestion.Pipeline;
using RagPlatform.Ingestion.Sources;
using RagPlatform.Testing;

namespace RagPlatform.Ingestion.Tests.Pipeline;

/// <summary>
/// The real write path over a temporary data directory: SQLite, Lucene and the vector index on
/// disk, and optionally the synthetic tiny embedder. Nothing is faked.
/// </summary>
internal sealed class TestPlatform : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private TestPlatform(ServiceProvider services, string dataDirectory)
    {
        _services = services;
        DataDirectory = dataDirectory;
    }

    public string DataDirectory { get; }

    public IMetadataStore Metadata => _services.GetRequiredService<IMetadataStore>();

    public IKeywordIndex Keyword => _services.GetRequiredService<IKeywordIndex>();

    public IVectorIndex Vectors => _services.GetRequiredService<IVectorIndex>();

    public IngestionPipeline Pipeline => _services.GetRequiredService<IngestionPipeline>();

    public DocumentCommitter Committer => _services.GetRequiredService<DocumentCommitter>();

    public static TestPlatform Start(string dataDirectory, string? modelDirectory = null, IDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Rag:DataDirectory"] = dataDirectory,
            ["Rag:Embeddings:ModelDirectory"] = modelDirectory,
            ["Rag:Embeddings:IntraOpThreads"] = "1",
        };
        foreach (var kv in settings ?? new Dictionary<string, string?>())
        {
            values[kv.Key] = kv.Value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddRagOptions(configuration);
        services.AddRagIngestion();
        Directory.CreateDirectory(dataDirectory);
        return new TestPlatform(services.BuildServiceProvider(), dataDirectory);
    }

    public Task<IngestionResult> IngestAsync(string path, string acl = "public", string source = "docs", string tenant = "t1", bool force = false)
        => _services.GetRequiredService<PathIngestor>().IngestAsync(
            new PathIngestionRequest { Paths = [path], Tenant = tenant, Source = source, Acl = AccessControlList.Parse(acl), Force = force },
            progress: null,
            TestContext.Current.CancellationToken);

    /// <summary>Every chunk a caller with <paramref name="principals"/> finds for <paramref name="query"/> in the keyword index.</summary>
    public async Task<IReadOnlyList<ScoredChunk>> SearchAsync(string query, string tenant = "t1", params string[] principals)
        => await Keyword.SearchAsync(
            query,
            new SearchFilter { Tenant = tenant, Principals = new HashSet<string>(principals.Length == 0 ? ["public"] : principals, StringComparer.Ordinal) },
            1000,
            TestContext.Current.CancellationToken);

    /// <summary>
    /// The invariant crash safety is about: the indexes hold exactly the active version of every
    /// live document, with the same chunks as the metadata store, nothing else.
    /// </summary>
    public async Task AssertStoresAgreeAsync(bool expectVectors)
    {
        var ct = TestContext.Current.CancellationToken;
        Assert.Empty(await Metadata.ListPendingOperationsAsync(ct));
        var expected = (await Metadata.ListActiveVersionsAsync(ct))
            .Select(v => (v.DocumentId, v.Version, v.ChunkCount))
            .OrderBy(v => v.DocumentId)
            .ToList();
        var keyword = (await Keyword.ListDocumentVersionsAsync(ct)).Select(v => (v.DocumentId, v.Version, v.ChunkCount)).OrderBy(v => v.DocumentId).ToList();
        Assert.Equal(expected, keyword);
        var vectors = (await Vectors.ListDocumentVersionsAsync(ct)).Select(v => (v.DocumentId, v.Version, v.ChunkCount)).OrderBy(v => v.DocumentId).ToList();
        Assert.Equal(expectVectors ? expected : [], vectors);
        Assert.Equal(expected.Sum(e => e.ChunkCount), Keyword.Count);
    }

    public async ValueTask DisposeAsync() => await _services.DisposeAsync();
}
