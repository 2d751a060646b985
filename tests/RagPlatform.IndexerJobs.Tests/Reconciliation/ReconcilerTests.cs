using RagPlatform.Core.Documents;
using RagPlatform.Core.Indexing;
using RagPlatform.Core.Metadata;
using RagPlatform.IndexerJobs.Reconciliation;
using RagPlatform.IndexerJobs.Tests.Harness;
using RagPlatform.Testing;

namespace RagPlatform.IndexerJobs.Tests.Reconciliation;

/// <summary>Drift built by hand in every store and at the source; reconciliation reports it exactly, then repairs it.</summary>
public sealed class ReconcilerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Check_only_reports_each_kind_of_drift_exactly_and_changes_nothing_then_a_repair_leaves_none()
    {
        using var folder = new TempDirectory("folder");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        var a = folder.Write("a.md", "Anemones cling to rocks.");
        var b = folder.Write("b.md", "Barnacles cover the hull.");
        var c = folder.Write("c.md", "Cormorants dive for fish.");
        var d = folder.Write("d.md", "Dolphins leap in the bay.");
        var f = folder.Write("f.md", "Flamingos stand on one leg.");
        var source = await host.AddFolderAsync("docs", folder.Path);
        await host.SyncAsync(source);
        var docs = await host.DocumentsAsync(source);

        // Store drift: a's entries gone from the keyword index; a stale version of f and a chunk of an
        // unknown document in the indexes; an ACL change of d (its new sidecar) staged in the journal
        // and never applied, as a sync interrupted after staging leaves it.
        folder.Write("d.md.acl", "group:staged");
        await ApplyAsync(host.Keyword, deletions: [new DocumentDeletion(docs[a].Id)]);
        await ApplyAsync(host.Keyword, upserts: [Chunk(docs[f].Id, source.Id, version: 99, "flamingos of an old version")]);
        var unknown = Guid.NewGuid();
        await ApplyAsync(host.Keyword, upserts: [Chunk(unknown, source.Id, version: 1, "ghostly orphan")]);
        await ApplyAsync(host.Vectors, upserts: [Chunk(unknown, source.Id, version: 1, "ghostly orphan") with { Embedding = [0.5f, 0.5f, 0.5f, 0.5f] }]);
        var staged = new WriteBatch();
        staged.AccessChanges.Add(new AccessChange(docs[d].Id, "group:staged", null, null));
        await host.Metadata.StageAsync(staged, Ct);

        // Source drift behind the metadata store's back: one file gone, one new, one changed.
        File.Delete(b);
        var e = folder.Write("e.md", "Egrets wade in shallow water.");
        FolderSourceRewrite(c, "Cormorants dry their wings.");
        var runsBefore = (await host.Metadata.ListRunsAsync(source.Id, 100, Ct)).Count;

        var check = await host.Reconciler.ReconcileAsync(tenant: null, sourceName: null, checkOnly: true, Ct);

        var drift = Assert.Single(check.Sources);
        Assert.Equal(
            new SourceDrift
            {
                Tenant = JobsTestHost.Tenant,
                Source = "docs",
                Documents = 5,
                KeywordMissing = 1,
                KeywordOrphans = 1,
                VectorIncomplete = 0,
                VectorOrphans = 0,
                PendingOperations = 1,
                SourceNew = 1,
                SourceMissing = 1,
                SourceChanged = 1,
                Repaired = 0,
            },
            drift);
        Assert.Equal(1, check.UnknownOrphans);

        // Nothing changed: the drift is all still there.
        Assert.Empty(await host.VisibleAsync("anemones", "public"));
        Assert.Single(await host.Metadata.ListPendingOperationsAsync(Ct));
        Assert.Contains(await host.Keyword.ListDocumentVersionsAsync(Ct), v => v.DocumentId == unknown);
        Assert.Contains(await host.Vectors.ListDocumentVersionsAsync(Ct), v => v.DocumentId == unknown);
        Assert.Contains(await host.Keyword.ListDocumentVersionsAsync(Ct), v => v.DocumentId == docs[f].Id && v.Version == 99);
        Assert.Equal(DocumentState.Indexed, (await host.DocumentsAsync(source))[b].State);
        Assert.False((await host.DocumentsAsync(source)).ContainsKey(e));
        Assert.Equal(runsBefore, (await host.Metadata.ListRunsAsync(source.Id, 100, Ct)).Count);

        var repair = await host.Reconciler.ReconcileAsync(tenant: null, sourceName: null, checkOnly: false, Ct);

        Assert.Equal(5, Assert.Single(repair.Sources).Repaired);
        var after = await host.Reconciler.ReconcileAsync(tenant: null, sourceName: null, checkOnly: true, Ct);
        Assert.Equal(0, Assert.Single(after.Sources).Drift);
        Assert.Equal(0, after.UnknownOrphans);
        Assert.Equal(5, after.Sources[0].Documents);
        await host.AssertConsistentAsync();
        Assert.Equal([a], await host.VisibleAsync("anemones", "public"));
        Assert.Empty(await host.VisibleAsync("barnacles", "public"));
        Assert.Equal([c], await host.VisibleAsync("wings", "public"));
        Assert.Equal([e], await host.VisibleAsync("egrets", "public"));
        Assert.Equal([d], await host.VisibleAsync("dolphins", "group:staged"));
        Assert.Empty(await host.VisibleAsync("ghostly", "public"));
        Assert.Equal([f], await host.VisibleAsync("flamingos", "public"));
        Assert.DoesNotContain(await host.Vectors.ListDocumentVersionsAsync(Ct), v => v.DocumentId == unknown);
    }

    [Fact]
    public async Task Reconciling_one_source_leaves_entries_of_unknown_documents_alone()
    {
        using var folder = new TempDirectory("folder");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        folder.Write("a.md", "Anemones cling to rocks.");
        var source = await host.AddFolderAsync("docs", folder.Path);
        await host.SyncAsync(source);
        var unknown = Guid.NewGuid();
        await ApplyAsync(host.Keyword, upserts: [Chunk(unknown, Guid.NewGuid(), version: 1, "ghostly orphan")]);

        var report = await host.Reconciler.ReconcileAsync(JobsTestHost.Tenant, "docs", checkOnly: false, Ct);

        Assert.Equal(0, report.UnknownOrphans);
        Assert.Equal(0, Assert.Single(report.Sources).Drift);
        Assert.Contains(await host.Keyword.ListDocumentVersionsAsync(Ct), v => v.DocumentId == unknown);
    }

    [Fact]
    public async Task A_source_that_cannot_be_listed_is_reported_and_the_stores_and_other_sources_are_still_reconciled()
    {
        using var parent = new TempDirectory("folder");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        var away = parent.Combine("away");
        var a = parent.Write("away/a.md", "Albatrosses glide for hours.");
        var b = parent.Write("here/b.md", "Bitterns hide in reeds.");
        var unreachable = await host.AddFolderAsync("away", away);
        var reachable = await host.AddFolderAsync("here", parent.Combine("here"));
        await host.SyncAsync(unreachable);
        await host.SyncAsync(reachable);
        await ApplyAsync(host.Keyword, deletions: [new DocumentDeletion((await host.DocumentsAsync(reachable))[b].Id)]);
        Directory.Move(away, away + "-unmounted");

        var report = await host.Reconciler.ReconcileAsync(tenant: null, sourceName: null, checkOnly: false, Ct);

        var awayDrift = report.Sources.Single(s => s.Source == "away");
        Assert.Contains(away, awayDrift.SourceError, StringComparison.Ordinal);
        Assert.Equal((0, 0), (awayDrift.SourceMissing, awayDrift.Repaired));
        var hereDrift = report.Sources.Single(s => s.Source == "here");
        Assert.Equal((1, 1, null), (hereDrift.KeywordMissing, hereDrift.Repaired, hereDrift.SourceError));
        Assert.Equal([a], await host.VisibleAsync("albatrosses", "public"));
        Assert.Equal([b], await host.VisibleAsync("bitterns", "public"));
        await host.AssertConsistentAsync();
    }

    [Fact]
    public async Task A_url_that_fails_transiently_is_not_reported_missing_from_its_source()
    {
        await using var server = await HttpTestServer.StartAsync();
        using var dir = new TempDirectory("urls");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path, settings: new Dictionary<string, string?> { ["Rag:Jobs:HttpAttempts"] = "1" });
        server.Serve("a.txt", new() { Body = "Aardvarks dig burrows at night.", ETag = "\"a-1\"" });
        var source = await host.AddUrlsAsync("web", server.WriteUrlList(dir, "a.txt"));
        await host.SyncAsync(source);
        server.Change("a.txt", r => r with { Status = 500 });

        var report = await host.Reconciler.ReconcileAsync(tenant: null, sourceName: null, checkOnly: true, Ct);

        Assert.Equal(0, Assert.Single(report.Sources).Drift);
        Assert.Single(await host.VisibleAsync("aardvarks", "public"));
    }

    private static void FolderSourceRewrite(string path, string content) => Sources.FolderSourceTests.Rewrite(path, content);

    private static IndexedChunk Chunk(Guid documentId, Guid sourceId, int version, string text) => new()
    {
        ChunkId = ChunkIds.Create(documentId, version, 0),
        DocumentId = documentId,
        Version = version,
        Tenant = JobsTestHost.Tenant,
        SourceId = sourceId,
        Acl = ["public"],
        Title = text,
        Text = text,
    };

    private static async Task ApplyAsync(IChunkIndex index, IReadOnlyList<IndexedChunk>? upserts = null, IReadOnlyList<DocumentDeletion>? deletions = null)
    {
        var batch = new IndexBatch();
        batch.Upserts.AddRange(upserts ?? []);
        batch.Deletions.AddRange(deletions ?? []);
        await index.ApplyAsync(batch, Ct);
    }
}
