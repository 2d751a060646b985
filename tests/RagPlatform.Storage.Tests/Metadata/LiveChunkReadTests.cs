using RagPlatform.Core.Indexing;
using RagPlatform.Core.Metadata;
using RagPlatform.Testing;

namespace RagPlatform.Storage.Tests.Metadata;

/// <summary>
/// <see cref="IMetadataStore.GetLiveChunksAsync"/>, the read path's per-query hydration, against both providers:
/// every field read back as written, and only chunks of the tenant, of the active version, of live documents.
/// </summary>
public abstract class LiveChunkReadTests(PostgresServer? postgres) : MetadataStoreTestBase(postgres)
{
    [Fact]
    public async Task Every_field_of_a_live_chunk_is_read_back_as_written()
    {
        var source = await Store.EnsureSourceAsync("t1", "docs", SourceKind.Push, Ct);
        var id = Guid.NewGuid();
        var changed = new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);
        var header = Header(source, id, "key-é", changed) with { Uri = null, Acl = "group:eng,user:alice", MetadataJson = """{"year":"2024","kind":"é"}""" };
        var version = Version(header, 1, ["Café au lait.", "Second chunk."]);
        version = version with
        {
            Chunks =
            [
                version.Chunks[0] with { PageStart = 3, PageEnd = 4, HeadingPath = ["Intro", "Café"], ByteStart = 0, ByteEnd = 14, TokenCount = 5 },
                version.Chunks[1] with { HeadingPath = [], ByteStart = 16, ByteEnd = 29 },
            ],
        };
        await CommitAsync(version);

        var chunks = (await Store.GetLiveChunksAsync("t1", [ChunkIds.Create(id, 1, 0), ChunkIds.Create(id, 1, 1)], Ct)).OrderBy(c => c.Ordinal).ToList();

        Assert.Equal(2, chunks.Count);
        var first = chunks[0];
        Assert.Equal((ChunkIds.Create(id, 1, 0), id, 1, 0), (first.ChunkId, first.DocumentId, first.Version, first.Ordinal));
        Assert.Equal(("Café au lait.", 0, 13, 0, 14), (first.Text, first.Start, first.End, first.ByteStart, first.ByteEnd));
        Assert.Equal((3, 4), (first.PageStart, first.PageEnd));
        Assert.Equal(["Intro", "Café"], first.HeadingPath);
        Assert.Equal((5, "hash-0"), (first.TokenCount, first.ContentHash));
        Assert.Equal(("t1", source.Id, "key-é", "Title of key-é"), (first.Tenant, first.SourceId, first.ExternalKey, first.Title));
        Assert.Null(first.Uri);
        Assert.Equal("group:eng,user:alice", first.Acl);
        Assert.Equal("""{"year":"2024","kind":"é"}""", first.MetadataJson);
        Assert.Equal(changed, first.ChangedAt);
        var second = chunks[1];
        Assert.Equal(("Second chunk.", 15, 28, 16, 29), (second.Text, second.Start, second.End, second.ByteStart, second.ByteEnd));
        Assert.Null(second.PageStart);
        Assert.Null(second.PageEnd);
        Assert.Empty(second.HeadingPath);
    }

    [Fact]
    public async Task One_request_serves_only_the_tenants_active_chunks_of_live_documents()
    {
        var t1 = await Store.EnsureSourceAsync("t1", "docs", SourceKind.Push, Ct);
        var t2 = await Store.EnsureSourceAsync("t2", "docs", SourceKind.Push, Ct);
        Guid updated = Guid.NewGuid(), deleted = Guid.NewGuid(), foreign = Guid.NewGuid(), staged = Guid.NewGuid(), plain = Guid.NewGuid();
        await CommitAsync(Version(Header(t1, updated, "updated"), 1, ["old a", "old b"]));
        await CommitAsync(Version(Header(t1, deleted, "deleted"), 1, ["gone"]));
        await CommitAsync(Version(Header(t2, foreign, "foreign"), 1, ["theirs"]));
        await CommitAsync(Version(Header(t1, plain, "plain"), 1, ["mine"]));

        // Version 2 active but not finished: the rows of version 1 are still there, and must not be served.
        var update = Batch(Version(Header(t1, updated, "updated"), 2, ["new a"]));
        await Store.StageAsync(update, Ct);
        await Store.ActivateAsync(update, DateTimeOffset.UtcNow, Ct);
        var deletion = new WriteBatch();
        deletion.Deletions.Add(deleted);
        await Store.StageAsync(deletion, Ct);
        await Store.StageAsync(Batch(Version(Header(t1, staged, "staged"), 1, ["not yet"])), Ct);

        string[] asked =
        [
            ChunkIds.Create(updated, 1, 0), ChunkIds.Create(updated, 1, 1), ChunkIds.Create(updated, 2, 0),
            ChunkIds.Create(deleted, 1, 0), ChunkIds.Create(foreign, 1, 0), ChunkIds.Create(staged, 1, 0),
            ChunkIds.Create(plain, 1, 0), "no-such-chunk", "x' OR '1'='1",
        ];
        var served = (await Store.GetLiveChunksAsync("t1", asked, Ct)).Select(c => c.ChunkId).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(new[] { ChunkIds.Create(updated, 2, 0), ChunkIds.Create(plain, 1, 0) }.Order(StringComparer.Ordinal), served);
        Assert.Equal([ChunkIds.Create(foreign, 1, 0)], (await Store.GetLiveChunksAsync("t2", asked, Ct)).Select(c => c.ChunkId));
    }

    [Fact]
    public async Task More_ids_than_one_statement_takes_come_back_once_each()
    {
        var source = await Store.EnsureSourceAsync("t1", "docs", SourceKind.Push, Ct);
        var ids = new List<string>();
        for (var d = 0; d < 3; d++)
        {
            var id = Guid.NewGuid();
            await CommitAsync(Version(Header(source, id, $"doc{d}"), 1, Enumerable.Range(0, 450).Select(i => $"chunk {i}").ToArray()));
            ids.AddRange(Enumerable.Range(0, 450).Select(i => ChunkIds.Create(id, 1, i)));
        }

        var asked = ids.Concat(ids.Take(100)).Append("unknown").ToList();
        var served = await Store.GetLiveChunksAsync("t1", asked, Ct);

        Assert.Equal(ids.Order(StringComparer.Ordinal), served.Select(c => c.ChunkId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task No_ids_ask_nothing()
        => Assert.Empty(await Store.GetLiveChunksAsync("t1", [], Ct));

    private async Task CommitAsync(NewVersion version)
    {
        var batch = Batch(version);
        await Store.StageAsync(batch, Ct);
        await Store.ActivateAsync(batch, DateTimeOffset.UtcNow, Ct);
        await Store.FinishAsync(batch, Ct);
    }

    private static WriteBatch Batch(NewVersion version)
    {
        var batch = new WriteBatch();
        batch.Versions.Add(version);
        return batch;
    }

    private static DocumentHeader Header(SourceInfo source, Guid id, string key, DateTimeOffset? changed = null) => new()
    {
        Id = id,
        Tenant = source.Tenant,
        SourceId = source.Id,
        ExternalKey = key,
        Title = "Title of " + key,
        Uri = "push://" + key,
        Acl = "public",
        ChangedAt = changed ?? new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
    };

    private static NewVersion Version(DocumentHeader header, int version, string[] parts)
    {
        var chunks = new List<ChunkRecord>();
        var offset = 0;
        for (var i = 0; i < parts.Length; i++)
        {
            chunks.Add(new ChunkRecord
            {
                ChunkId = ChunkIds.Create(header.Id, version, i),
                Ordinal = i,
                Text = parts[i],
                Start = offset,
                End = offset + parts[i].Length,
                HeadingPath = [],
                TokenCount = 2,
                ContentHash = $"hash-{i}",
            });
            offset += parts[i].Length + 2;
        }

        return new NewVersion
        {
            Document = header,
            Version = version,
            ContentHash = $"bytes-{header.ExternalKey}-{version}",
            PipelineFingerprint = "fp",
            Format = "text",
            Text = string.Join("\n\n", parts),
            Chunks = chunks,
        };
    }
}

public sealed class SqliteLiveChunkReadTests() : LiveChunkReadTests(postgres: null);

public sealed class PostgresLiveChunkReadTests(PostgresServer postgres) : LiveChunkReadTests(postgres);
