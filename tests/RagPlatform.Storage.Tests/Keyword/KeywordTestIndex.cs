using RagPlatform.Core.Indexing;
using RagPlatform.Storage.Keyword;
using RagPlatform.Testing;

namespace RagPlatform.Storage.Tests.Keyword;

/// <summary>A keyword index in its own temp directory, with helpers to write plain chunks.</summary>
internal sealed class KeywordTestIndex : IDisposable
{
    private readonly TempDirectory _directory = new("keyword");

    public KeywordTestIndex(KeywordIndexOptions? options = null)
    {
        Path = _directory.Combine("idx");
        Index = LuceneKeywordIndex.Open(Path, options);
    }

    public string Path { get; }

    public LuceneKeywordIndex Index { get; private set; }

    public static SearchFilter Public(string tenant = "t1") => new()
    {
        Tenant = tenant,
        Principals = new HashSet<string>(StringComparer.Ordinal) { "public" },
    };

    public static IndexedChunk Chunk(Guid documentId, string title, string text, int version = 1, int ordinal = 0, IReadOnlyDictionary<string, string>? metadata = null)
        => new()
        {
            ChunkId = ChunkIds.Create(documentId, version, ordinal),
            DocumentId = documentId,
            Version = version,
            Tenant = "t1",
            SourceId = Guid.Empty,
            Acl = ["public"],
            Title = title,
            Text = text,
            Metadata = metadata ?? IndexedChunk.EmptyMetadata,
        };

    public async Task<Guid> AddAsync(string title, string text)
    {
        var id = Guid.NewGuid();
        await UpsertAsync(Chunk(id, title, text));
        return id;
    }

    public async Task UpsertAsync(params IndexedChunk[] chunks)
    {
        var batch = new IndexBatch();
        batch.Upserts.AddRange(chunks);
        await Index.ApplyAsync(batch, TestContext.Current.CancellationToken);
    }

    public async Task<IReadOnlyList<ScoredChunk>> SearchAsync(string query, int limit = 10, SearchFilter? filter = null)
        => await Index.SearchAsync(query, filter ?? Public(), limit, TestContext.Current.CancellationToken);

    public async Task<Guid[]> FindAsync(string query) => (await SearchAsync(query)).Select(h => h.DocumentId).ToArray();

    public void Reopen(KeywordIndexOptions? options = null)
    {
        Index.Dispose();
        Index = LuceneKeywordIndex.Open(Path, options);
    }

    public void Dispose()
    {
        Index.Dispose();
        _directory.Dispose();
    }
}
