using RagPlatform.Core.Documents;
using RagPlatform.Testing;

namespace RagPlatform.Ingestion.Tests.Pipeline;

/// <summary>The whole write path with PostgreSQL as the metadata store (the distributed deployment's choice).</summary>
public sealed class PostgresPipelineTests(PostgresServer postgres) : IDisposable
{
    private readonly TempDirectory _files = new("files");
    private readonly TempDirectory _data = new("data");

    [Fact]
    public async Task Adds_updates_acl_changes_and_deletions_reach_every_store_on_postgresql()
    {
        _files.Write("a.md", "# Alpha\n\nAlpacas graze on the hills.");
        _files.Write("b.txt", "Bison roam the plains.");
        _files.Write("c.txt", "Cormorants dry their wings.");
        using var model = SharedModels.Embedder();
        await using var platform = TestPlatform.Start(_data.Path, model.Path, new Dictionary<string, string?>
        {
            ["Rag:Metadata:Provider"] = "Postgres",
            ["Rag:Metadata:ConnectionString"] = await postgres.CreateDatabaseAsync("pipeline"),
        });
        await platform.Metadata.MigrateAsync(TestContext.Current.CancellationToken);

        var first = await platform.IngestAsync(_files.Path, acl: "group:eng");
        _files.Write("b.txt", "Beavers build dams.");
        File.Delete(_files.Combine("c.txt"));
        var second = await platform.IngestAsync(_files.Path, acl: "group:eng");
        var third = await platform.IngestAsync(_files.Path, acl: "group:ops");

        Assert.Equal((3, 0, 0), (first.Added, first.Updated, first.Failed));
        Assert.Equal((1, 1, 1), (second.Updated, second.Deleted, second.Unchanged));
        Assert.Equal((0, 2, 0), (third.EmbeddedChunks, third.Updated, third.Chunks));
        Assert.Empty(await platform.SearchAsync("bison", "t1", "group:ops"));
        Assert.Single(await platform.SearchAsync("beavers", "t1", "group:ops"));
        Assert.Empty(await platform.SearchAsync("beavers", "t1", "group:eng"));
        Assert.Empty(await platform.SearchAsync("cormorants", "t1", "group:ops"));
        var source = (await platform.Metadata.FindSourceAsync("t1", "docs", TestContext.Current.CancellationToken))!;
        var deleted = (await platform.Metadata.FindDocumentAsync(source.Id, _files.Combine("c.txt"), TestContext.Current.CancellationToken))!;
        Assert.Equal(DocumentState.Deleted, deleted.State);
        await platform.AssertStoresAgreeAsync(expectVectors: true);
    }

    public void Dispose()
    {
        _files.Dispose();
        _data.Dispose();
    }
}
