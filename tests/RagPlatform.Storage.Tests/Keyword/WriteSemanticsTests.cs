using System.Diagnostics;
using System.Globalization;
using RagPlatform.Core.Indexing;
using RagPlatform.Storage.Keyword;
using RagPlatform.Testing;

namespace RagPlatform.Storage.Tests.Keyword;

public sealed class WriteSemanticsTests : IDisposable
{
    private readonly KeywordTestIndex _index = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void A_second_open_of_the_same_directory_fails_and_names_it()
    {
        var error = Assert.Throws<IOException>(() => LuceneKeywordIndex.Open(_index.Path));

        Assert.Equal(
            $"the keyword index at {Path.GetFullPath(_index.Path)} is in use by another process; stop it or use another data directory",
            error.Message);
    }

    [Fact]
    public async Task Another_process_holding_the_directory_keeps_this_one_out()
    {
        using var other = new TempDirectory("keyword");
        var lockFile = other.Combine("rag-keyword.lock");

        // util-linux's flock stands in for a second server: it takes the same OS lock from another process.
        // Without forking, and with the shell replaced by sleep, one process holds the lock from start to end, so
        // waiting for it to exit below means the lock is gone (a forked sleep could still hold it for a moment).
        var psi = new ProcessStartInfo("flock") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "--exclusive", "--no-fork", lockFile, "--command", "echo locked; exec sleep 60" })
        {
            psi.ArgumentList.Add(arg);
        }

        using var holder = Process.Start(psi)!;
        try
        {
            Assert.Equal("locked", await holder.StandardOutput.ReadLineAsync(Ct));

            var error = Assert.Throws<IOException>(() => LuceneKeywordIndex.Open(other.Path));
            Assert.Contains("is in use by another process", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            await holder.WaitForExitAsync(Ct);
        }

        using var reopened = LuceneKeywordIndex.Open(other.Path);
        Assert.Equal(0, reopened.Count);
    }

    [Fact]
    public async Task The_directory_opens_again_once_the_holder_is_closed()
    {
        var id = await _index.AddAsync("Kept", "lorem");

        _index.Reopen();

        Assert.Equal([id], await _index.FindAsync("lorem"));
    }

    [Fact]
    public async Task Searches_during_writes_never_see_half_a_batch()
    {
        const int chunksPerVersion = 6;
        const int versions = 60;
        var document = Guid.NewGuid();
        await _index.UpsertAsync(Version(document, 1, chunksPerVersion));

        var writer = Task.Run(
            async () =>
            {
                for (var v = 2; v <= versions; v++)
                {
                    var batch = new IndexBatch();
                    batch.Deletions.Add(new DocumentDeletion(document, KeepVersion: v));
                    batch.Upserts.AddRange(Version(document, v, chunksPerVersion));
                    await _index.Index.ApplyAsync(batch, Ct);
                }
            },
            Ct);

        var searches = 0;
        var seen = new HashSet<int>();
        async Task ReadAsync()
        {
            // Keeps reading until the writer is done, then once more: every read sees exactly one version, whole.
            while (true)
            {
                var done = writer.IsCompleted;
                var hits = await _index.SearchAsync("lorem", 100);
                Assert.Equal(chunksPerVersion, hits.Count);
                var version = Assert.Single(hits.Select(h => h.Version).Distinct());
                lock (seen)
                {
                    seen.Add(version);
                    searches++;
                }

                if (done)
                {
                    return;
                }
            }
        }

        await Task.WhenAll(Task.Run(ReadAsync, Ct), Task.Run(ReadAsync, Ct));
        await writer;

        Assert.Contains(versions, seen);
        Assert.True(searches > 2, $"only {searches} searches ran");
        Assert.Equal(chunksPerVersion, _index.Index.Count);
    }

    [Fact]
    public async Task Access_update_in_the_same_batch_as_the_upsert_applies_to_the_new_chunks()
    {
        var document = Guid.NewGuid();
        var batch = new IndexBatch();
        batch.Upserts.AddRange(Version(document, 1, 3));
        batch.AccessUpdates.Add(new AccessUpdate(document, ["group:eng"]));
        await _index.Index.ApplyAsync(batch, Ct);

        Assert.Empty(await _index.SearchAsync("lorem"));
        Assert.Equal(3, (await _index.SearchAsync("lorem", filter: new SearchFilter { Tenant = "t1", Principals = new HashSet<string> { "group:eng" } })).Count);
    }

    [Fact]
    public async Task Access_update_keeps_text_metadata_source_and_change_time()
    {
        var document = Guid.NewGuid();
        var source = Guid.NewGuid();
        var changed = new DateTimeOffset(2026, 3, 1, 12, 30, 0, TimeSpan.FromHours(2));
        var chunk = KeywordTestIndex.Chunk(document, "Quarterly report", "revenue grew strongly", metadata: new Dictionary<string, string> { ["year"] = "2025", ["team"] = "sales" }) with
        {
            SourceId = source,
            ChangedAt = changed,
        };
        await _index.UpsertAsync(chunk);
        var batch = new IndexBatch();
        batch.AccessUpdates.Add(new AccessUpdate(document, ["user:bob", "user:bob"]));
        await _index.Index.ApplyAsync(batch, Ct);
        _index.Reopen();

        var filter = new SearchFilter
        {
            Tenant = "t1",
            Principals = new HashSet<string> { "user:bob" },
            SourceIds = [source],
            DocumentIds = [document],
            ChangedAfter = changed.AddTicks(-1),
            Metadata = [MetadataFilter.Between("year", "2025", "2025"), MetadataFilter.Eq("team", "sales")],
        };
        var hits = await _index.SearchAsync("quarterly revenue", filter: filter);

        var hit = Assert.Single(hits);
        Assert.Equal((chunk.ChunkId, document, 1), (hit.ChunkId, hit.DocumentId, hit.Version));
        Assert.Empty(await _index.SearchAsync("revenue", filter: filter with { ChangedAfter = changed }));
        Assert.Empty(await _index.SearchAsync("revenue"));
    }

    [Fact]
    public async Task A_cancelled_batch_changes_nothing()
    {
        var document = Guid.NewGuid();
        var batch = new IndexBatch();
        batch.Upserts.AddRange(Version(document, 1, 2));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _index.Index.ApplyAsync(batch, cancelled.Token));

        Assert.Equal(0, _index.Index.Count);
        await _index.UpsertAsync(KeywordTestIndex.Chunk(Guid.NewGuid(), "Later", "lorem"));
        Assert.Equal(1, _index.Index.Count);
    }

    [Fact]
    public async Task A_batch_that_fails_before_its_commit_leaves_no_trace_and_the_index_keeps_working()
    {
        var kept = Guid.NewGuid();
        await _index.UpsertAsync(Version(kept, 1, 2));
        var failed = new IndexBatch();
        failed.Deletions.Add(new DocumentDeletion(kept));
        failed.Upserts.AddRange(Version(Guid.NewGuid(), 1, 3));
        _index.Index.BeforeCommit = () => throw new IOException("disk full");

        await Assert.ThrowsAsync<IOException>(() => _index.Index.ApplyAsync(failed, Ct));
        _index.Index.BeforeCommit = null;

        Assert.Equal(2, _index.Index.Count);
        var later = Guid.NewGuid();
        await _index.UpsertAsync(Version(later, 1, 1));
        Assert.Equal(3, _index.Index.Count);
        _index.Reopen();
        var listed = await _index.Index.ListDocumentVersionsAsync(Ct);
        Assert.Equal([(kept, 2), (later, 1)], listed.Select(v => (v.DocumentId, v.ChunkCount)).OrderBy(v => v.ChunkCount == 1).ToArray());
        Assert.Equal(3, (await _index.SearchAsync("lorem", 10)).Count);
    }

    [Fact]
    public async Task A_chunk_without_an_id_is_rejected_before_anything_is_written()
    {
        var good = KeywordTestIndex.Chunk(Guid.NewGuid(), "Good", "lorem");
        var bad = KeywordTestIndex.Chunk(Guid.NewGuid(), "Bad", "lorem") with { ChunkId = "" };
        var batch = new IndexBatch();
        batch.Upserts.AddRange([good, bad]);

        var error = await Assert.ThrowsAsync<RagPlatform.Core.RagValidationException>(() => _index.Index.ApplyAsync(batch, Ct));

        Assert.Equal("chunk_id", error.Field);
        Assert.Contains(bad.DocumentId.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Equal(0, _index.Index.Count);
    }

    [Fact]
    public async Task Listed_versions_count_only_live_chunks()
    {
        var document = Guid.NewGuid();
        await _index.UpsertAsync(Version(document, 1, 4));
        await _index.UpsertAsync(Version(document, 1, 2));
        var batch = new IndexBatch();
        batch.Deletions.Add(new DocumentDeletion(document, KeepVersion: 2));
        batch.Upserts.AddRange(Version(document, 2, 3));
        await _index.Index.ApplyAsync(batch, Ct);

        var listed = await _index.Index.ListDocumentVersionsAsync(Ct);

        Assert.Equal([new IndexedDocumentVersion(document, 2, 3)], listed);
        Assert.Equal(3, _index.Index.Count);
    }

    private static IndexedChunk[] Version(Guid document, int version, int chunks)
        => Enumerable.Range(0, chunks)
            .Select(i => KeywordTestIndex.Chunk(document, "Versioned", string.Create(CultureInfo.InvariantCulture, $"lorem part {i} of version {version}"), version, i))
            .ToArray();

    public void Dispose() => _index.Dispose();
}
