using System.Text;
using RagPlatform.Core.Documents;
using RagPlatform.Core.Indexing;
using RagPlatform.Core.Metadata;
using RagPlatform.Testing;

namespace RagPlatform.Ingestion.Tests.Pipeline;

/// <summary>The write path end to end, on real stores, through the incremental cases users rely on.</summary>
public sealed class IngestionPipelineTests : IDisposable
{
    private readonly TempDirectory _files = new("files");
    private readonly TempDirectory _data = new("data");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private void WriteCorpus()
    {
        _files.Write("guide.md", "# Guide\n\nThe heron nests near the river.\n\n## Care\n\nFeed the heron twice a day.");
        _files.Write("notes.txt", "Otters play in cold water. They eat fish.");
        _files.Write("sub/deep.html", "<html><head><title>Deep page</title></head><body><nav>menu menu</nav><main><h1>Kingfisher</h1><p>The kingfisher dives for minnows.</p></main></body></html>");
    }

    [Fact]
    public async Task First_ingest_commits_every_document_to_every_store()
    {
        WriteCorpus();
        await using var platform = TestPlatform.Start(_data.Path);

        var result = await platform.IngestAsync(_files.Path);

        Assert.Equal((3, 0, 0, 0, 0), (result.Added, result.Updated, result.Unchanged, result.Deleted, result.Failed));
        Assert.True(result.Chunks >= 3);
        Assert.NotNull(result.KeywordOnlyReason);
        await platform.AssertStoresAgreeAsync(expectVectors: false);
        var hits = await platform.SearchAsync("kingfisher minnows");
        var top = (await platform.Metadata.GetLiveChunksAsync("t1", [hits[0].ChunkId], Ct)).Single();
        Assert.Equal("Deep page", top.Title);
        Assert.DoesNotContain("menu", top.Text, StringComparison.Ordinal);
        Assert.Empty(await platform.SearchAsync("menu"));
    }

    [Fact]
    public async Task Reingesting_an_unchanged_tree_reports_everything_unchanged_and_writes_nothing()
    {
        WriteCorpus();
        await using var platform = TestPlatform.Start(_data.Path);
        await platform.IngestAsync(_files.Path);
        var before = IndexSnapshot.Of(platform.DataDirectory);

        var again = await platform.IngestAsync(_files.Path);

        Assert.Equal((0, 0, 3, 0, 0, 0), (again.Added, again.Updated, again.Unchanged, again.Deleted, again.Failed, again.Chunks));
        Assert.Equal(before, IndexSnapshot.Of(platform.DataDirectory));
        await platform.AssertStoresAgreeAsync(expectVectors: false);
    }

    [Fact]
    public async Task A_touched_but_identical_file_is_unchanged()
    {
        WriteCorpus();
        await using var platform = TestPlatform.Start(_data.Path);
        await platform.IngestAsync(_files.Path);
        File.SetLastWriteTimeUtc(_files.Combine("notes.txt"), DateTime.UtcNow.AddMinutes(5));

        var again = await platform.IngestAsync(_files.Path);

        Assert.Equal((0, 3), (again.Updated, again.Unchanged));
    }

    [Fact]
    public async Task A_modified_file_gets_a_new_version_and_its_old_chunks_leave_every_store()
    {
        WriteCorpus();
        await using var platform = TestPlatform.Start(_data.Path);
        await platform.IngestAsync(_files.Path);
        var path = _files.Combine("notes.txt");
        var source = await Source(platform);
        var v1 = (await platform.Metadata.FindDocumentAsync(source.Id, path, Ct))!;

        File.WriteAllText(path, "Beavers build dams across streams.");
        var result = await platform.IngestAsync(_files.Path);

        Assert.Equal((0, 1, 2), (result.Added, result.Updated, result.Unchanged));
        var v2 = (await platform.Metadata.FindDocumentAsync(source.Id, path, Ct))!;
        Assert.Equal((v1.Id, 2), (v2.Id, v2.ActiveVersion));
        Assert.Empty(await platform.SearchAsync("otters"));
        Assert.Single(await platform.SearchAsync("beavers"));
        Assert.Equal("Otters play in cold water. They eat fish.", await platform.Metadata.GetVersionTextAsync("t1", v1.Id, 1, Ct));
        await platform.AssertStoresAgreeAsync(expectVectors: false);
    }

    [Fact]
    public async Task A_file_removed_from_an_ingested_folder_is_deleted_from_every_store()
    {
        WriteCorpus();
        await using var platform = TestPlatform.Start(_data.Path);
        await platform.IngestAsync(_files.Path);

        File.Delete(_files.Combine("sub", "deep.html"));
        var result = await platform.IngestAsync(_files.Path);

        Assert.Equal((1, 2), (result.Deleted, result.Unchanged));
        Assert.Empty(await platform.SearchAsync("kingfisher"));
        var doc = (await platform.Metadata.FindDocumentAsync((await Source(platform)).Id, _files.Combine("sub", "deep.html"), Ct))!;
        Assert.Equal(DocumentState.Deleted, doc.State);
        await platform.AssertStoresAgreeAsync(expectVectors: false);
    }

    [Fact]
    public async Task Ingesting_one_subfolder_never_deletes_documents_of_another_folder_of_the_same_source()
    {
        WriteCorpus();
        await using var platform = TestPlatform.Start(_data.Path);
        await platform.IngestAsync(_files.Path);

        var result = await platform.IngestAsync(_files.Combine("sub"));

        Assert.Equal((0, 1), (result.Deleted, result.Unchanged));
        Assert.Single(await platform.SearchAsync("otters"));
    }

    [Fact]
    public async Task A_missing_path_fails_and_deletes_nothing()
    {
        WriteCorpus();
        await using var platform = TestPlatform.Start(_data.Path);
        await platform.IngestAsync(_files.Path);
        var missing = _files.Combine("nope");

        var result = await platform.IngestAsync(missing);

        Assert.Equal((1, 0), (result.Failed, result.Deleted));
        Assert.Contains("no such file or folder", result.Failures[0].Reason, StringComparison.Ordinal);
        Assert.Single(await platform.SearchAsync("otters"));
    }

    [Fact]
    public async Task An_acl_only_change_updates_every_store_without_a_new_version_or_re_embedding()
    {
        WriteCorpus();
        using var model = SharedModels.Embedder();
        await using var platform = TestPlatform.Start(_data.Path, model.Path);
        var first = await platform.IngestAsync(_files.Path, acl: "group:eng");
        Assert.True(first.EmbeddedChunks > 0);

        var result = await platform.IngestAsync(_files.Path, acl: "group:ops,user:alice");

        Assert.Equal((0, 3, 0, 0), (result.Added, result.Updated, result.EmbeddedChunks, result.Chunks));
        Assert.Empty(await platform.SearchAsync("otters", "t1", "group:eng"));
        Assert.Single(await platform.SearchAsync("otters", "t1", "group:ops"));
        var anyDirection = new float[32];
        anyDirection[0] = 1;
        var filter = new SearchFilter { Tenant = "t1", Principals = new HashSet<string>(["user:alice"], StringComparer.Ordinal) };
        Assert.Equal(first.Chunks, (await platform.Vectors.SearchAsync(anyDirection, filter, 100, Ct)).Count);
        var eng = filter with { Principals = new HashSet<string>(["group:eng"], StringComparer.Ordinal) };
        Assert.Empty(await platform.Vectors.SearchAsync(anyDirection, eng, 100, Ct));
        var doc = (await platform.Metadata.FindDocumentAsync((await Source(platform)).Id, _files.Combine("notes.txt"), Ct))!;
        Assert.Equal((1, "group:ops,user:alice"), (doc.ActiveVersion, doc.Acl));
        await platform.AssertStoresAgreeAsync(expectVectors: true);
    }

    [Fact]
    public async Task Unchanged_chunks_of_a_changed_document_reuse_their_cached_embeddings()
    {
        var paragraphs = Enumerable.Range(0, 12).Select(i => $"Paragraph {i} talks about topic number {i} in some detail, with enough words to fill a chunk of its own. " + string.Join(' ', Enumerable.Repeat($"word{i}", 60))).ToList();
        _files.Write("long.md", "# Long\n\n" + string.Join("\n\n", paragraphs));
        using var model = SharedModels.Embedder();
        await using var platform = TestPlatform.Start(_data.Path, model.Path);
        var first = await platform.IngestAsync(_files.Path);

        paragraphs[^1] = "The last paragraph changed completely and now speaks of herons.";
        _files.Write("long.md", "# Long\n\n" + string.Join("\n\n", paragraphs));
        var second = await platform.IngestAsync(_files.Path);

        Assert.True(first.EmbeddedChunks >= 4, $"first run embedded {first.EmbeddedChunks}");
        Assert.Equal(1, second.Updated);
        Assert.True(second.CachedEmbeddings >= first.EmbeddedChunks - 2, $"cached {second.CachedEmbeddings} of {first.EmbeddedChunks}");
        Assert.True(second.EmbeddedChunks <= 2, $"re-embedded {second.EmbeddedChunks}");
        await platform.AssertStoresAgreeAsync(expectVectors: true);
    }

    [Fact]
    public async Task Bad_files_fail_with_clear_reasons_and_the_run_goes_on()
    {
        WriteCorpus();
        _files.Write("broken.pdf", TestDocuments.CorruptPdf());
        _files.Write("broken.docx", TestDocuments.CorruptDocx());
        _files.Write("image.png", TestDocuments.Png());
        _files.Write("empty.txt", string.Empty);
        _files.Write("latin1.txt", TestDocuments.InvalidUtf8());
        _files.Write("huge.txt", new string('x', 5000));
        File.CreateSymbolicLink(_files.Combine("dangling.txt"), _files.Combine("does-not-exist.txt"));
        await using var platform = TestPlatform.Start(_data.Path, settings: new Dictionary<string, string?> { ["Rag:Limits:MaxFileBytes"] = "4096" });

        var result = await platform.IngestAsync(_files.Path);

        Assert.Equal(3, result.Added);
        var failures = result.Failures.ToDictionary(f => Path.GetFileName(f.ExternalKey), f => f);
        Assert.Equal(FailureKind.Corrupt, failures["broken.pdf"].Kind);
        Assert.Equal(FailureKind.Corrupt, failures["broken.docx"].Kind);
        Assert.Equal(FailureKind.Unsupported, failures["image.png"].Kind);
        Assert.Contains("PNG", failures["image.png"].Reason, StringComparison.Ordinal);
        Assert.Equal(FailureKind.Empty, failures["empty.txt"].Kind);
        Assert.Equal(FailureKind.InvalidEncoding, failures["latin1.txt"].Kind);
        Assert.Contains("UTF-8", failures["latin1.txt"].Reason, StringComparison.Ordinal);
        Assert.Equal(FailureKind.TooLarge, failures["huge.txt"].Kind);
        Assert.Contains("Rag:Limits:MaxFileBytes", failures["huge.txt"].Reason, StringComparison.Ordinal);
        Assert.Equal(FailureKind.Unreadable, failures["dangling.txt"].Kind);
        Assert.Equal(7, result.Failed);
        var source = await Source(platform);
        Assert.Equal(DocumentState.Failed, (await platform.Metadata.FindDocumentAsync(source.Id, _files.Combine("broken.pdf"), Ct))!.State);
        await platform.AssertStoresAgreeAsync(expectVectors: false);
    }

    [Fact]
    public async Task Unchanged_bad_files_are_reported_again_without_being_reparsed_or_rewritten()
    {
        WriteCorpus();
        _files.Write("broken.pdf", TestDocuments.CorruptPdf());
        await using var platform = TestPlatform.Start(_data.Path);
        var first = await platform.IngestAsync(_files.Path);
        var before = IndexSnapshot.Of(platform.DataDirectory);

        var again = await platform.IngestAsync(_files.Path);

        Assert.Equal((3, 1), (again.Unchanged, again.Failed));
        Assert.Contains(first.Failures[0].Reason, again.Failures[0].Reason, StringComparison.Ordinal);
        Assert.Equal(before, IndexSnapshot.Of(platform.DataDirectory));
    }

    [Fact]
    public async Task A_file_that_turns_bad_keeps_its_previous_version_searchable()
    {
        WriteCorpus();
        await using var platform = TestPlatform.Start(_data.Path);
        await platform.IngestAsync(_files.Path);

        _files.Write("notes.txt", TestDocuments.InvalidUtf8());
        var result = await platform.IngestAsync(_files.Path);

        Assert.Equal(1, result.Failed);
        Assert.Single(await platform.SearchAsync("otters"));
        var doc = (await platform.Metadata.FindDocumentAsync((await Source(platform)).Id, _files.Combine("notes.txt"), Ct))!;
        Assert.Equal((DocumentState.Failed, 1), (doc.State, doc.ActiveVersion));
        Assert.Single(await platform.Metadata.GetLiveChunksAsync("t1", [ChunkIds.Create(doc.Id, 1, 0)], Ct));
    }

    [Fact]
    public async Task Invalid_utf8_and_utf16_text_is_handled_without_losing_anything_indexed()
    {
        _files.Write("utf16.txt", TestDocuments.Utf16Text("Puffins nest on cliffs."));
        await using var platform = TestPlatform.Start(_data.Path);

        var result = await platform.IngestAsync(_files.Path);

        Assert.Equal(1, result.Added);
        Assert.Single(await platform.SearchAsync("puffins"));
    }

    [Fact]
    public async Task Documents_of_other_tenants_and_sources_are_independent()
    {
        WriteCorpus();
        await using var platform = TestPlatform.Start(_data.Path);
        await platform.IngestAsync(_files.Path, tenant: "acme");
        var other = await platform.IngestAsync(_files.Path, tenant: "globex", source: "mirror");

        Assert.Equal(3, other.Added);
        Assert.Single(await platform.SearchAsync("otters", "acme"));
        Assert.Single(await platform.SearchAsync("otters", "globex"));
        Assert.Empty(await platform.SearchAsync("otters", "initech"));
        await platform.AssertStoresAgreeAsync(expectVectors: false);
    }

    [Fact]
    public async Task A_version_staged_by_an_interrupted_commit_is_rolled_forward_before_the_next_run()
    {
        WriteCorpus();
        await using var platform = TestPlatform.Start(_data.Path);
        await platform.IngestAsync(_files.Path);
        var source = await Source(platform);
        var doc = (await platform.Metadata.FindDocumentAsync(source.Id, _files.Combine("notes.txt"), Ct))!;

        // A crash after staging version 2 and writing part of it to the keyword index, before activation.
        var header = new DocumentHeader { Id = doc.Id, Tenant = "t1", SourceId = source.Id, ExternalKey = doc.ExternalKey, Title = "notes", Acl = "public" };
        var staged = new WriteBatch();
        staged.Versions.Add(new NewVersion
        {
            Document = header,
            Version = 2,
            ContentHash = "x",
            PipelineFingerprint = "x",
            Format = "text",
            Text = "Walruses",
            Chunks = [new ChunkRecord { ChunkId = ChunkIds.Create(doc.Id, 2, 0), Ordinal = 0, Text = "Walruses", Start = 0, End = 8, HeadingPath = [], TokenCount = 2, ContentHash = "h" }],
        });
        await platform.Metadata.StageAsync(staged, Ct);
        var half = new IndexBatch();
        half.Upserts.Add(new IndexedChunk { ChunkId = ChunkIds.Create(doc.Id, 2, 0), DocumentId = doc.Id, Version = 2, Tenant = "t1", SourceId = source.Id, Acl = ["public"], Title = "notes", Text = "Walruses" });
        await platform.Keyword.ApplyAsync(half, Ct);

        // Rolled forward from the journal: version 2 becomes active everywhere, as it was staged.
        Assert.Equal(1, await platform.Committer.ApplyJournalAsync(Ct));
        Assert.Single(await platform.SearchAsync("walruses"));
        Assert.Empty(await platform.SearchAsync("otters"));
        await platform.AssertStoresAgreeAsync(expectVectors: false);

        // The next run sees that the file differs from version 2 and indexes it again.
        var result = await platform.IngestAsync(_files.Path);

        Assert.Equal((1, 2), (result.Updated, result.Unchanged));
        Assert.Empty(await platform.SearchAsync("walruses"));
        Assert.Single(await platform.SearchAsync("otters"));
        Assert.Equal(3, (await platform.Metadata.FindDocumentAsync(source.Id, doc.ExternalKey, Ct))!.ActiveVersion);
        await platform.AssertStoresAgreeAsync(expectVectors: false);
    }

    [Fact]
    public async Task Every_chunk_records_exact_character_and_utf8_byte_offsets_into_its_version_text()
    {
        var paragraphs = Enumerable.Range(0, 40).Select(i => $"Paragraph {i}: café naïve 日本語 😀 Zürich — résumé {string.Join(' ', Enumerable.Repeat($"mot{i}", 30))}.");
        _files.Write("unicode.md", "# Über\n\n" + string.Join("\n\n", paragraphs));
        await using var platform = TestPlatform.Start(_data.Path, settings: new Dictionary<string, string?> { ["Rag:Chunking:MaxTokens"] = "64", ["Rag:Chunking:OverlapTokens"] = "16" });
        await platform.IngestAsync(_files.Path);
        var source = await Source(platform);
        var doc = (await platform.Metadata.FindDocumentAsync(source.Id, _files.Combine("unicode.md"), Ct))!;

        var text = (await platform.Metadata.GetVersionTextAsync("t1", doc.Id, 1, Ct))!;
        var chunks = await platform.Metadata.GetActiveChunksAsync([doc.Id], Ct);
        var utf8 = Encoding.UTF8.GetBytes(text);

        Assert.True(chunks.Count > 10, $"only {chunks.Count} chunks");
        foreach (var chunk in chunks)
        {
            Assert.Equal(chunk.Text, text[chunk.Start..chunk.End]);
            Assert.Equal(chunk.Text, Encoding.UTF8.GetString(utf8, chunk.ByteStart, chunk.ByteEnd - chunk.ByteStart));
        }
    }

    [Fact]
    public async Task Acl_files_in_the_folder_give_documents_their_own_acls()
    {
        _files.Write("open.txt", "Albatross glides over the sea.");
        _files.Write("secret.txt", "Barracuda hunts at dawn.");
        _files.Write("secret.txt.acl", "# who may read it\ngroup:security, user:alice\n");
        _files.Write("team/.rag-acl", "group:eng");
        _files.Write("team/plan.md", "# Plan\n\nCaribou migrate north.");
        _files.Write("team/hr/.rag-acl", "group:hr");
        _files.Write("team/hr/pay.txt", "Dugong salaries.");
        _files.Write("bad.txt", "Egret.");
        _files.Write("bad.txt.acl", "wizard:merlin");
        await using var platform = TestPlatform.Start(_data.Path);

        var result = await platform.IngestAsync(_files.Path, acl: "public");

        Assert.Equal(4, result.Added);
        var failure = Assert.Single(result.Failures);
        Assert.Equal((FailureKind.InvalidAcl, "bad.txt"), (failure.Kind, Path.GetFileName(failure.ExternalKey)));
        Assert.Contains("bad.txt.acl", failure.Reason, StringComparison.Ordinal);
        Assert.Single(await platform.SearchAsync("albatross"));
        Assert.Empty(await platform.SearchAsync("barracuda"));
        Assert.Single(await platform.SearchAsync("barracuda", "t1", "user:alice"));
        Assert.Empty(await platform.SearchAsync("caribou"));
        Assert.Single(await platform.SearchAsync("caribou", "t1", "group:eng"));
        Assert.Empty(await platform.SearchAsync("dugong", "t1", "group:eng"));
        Assert.Single(await platform.SearchAsync("dugong", "t1", "group:hr"));
        Assert.Empty(await platform.SearchAsync("acl"));

        // Editing a sidecar is an ACL-only change: no new version.
        _files.Write("secret.txt.acl", "group:security");
        var again = await platform.IngestAsync(_files.Path, acl: "public");
        Assert.Equal((1, 0), (again.Updated, again.Chunks));
        Assert.Empty(await platform.SearchAsync("barracuda", "t1", "user:alice"));
        Assert.Single(await platform.SearchAsync("barracuda", "t1", "group:security"));
        await platform.AssertStoresAgreeAsync(expectVectors: false);
    }

    [Fact]
    public async Task Force_reprocesses_every_document_as_a_new_version()
    {
        WriteCorpus();
        await using var platform = TestPlatform.Start(_data.Path);
        await platform.IngestAsync(_files.Path);

        var result = await platform.IngestAsync(_files.Path, force: true);

        Assert.Equal((0, 3, 0), (result.Added, result.Updated, result.Unchanged));
        await platform.AssertStoresAgreeAsync(expectVectors: false);
    }

    private static async Task<SourceInfo> Source(TestPlatform platform)
        => (await platform.Metadata.FindSourceAsync("t1", "docs", Ct))!;

    [Fact]
    public async Task A_stage_that_fails_stops_the_run_with_its_error_instead_of_waiting_forever()
    {
        // More documents than the bounded channels between the stages hold once the embedding stage stops reading.
        for (var i = 0; i < 400; i++)
        {
            _files.Write($"doc{i:D3}.md", $"# Document {i}\n\nword{i} and some text of document {i}.");
        }

        using var model = SharedModels.Embedder();
        await using var platform = TestPlatform.Start(_data.Path, model.Path);

        // The vector index holds another model's 8-dimensional vectors; the test model makes 32: the embedding stage stops the run.
        var other = new IndexBatch();
        other.Upserts.Add(new IndexedChunk
        {
            ChunkId = "other-model",
            DocumentId = Guid.NewGuid(),
            Version = 1,
            Tenant = "t1",
            SourceId = Guid.NewGuid(),
            Acl = ["public"],
            Title = "Other",
            Text = "other",
            Embedding = [1, 0, 0, 0, 0, 0, 0, 0],
        });
        await platform.Vectors.ApplyAsync(other, Ct);

        var run = platform.IngestAsync(_files.Path);
        await Task.WhenAny(run, Task.Delay(TimeSpan.FromMinutes(1), Ct));
        Assert.True(run.IsCompleted, "the run still waits a minute after its embedding stage failed");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => run);
        Assert.Contains("8-dimensional vectors", error.Message, StringComparison.Ordinal);
        var last = (await platform.Metadata.ListRunsAsync(null, 1, Ct)).Single();
        Assert.Equal("failed", last.Status);
    }

    public void Dispose()
    {
        _files.Dispose();
        _data.Dispose();
    }
}
