using RagPlatform.Core.Documents;
using RagPlatform.Core.Indexing;
using RagPlatform.Core.Metadata;
using RagPlatform.Testing;

namespace RagPlatform.Storage.Tests.Metadata;

/// <summary>
/// The behaviour of the metadata store that the write and read paths rely on, run against every
/// provider: SQLite and PostgreSQL, both real.
/// </summary>
public abstract class MetadataStoreConformanceTests(PostgresServer? postgres) : MetadataStoreTestBase(postgres)
{
    private async Task<SourceInfo> SourceAsync(string tenant = "t1", string name = "docs")
        => await Store.EnsureSourceAsync(tenant, name, SourceKind.Files, Ct);

    private static DocumentHeader Header(SourceInfo source, Guid id, string key, string acl = "public", string title = "Title")
        => new()
        {
            Id = id,
            Tenant = source.Tenant,
            SourceId = source.Id,
            ExternalKey = key,
            Title = title,
            Uri = "file://" + key,
            Acl = acl,
            ChangedAt = new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero),
            SourceStamp = "stamp-" + key,
        };

    private static NewVersion Version(DocumentHeader header, int version, string text, int chunks = 2)
    {
        var parts = Enumerable.Range(0, chunks).Select(i => $"{text} part {i}").ToArray();
        var full = string.Join("\n\n", parts);
        var records = new List<ChunkRecord>();
        var offset = 0;
        for (var i = 0; i < parts.Length; i++)
        {
            records.Add(new ChunkRecord
            {
                ChunkId = ChunkIds.Create(header.Id, version, i),
                Ordinal = i,
                Text = parts[i],
                Start = offset,
                End = offset + parts[i].Length,
                HeadingPath = ["Intro", $"Section {i}"],
                TokenCount = 4,
                ContentHash = $"hash-{text}-{i}",
                PageStart = i + 1,
                PageEnd = i + 1,
            });
            offset += parts[i].Length + 2;
        }

        return new NewVersion
        {
            Document = header,
            Version = version,
            ContentHash = "bytes-" + text,
            PipelineFingerprint = "fp1",
            Format = "text",
            Text = full,
            Chunks = records,
        };
    }

    private async Task CommitAsync(WriteBatch batch)
    {
        await Store.StageAsync(batch, Ct);
        await Store.ActivateAsync(batch, DateTimeOffset.UtcNow, Ct);
        await Store.FinishAsync(batch, Ct);
    }

    private static WriteBatch Batch(params NewVersion[] versions)
    {
        var batch = new WriteBatch();
        batch.Versions.AddRange(versions);
        return batch;
    }

    private async Task<string[]> LiveIdsAsync(string tenant, params string[] chunkIds)
        => (await Store.GetLiveChunksAsync(tenant, chunkIds, Ct)).Select(c => c.ChunkId).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task Migrating_twice_is_harmless()
    {
        await Store.MigrateAsync(Ct);
        Assert.Empty(await Store.ListPendingOperationsAsync(Ct));
    }

    [Fact]
    public async Task A_source_is_created_once_per_tenant_and_name()
    {
        var a = await SourceAsync("t1", "docs");
        var again = await SourceAsync("t1", "docs");
        var other = await SourceAsync("t2", "docs");

        Assert.Equal(a.Id, again.Id);
        Assert.NotEqual(a.Id, other.Id);
        Assert.Equal(SourceKind.Files, (await Store.FindSourceAsync("t1", "docs", Ct))!.Kind);
        Assert.Null(await Store.FindSourceAsync("t1", "missing", Ct));
    }

    [Fact]
    public async Task A_staged_version_becomes_servable_only_when_activated()
    {
        var source = await SourceAsync();
        var id = Guid.NewGuid();
        var batch = Batch(Version(Header(source, id, "/a.txt"), 1, "alpha"));
        string[] ids = [ChunkIds.Create(id, 1, 0), ChunkIds.Create(id, 1, 1)];

        await Store.StageAsync(batch, Ct);
        Assert.Empty(await LiveIdsAsync("t1", ids));
        Assert.Equal(DocumentState.Pending, (await Store.FindDocumentAsync(source.Id, "/a.txt", Ct))!.State);

        await Store.ActivateAsync(batch, DateTimeOffset.UtcNow, Ct);
        Assert.Equal(ids, await LiveIdsAsync("t1", ids));

        await Store.FinishAsync(batch, Ct);
        var chunk = (await Store.GetLiveChunksAsync("t1", [ids[1]], Ct)).Single();
        Assert.Equal("alpha part 1", chunk.Text);
        Assert.Equal(["Intro", "Section 1"], chunk.HeadingPath);
        Assert.Equal((2, 2), (chunk.PageStart!.Value, chunk.PageEnd!.Value));
        Assert.Equal("/a.txt", chunk.ExternalKey);
        Assert.Equal("public", chunk.Acl);
        var text = await Store.GetVersionTextAsync("t1", id, 1, Ct);
        Assert.Equal(chunk.Text, text![chunk.Start..chunk.End]);
    }

    [Fact]
    public async Task The_old_version_stays_servable_until_the_new_one_is_activated()
    {
        var source = await SourceAsync();
        var id = Guid.NewGuid();
        var header = Header(source, id, "/b.txt");
        await CommitAsync(Batch(Version(header, 1, "old")));
        string[] v1 = [ChunkIds.Create(id, 1, 0), ChunkIds.Create(id, 1, 1)];
        string[] v2 = [ChunkIds.Create(id, 2, 0), ChunkIds.Create(id, 2, 1)];

        var update = Batch(Version(header with { Title = "New title" }, 2, "new"));
        await Store.StageAsync(update, Ct);
        Assert.Equal(v1, await LiveIdsAsync("t1", [.. v1, .. v2]));

        await Store.ActivateAsync(update, DateTimeOffset.UtcNow, Ct);
        Assert.Equal(v2, await LiveIdsAsync("t1", [.. v1, .. v2]));
        Assert.Equal("New title", (await Store.GetLiveChunksAsync("t1", v2, Ct))[0].Title);

        await Store.FinishAsync(update, Ct);
        var details = (await Store.GetDocumentAsync("t1", id, Ct))!;
        Assert.Equal(2, details.Document.ActiveVersion);
        Assert.Equal(["superseded", "active"], details.Versions.Select(v => v.State).ToArray());
        Assert.Equal("old part 0\n\nold part 1", await Store.GetVersionTextAsync("t1", id, 1, Ct));
        Assert.Equal(2, (await Store.GetActiveChunksAsync([id], Ct)).Count);
        Assert.Empty(await Store.ListPendingOperationsAsync(Ct));
    }

    [Fact]
    public async Task Version_numbers_are_never_reused()
    {
        var source = await SourceAsync();
        var header = Header(source, Guid.NewGuid(), "/c.txt");
        await CommitAsync(Batch(Version(header, 1, "one")));

        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.StageAsync(Batch(Version(header, 1, "again")), Ct));
    }

    [Fact]
    public async Task A_deleted_document_stops_being_served_at_once_and_its_content_is_purged()
    {
        var source = await SourceAsync();
        var id = Guid.NewGuid();
        var header = Header(source, id, "/d.txt");
        await CommitAsync(Batch(Version(header, 1, "doomed")));
        var batch = new WriteBatch();
        batch.Deletions.Add(id);

        await Store.StageAsync(batch, Ct);
        Assert.Empty(await LiveIdsAsync("t1", ChunkIds.Create(id, 1, 0)));
        Assert.Equal([(id, OperationKind.Delete)], (await Store.ListPendingOperationsAsync(Ct)).Select(o => (o.DocumentId, o.Kind)).ToArray());

        await Store.ActivateAsync(batch, DateTimeOffset.UtcNow, Ct);
        await Store.FinishAsync(batch, Ct);
        var snapshot = (await Store.FindDocumentAsync(source.Id, "/d.txt", Ct))!;
        Assert.Equal(DocumentState.Deleted, snapshot.State);
        Assert.Null(await Store.GetVersionTextAsync("t1", id, 1, Ct));
        Assert.Empty(await Store.ListPendingOperationsAsync(Ct));
        Assert.DoesNotContain(await Store.ListActiveVersionsAsync(Ct), v => v.DocumentId == id);

        // It comes back: same id, a higher version.
        await CommitAsync(Batch(Version(header, snapshot.LatestVersion + 1, "reborn")));
        Assert.Equal([ChunkIds.Create(id, 2, 0)], await LiveIdsAsync("t1", ChunkIds.Create(id, 2, 0)));
    }

    [Fact]
    public async Task An_access_change_is_effective_for_readers_when_staged()
    {
        var source = await SourceAsync();
        var id = Guid.NewGuid();
        await CommitAsync(Batch(Version(Header(source, id, "/e.txt", acl: "group:eng"), 1, "secret")));
        var batch = new WriteBatch();
        batch.AccessChanges.Add(new AccessChange(id, "user:alice", "stamp-2", null));

        await Store.StageAsync(batch, Ct);
        Assert.Equal("user:alice", (await Store.GetLiveChunksAsync("t1", [ChunkIds.Create(id, 1, 0)], Ct)).Single().Acl);
        Assert.Contains(await Store.ListPendingOperationsAsync(Ct), o => o.DocumentId == id && o.Kind == OperationKind.Access);

        await Store.ActivateAsync(batch, DateTimeOffset.UtcNow, Ct);
        await Store.FinishAsync(batch, Ct);
        Assert.Empty(await Store.ListPendingOperationsAsync(Ct));
        Assert.Equal("stamp-2", (await Store.FindDocumentAsync(source.Id, "/e.txt", Ct))!.SourceStamp);
    }

    [Fact]
    public async Task The_journal_tracks_each_step_and_an_abandoned_first_version_leaves_nothing()
    {
        var source = await SourceAsync();
        var id = Guid.NewGuid();
        var batch = Batch(Version(Header(source, id, "/f.txt"), 1, "crash"));

        await Store.StageAsync(batch, Ct);
        var op = Assert.Single(await Store.ListPendingOperationsAsync(Ct));
        Assert.Equal((id, OperationKind.Upsert, 1, 0), (op.DocumentId, op.Kind, op.Version, op.Step));

        await Store.AbandonStagedVersionAsync(op, Ct);
        Assert.Empty(await Store.ListPendingOperationsAsync(Ct));
        Assert.Null(await Store.FindDocumentAsync(source.Id, "/f.txt", Ct));
        Assert.Null(await Store.GetVersionTextAsync("t1", id, 1, Ct));
    }

    [Fact]
    public async Task Abandoning_a_staged_update_keeps_the_active_version()
    {
        var source = await SourceAsync();
        var id = Guid.NewGuid();
        var header = Header(source, id, "/g.txt");
        await CommitAsync(Batch(Version(header, 1, "keep")));
        await Store.StageAsync(Batch(Version(header, 2, "lose")), Ct);

        var op = Assert.Single(await Store.ListPendingOperationsAsync(Ct));
        Assert.Equal((2, 0, 1, "public"), (op.Version, op.Step, op.ActiveVersion, op.Acl));
        await Store.AbandonStagedVersionAsync(op, Ct);

        var doc = (await Store.FindDocumentAsync(source.Id, "/g.txt", Ct))!;
        Assert.Equal(1, doc.ActiveVersion);
        Assert.Equal(2, doc.LatestVersion);
        Assert.Equal([ChunkIds.Create(id, 1, 0)], await LiveIdsAsync("t1", ChunkIds.Create(id, 1, 0), ChunkIds.Create(id, 2, 0)));
        Assert.Null(await Store.GetVersionTextAsync("t1", id, 2, Ct));
    }

    [Fact]
    public async Task Completing_an_activated_operation_drops_the_superseded_chunks()
    {
        var source = await SourceAsync();
        var id = Guid.NewGuid();
        var header = Header(source, id, "/h.txt");
        await CommitAsync(Batch(Version(header, 1, "one")));
        var update = Batch(Version(header, 2, "two", chunks: 1));
        await Store.StageAsync(update, Ct);
        await Store.ActivateAsync(update, DateTimeOffset.UtcNow, Ct);

        var op = Assert.Single(await Store.ListPendingOperationsAsync(Ct));
        Assert.Equal(1, op.Step);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.CompleteOperationAsync(op with { Step = 0 }, Ct));
        await Store.CompleteOperationAsync(op, Ct);

        Assert.Empty(await Store.ListPendingOperationsAsync(Ct));
        var active = Assert.Single(await Store.ListActiveVersionsAsync(Ct), v => v.DocumentId == id);
        Assert.Equal((2, 1), (active.Version, active.ChunkCount));
    }

    [Fact]
    public async Task Embeddings_are_cached_per_model_and_hash()
    {
        var source = await SourceAsync();
        var batch = Batch(Version(Header(source, Guid.NewGuid(), "/i.txt"), 1, "vec"));
        batch.Embeddings.Add(new CachedEmbedding("m1", "h1", [1f, 2f, 3f]));
        batch.Embeddings.Add(new CachedEmbedding("m1", "h1", [1f, 2f, 3f]));
        batch.Embeddings.Add(new CachedEmbedding("m2", "h1", [9f]));
        await CommitAsync(batch);

        // A later batch with an already cached hash does not fail on the duplicate.
        var again = Batch(Version(Header(source, Guid.NewGuid(), "/j.txt"), 1, "vec2"));
        again.Embeddings.Add(new CachedEmbedding("m1", "h1", [1f, 2f, 3f]));
        again.Embeddings.Add(new CachedEmbedding("m1", "h2", [4f, 5f, 6f]));
        await CommitAsync(again);

        var m1 = await Store.GetCachedEmbeddingsAsync("m1", ["h1", "h2", "h3"], Ct);
        Assert.Equal([1f, 2f, 3f], m1["h1"]);
        Assert.Equal([4f, 5f, 6f], m1["h2"]);
        Assert.False(m1.ContainsKey("h3"));
        var m2 = await Store.GetCachedEmbeddingsAsync("m2", ["h1"], Ct);
        Assert.Equal([9f], m2["h1"]);
    }

    [Fact]
    public async Task A_failure_of_a_new_document_is_recorded_and_of_an_indexed_one_keeps_it_served()
    {
        var source = await SourceAsync();
        var fresh = Header(source, Guid.NewGuid(), "/broken.pdf");
        var indexedId = Guid.NewGuid();
        var indexed = Header(source, indexedId, "/k.txt");
        await CommitAsync(Batch(Version(indexed, 1, "fine")));

        await Store.RecordFailuresAsync(
            [new DocumentFailureRecord(fresh, FailureKind.Corrupt, "truncated PDF", "h-broken"), new DocumentFailureRecord(indexed, FailureKind.InvalidEncoding, "invalid UTF-8 at byte 3", "h-bad")],
            Ct);

        var broken = (await Store.FindDocumentAsync(source.Id, "/broken.pdf", Ct))!;
        Assert.Equal((DocumentState.Failed, FailureKind.Corrupt, 0, "h-broken"), (broken.State, broken.FailureKind, broken.ActiveVersion, broken.FailedContentHash));
        var stillServed = (await Store.FindDocumentAsync(source.Id, "/k.txt", Ct))!;
        Assert.Equal((DocumentState.Failed, 1), (stillServed.State, stillServed.ActiveVersion));
        Assert.Equal("invalid UTF-8 at byte 3", (await Store.GetDocumentAsync("t1", indexedId, Ct))!.FailureReason);
        Assert.Single(await LiveIdsAsync("t1", ChunkIds.Create(indexedId, 1, 0)));
    }

    [Fact]
    public async Task Tenants_are_isolated_on_every_read()
    {
        var t1 = await SourceAsync("t1");
        var id = Guid.NewGuid();
        await CommitAsync(Batch(Version(Header(t1, id, "/l.txt"), 1, "mine")));

        Assert.Empty(await LiveIdsAsync("t2", ChunkIds.Create(id, 1, 0)));
        Assert.Null(await Store.GetDocumentAsync("t2", id, Ct));
        Assert.Null(await Store.GetVersionTextAsync("t2", id, 1, Ct));
    }

    [Fact]
    public async Task Very_long_external_keys_are_unique_and_found()
    {
        var source = await SourceAsync();
        var key = "/" + new string('x', 5000) + ".txt";
        var similar = key[..^5] + "y.txt";
        await CommitAsync(Batch(Version(Header(source, Guid.NewGuid(), key), 1, "long"), Version(Header(source, Guid.NewGuid(), similar), 1, "long2")));

        Assert.Equal(key, (await Store.FindDocumentAsync(source.Id, key, Ct))!.ExternalKey);
        Assert.Equal(2, (await Store.ListDocumentsAsync(source.Id, Ct)).Count);
    }

    [Fact]
    public async Task A_staged_version_reads_back_as_it_was_staged_and_shows_as_pending()
    {
        var source = await SourceAsync();
        var id = Guid.NewGuid();
        var header = Header(source, id, "/s.txt", acl: "group:eng", title: "Staged title") with { MetadataJson = "{\"team\":\"red\"}" };
        var version = Version(header, 1, "staged") with { EmbeddingModel = "m@abc" };
        await Store.StageAsync(Batch(version), Ct);

        var read = Assert.Single(await Store.GetStagedVersionsAsync([(id, 1)], Ct));
        Assert.Equal(header, read.Document);
        Assert.Equal(("m@abc", version.Text, version.ContentHash), (read.EmbeddingModel, read.Text, read.ContentHash));
        Assert.Equal(version.Chunks.Select(c => (c.ChunkId, c.Text, c.Start, c.End, c.PageStart)), read.Chunks.Select(c => (c.ChunkId, c.Text, c.Start, c.End, c.PageStart)));
        var snapshot = Assert.Single(await Store.ListDocumentsAsync(source.Id, Ct));
        Assert.Equal((0, 1, "bytes-staged", "group:eng"), (snapshot.ActiveVersion, snapshot.PendingVersion, snapshot.PendingContentHash, snapshot.PendingAcl));
    }

    [Fact]
    public async Task Activating_a_version_leaves_a_newer_one_staged_meanwhile_pending()
    {
        var source = await SourceAsync();
        var id = Guid.NewGuid();
        var header = Header(source, id, "/race.txt");
        var v1 = Batch(Version(header, 1, "one"));
        await Store.StageAsync(v1, Ct);
        var v2 = Batch(Version(header, 2, "two"));
        await Store.StageAsync(v2, Ct);

        await Store.ActivateAsync(v1, DateTimeOffset.UtcNow, Ct);
        await Store.FinishAsync(v1, Ct);

        var op = Assert.Single(await Store.ListPendingOperationsAsync(Ct));
        Assert.Equal((2, 0, 1), (op.Version, op.Step, op.ActiveVersion));
        Assert.Equal(2, (await Store.GetStagedVersionsAsync([(id, 2)], Ct)).Single().Chunks.Count);
        await Store.ActivateAsync(v2, DateTimeOffset.UtcNow, Ct);
        await Store.FinishAsync(v2, Ct);
        Assert.Empty(await Store.ListPendingOperationsAsync(Ct));
        Assert.Equal(2, (await Store.GetActiveChunksAsync([id], Ct)).Count(c => c.Version == 2));
    }

    [Fact]
    public async Task Sources_are_created_listed_updated_and_removed()
    {
        var created = await Store.CreateSourceAsync(new SourceInfo
        {
            Id = Guid.Empty,
            Tenant = "t9",
            Name = "wiki",
            Kind = SourceKind.Folder,
            SettingsJson = "{\"path\":\"/srv/wiki\"}",
            Schedule = "*/5 * * * *",
            DefaultAcl = "group:eng",
            ChunkTokens = 128,
            FreshnessObjective = TimeSpan.FromMinutes(30),
        }, Ct);
        await Assert.ThrowsAsync<RagPlatform.Core.RagConflictException>(() => Store.CreateSourceAsync(created, Ct));

        var updated = await Store.UpdateSourceAsync(created with { Schedule = "0 * * * *", Enabled = false }, Ct);
        var listed = Assert.Single(await Store.ListSourcesAsync("t9", Ct));
        Assert.Equal(("0 * * * *", false, 128, TimeSpan.FromMinutes(30), "group:eng"), (listed.Schedule, listed.Enabled, listed.ChunkTokens, listed.FreshnessObjective, listed.DefaultAcl));
        Assert.Equal(updated.Id, (await Store.GetSourceAsync(created.Id, Ct))!.Id);

        await Store.DeleteSourceAsync(created.Id, Ct);
        Assert.Empty(await Store.ListSourcesAsync("t9", Ct));
    }

    [Fact]
    public async Task Failed_documents_are_listed_as_dead_letters_with_their_reason()
    {
        var source = await SourceAsync();
        var bad = Header(source, Guid.NewGuid(), "/bad.pdf");
        await CommitAsync(Batch(Version(Header(source, Guid.NewGuid(), "/fine.txt"), 1, "fine")));
        await Store.RecordFailuresAsync([new DocumentFailureRecord(bad, FailureKind.Corrupt, "truncated PDF", "h")], Ct);

        var failed = Assert.Single(await Store.ListFailedDocumentsAsync("t1", source.Id, Ct));
        Assert.Equal(("/bad.pdf", FailureKind.Corrupt, "truncated PDF", 1, source.Id), (failed.ExternalKey, failed.FailureKind, failed.FailureReason, failed.FailureCount, failed.SourceId));
        Assert.Empty(await Store.ListFailedDocumentsAsync("other", null, Ct));
    }

    [Fact]
    public async Task Runs_are_recorded_with_counts_and_failures_newest_first()
    {
        var source = await SourceAsync();
        var first = await Store.StartRunAsync("t1", source.Id, "cli", new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), null, Ct);
        var second = await Store.StartRunAsync("t1", source.Id, "schedule", new DateTimeOffset(2026, 11, 2, 0, 0, 0, TimeSpan.Zero), "job-7", Ct);
        await Store.FinishRunAsync(first, new RunSummary
        {
            Added = 3,
            Failed = 1,
            Chunks = 7,
            FinishedAt = new DateTimeOffset(2026, 11, 1, 0, 1, 0, TimeSpan.Zero),
            Failures = [new RunFailure("/x.pdf", FailureKind.Corrupt, "truncated")],
        }, Ct);

        var runs = await Store.ListRunsAsync(source.Id, 10, Ct);
        Assert.Equal([second, first], runs.Select(r => r.Id).ToArray());
        Assert.Equal(second, (await Store.FindRunAsync(null, "job-7", Ct))!.Id);
        Assert.Equal("job-7", runs[0].JobId);
        Assert.Null(runs[0].Summary);
        Assert.Equal("running", runs[0].Status);
        var summary = runs[1].Summary!;
        Assert.Equal((3, 1, 7), (summary.Added, summary.Failed, summary.Chunks));
        Assert.Equal(new RunFailure("/x.pdf", FailureKind.Corrupt, "truncated"), Assert.Single(summary.Failures));
    }
}
