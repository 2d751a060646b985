using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Core.Indexing;
using RagPlatform.Core.Metadata;
using RagPlatform.Ingestion.Pipeline;
using RagPlatform.Testing;

namespace RagPlatform.Ingestion.Tests.Pipeline;

/// <summary>The checker the crash tests rely on must see every kind of drift, or those tests prove nothing.</summary>
public sealed class StoreConsistencyCheckerTests : IDisposable
{
    private readonly TempDirectory _files = new("files");
    private readonly TempDirectory _data = new("data");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task It_reports_orphans_missing_documents_partial_vectors_and_pending_writes()
    {
        _files.Write("a.txt", "Alpha text.");
        _files.Write("b.txt", "Beta text.");
        using var model = SharedModels.Embedder();
        await using var platform = TestPlatform.Start(_data.Path, model.Path);
        await platform.IngestAsync(_files.Path);
        var checker = new StoreConsistencyChecker(platform.Metadata, platform.Keyword, platform.Vectors);
        Assert.True((await checker.CheckAsync(Ct)).Consistent);

        var source = (await platform.Metadata.FindSourceAsync("t1", "docs", Ct))!;
        var a = (await platform.Metadata.FindDocumentAsync(source.Id, _files.Combine("a.txt"), Ct))!;
        var b = (await platform.Metadata.FindDocumentAsync(source.Id, _files.Combine("b.txt"), Ct))!;
        var orphan = new IndexedChunk { ChunkId = ChunkIds.Create(a.Id, 7, 0), DocumentId = a.Id, Version = 7, Tenant = "t1", SourceId = source.Id, Acl = ["public"], Title = "x", Text = "stale", Embedding = Unit(32) };
        var add = new IndexBatch();
        add.Upserts.Add(orphan);
        await platform.Keyword.ApplyAsync(add, Ct);
        await platform.Vectors.ApplyAsync(add, Ct);
        var drop = new IndexBatch();
        drop.Deletions.Add(new DocumentDeletion(b.Id));
        await platform.Keyword.ApplyAsync(drop, Ct);

        var report = await checker.CheckAsync(Ct);

        Assert.False(report.Consistent);
        Assert.Equal([(a.Id, 7)], report.KeywordOrphans.Select(o => (o.DocumentId, o.Version)).ToArray());
        Assert.Equal([(a.Id, 7)], report.VectorOrphans.Select(o => (o.DocumentId, o.Version)).ToArray());
        Assert.Equal([b.Id], report.KeywordMissing.ToArray());
        Assert.Empty(report.VectorIncomplete);

        // An embedded document that lost every vector is as incomplete as one that lost some.
        await platform.Vectors.ApplyAsync(drop, Ct);
        Assert.Equal([b.Id], (await checker.CheckAsync(Ct)).VectorIncomplete.ToArray());

        var staged = new WriteBatch();
        staged.Deletions.Add(a.Id);
        await platform.Metadata.StageAsync(staged, Ct);
        Assert.Equal(1, (await checker.CheckAsync(Ct)).PendingOperations);
    }

    private static float[] Unit(int dims)
    {
        var v = new float[dims];
        v[0] = 1;
        return v;
    }

    public void Dispose()
    {
        _files.Dispose();
        _data.Dispose();
    }
}
