using RagPlatform.Core;
using RagPlatform.Core.Documents;
using RagPlatform.IndexerJobs.Tests.Harness;
using RagPlatform.Testing;

namespace RagPlatform.IndexerJobs.Tests.Sources;

/// <summary>A folder source through its life: every step is checked in the stores and at retrieval level.</summary>
public sealed class FolderSourceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Additions_changes_and_deletions_in_the_folder_reach_every_store()
    {
        using var folder = new TempDirectory("folder");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        var a = folder.Write("a.md", "# Alpha\n\nThe alpha document mentions zebras.");
        var b = folder.Write("notes/b.txt", "The bravo note mentions walruses.");
        var source = await host.AddFolderAsync("docs", folder.Path, acl: "group:eng");

        var first = await host.SyncAsync(source);
        Assert.Equal((2, 0, 0, 0, 0), Counts(first));
        await host.AssertConsistentAsync();
        Assert.Equal([a], await host.VisibleAsync("zebras", "group:eng"));
        Assert.Equal([b], await host.VisibleAsync("walruses", "group:eng"));
        Assert.Empty(await host.VisibleAsync("zebras", "group:hr"));
        Assert.Empty(await host.VisibleAsync("zebras", "public"));

        Rewrite(a, "# Alpha\n\nThe alpha document now mentions yaks instead.");
        var second = await host.SyncAsync(source);
        Assert.Equal((0, 1, 1, 0, 0), Counts(second));
        await host.AssertConsistentAsync();
        Assert.Equal([a], await host.VisibleAsync("yaks", "group:eng"));
        Assert.Empty(await host.VisibleAsync("zebras", "group:eng"));
        Assert.Equal(2, (await host.DocumentsAsync(source))[a].ActiveVersion);

        File.Delete(b);
        var third = await host.SyncAsync(source);
        Assert.Equal((0, 0, 1, 1, 0), Counts(third));
        await host.AssertConsistentAsync();
        Assert.Empty(await host.VisibleAsync("walruses", "group:eng"));
        Assert.Equal(DocumentState.Deleted, (await host.DocumentsAsync(source))[b].State);

        var fourth = await host.SyncAsync(source);
        Assert.Equal((0, 0, 1, 0, 0), Counts(fourth));
        await host.AssertConsistentAsync();
    }

    [Fact]
    public async Task Acl_sidecars_and_folder_acl_files_decide_who_sees_each_document()
    {
        using var folder = new TempDirectory("folder");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        var folderAcl = folder.Write(".rag-acl", "group:eng\n");
        var a = folder.Write("a.md", "Apples grow in the orchard.");
        folder.Write("private/.rag-acl", "group:hr  # the people team only");
        var p = folder.Write("private/p.md", "Pears are reviewed in private.");
        var x = folder.Write("x.md", "Xylophones are loud.");
        var sidecar = folder.Write("x.md.acl", "user:alice");
        var source = await host.AddFolderAsync("docs", folder.Path, acl: "public");

        var first = await host.SyncAsync(source);
        Assert.Equal((3, 0, 0, 0, 0), Counts(first));
        Assert.Equal([a, p, x], (await host.DocumentsAsync(source)).Keys.Order(StringComparer.Ordinal));
        await host.AssertConsistentAsync();
        Assert.Equal([a], await host.VisibleAsync("apples", "group:eng"));
        Assert.Empty(await host.VisibleAsync("apples", "public"));
        Assert.Equal([p], await host.VisibleAsync("pears", "group:hr"));
        Assert.Empty(await host.VisibleAsync("pears", "group:eng"));
        Assert.Equal([x], await host.VisibleAsync("xylophones", "user:alice"));
        Assert.Empty(await host.VisibleAsync("xylophones", "group:eng"));

        // A sidecar change is an ACL-only change: no new version, applied in place.
        File.WriteAllText(sidecar, "group:eng, user:bob");
        var second = await host.SyncAsync(source);
        Assert.Equal((0, 1, 2, 0, 0), Counts(second));
        await host.AssertConsistentAsync();
        Assert.Equal(1, (await host.DocumentsAsync(source))[x].ActiveVersion);
        Assert.Equal([x], await host.VisibleAsync("xylophones", "user:bob"));
        Assert.Equal([x], await host.VisibleAsync("xylophones", "group:eng"));
        Assert.Empty(await host.VisibleAsync("xylophones", "user:alice"));

        // The folder file governs the files without a sidecar and without a nearer folder file.
        File.WriteAllText(folderAcl, "group:ops");
        var third = await host.SyncAsync(source);
        Assert.Equal((0, 1, 2, 0, 0), Counts(third));
        await host.AssertConsistentAsync();
        Assert.Equal([a], await host.VisibleAsync("apples", "group:ops"));
        Assert.Empty(await host.VisibleAsync("apples", "group:eng"));
        Assert.Equal([p], await host.VisibleAsync("pears", "group:hr"));
        Assert.Equal([x], await host.VisibleAsync("xylophones", "user:bob"));

        // Without its sidecar, a file falls back to its folder's ACL.
        File.Delete(sidecar);
        var fourth = await host.SyncAsync(source);
        Assert.Equal((0, 1, 2, 0, 0), Counts(fourth));
        await host.AssertConsistentAsync();
        Assert.Equal([x], await host.VisibleAsync("xylophones", "group:ops"));
        Assert.Empty(await host.VisibleAsync("xylophones", "user:bob"));
    }

    [Fact]
    public async Task An_invalid_acl_file_fails_the_document_and_keeps_its_indexed_version_until_fixed()
    {
        using var folder = new TempDirectory("folder");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        var a = folder.Write("a.md", "Apricots ripen in July.");
        var sidecar = folder.Write("a.md.acl", "user:alice");
        var source = await host.AddFolderAsync("docs", folder.Path);
        await host.SyncAsync(source);

        File.WriteAllText(sidecar, "alice");
        var broken = await host.SyncAsync(source);

        var failure = Assert.Single(broken.Failures);
        Assert.Equal(FailureKind.InvalidAcl, failure.Kind);
        Assert.Contains(sidecar, failure.Reason, StringComparison.Ordinal);
        var failed = Assert.Single(await host.Metadata.ListFailedDocumentsAsync(JobsTestHost.Tenant, source.Id, Ct));
        Assert.Equal(a, failed.ExternalKey);
        Assert.Equal(1, failed.ActiveVersion);
        Assert.Equal([a], await host.VisibleAsync("apricots", "user:alice"));
        await host.AssertConsistentAsync();

        File.WriteAllText(sidecar, "group:eng");
        var fixedRun = await host.SyncAsync(source);

        Assert.Equal(0, fixedRun.Failed);
        Assert.Equal([a], await host.VisibleAsync("apricots", "group:eng"));
        Assert.Empty(await host.VisibleAsync("apricots", "user:alice"));
        await host.AssertConsistentAsync();
        Assert.Equal(DocumentState.Indexed, (await host.DocumentsAsync(source))[a].State);
        Assert.Empty(await host.Metadata.ListFailedDocumentsAsync(JobsTestHost.Tenant, source.Id, Ct));
    }

    [Fact]
    public async Task Include_and_exclude_globs_select_the_files_and_a_change_of_globs_adds_and_removes_documents()
    {
        using var folder = new TempDirectory("folder");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        var a = folder.Write("a.md", "Anchors hold the boat.");
        var b = folder.Write("b.txt", "Buoys float on the water.");
        folder.Write("drafts/d.md", "Dinghies are drafted here.");
        var e = folder.Write("sub/e.md", "Eels swim below.");
        var f = folder.Write("sub/deep/f.md", "Flounders lie on the bottom.");
        var source = await host.AddFolderAsync("docs", folder.Path, include: ["**/*.md"], exclude: ["drafts/**"]);

        var first = await host.SyncAsync(source);

        Assert.Equal((3, 0, 0, 0, 0), Counts(first));
        Assert.Equal([a, f, e], (await host.DocumentsAsync(source)).Keys.Order(StringComparer.Ordinal));
        Assert.Empty(await host.VisibleAsync("dinghies", "public"));
        Assert.Empty(await host.VisibleAsync("buoys", "public"));
        await host.AssertConsistentAsync();

        source = await host.Catalog.UpdateAsync(JobsTestHost.Tenant, "docs", JobsTestHost.FolderSpec(folder.Path, include: ["**/*.md", "**/*.txt"], exclude: ["drafts/**", "sub/deep/**"]), Ct);
        var second = await host.SyncAsync(source);

        Assert.Equal((1, 0, 2, 1, 0), Counts(second));
        Assert.Equal([b], await host.VisibleAsync("buoys", "public"));
        Assert.Empty(await host.VisibleAsync("flounders", "public"));
        Assert.Equal(DocumentState.Deleted, (await host.DocumentsAsync(source))[f].State);
        await host.AssertConsistentAsync();
    }

    [Fact]
    public async Task A_missing_folder_fails_the_sync_and_deletes_nothing()
    {
        using var parent = new TempDirectory("folder");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        var path = parent.Combine("docs");
        var a = parent.Write("docs/a.md", "Albatrosses glide for hours.");
        parent.Write("docs/b.md", "Bitterns hide in reeds.");
        var source = await host.AddFolderAsync("docs", path);
        await host.SyncAsync(source);
        Directory.Move(path, path + "-unmounted");

        var error = await Assert.ThrowsAsync<RagPreconditionException>(() => host.SyncAsync(source));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.All((await host.DocumentsAsync(source)).Values, d => Assert.Equal(DocumentState.Indexed, d.State));
        Assert.Equal([a], await host.VisibleAsync("albatrosses", "public"));
        await host.AssertConsistentAsync();
        var run = (await host.Metadata.ListRunsAsync(source.Id, 10, Ct))[0];
        Assert.Equal("failed", run.Status);
        Assert.Contains(path, run.Summary?.Error, StringComparison.Ordinal);

        Directory.Move(path + "-unmounted", path);
        var back = await host.SyncAsync(source);
        Assert.Equal((0, 0, 2, 0, 0), Counts(back));
    }

    internal static (int Added, int Updated, int Unchanged, int Deleted, int Failed) Counts(Ingestion.Pipeline.IngestionResult r)
        => (r.Added, r.Updated, r.Unchanged, r.Deleted, r.Failed);

    /// <summary>New content with a later modification time, as an editor saving the file leaves it.</summary>
    internal static void Rewrite(string path, string content)
    {
        var before = File.GetLastWriteTimeUtc(path);
        File.WriteAllText(path, content);
        File.SetLastWriteTimeUtc(path, before.AddMinutes(1));
    }
}
