using RagPlatform.Core.Indexing;
using RagPlatform.Storage.Vectors;

namespace RagPlatform.Storage.Tests.Vectors;

public sealed class EmbeddedVectorIndexDurabilityTests : VectorIndexTestBase
{
    private const int LogHeaderSize = 20;
    private const int RecordHeaderSize = 12;
    private const int Dimensions = 16;
    private readonly Random _rng = new(42);

    private string LogPath => Path.Combine(IndexDirectory, "vectors.log");

    private string SnapshotPath => Path.Combine(IndexDirectory, "vectors.snapshot");

    /// <summary>Applies three batches of two documents each; returns their chunks and the log's length after each batch.</summary>
    private async Task<(List<IndexedChunk>[] Batches, long[] LogLengths)> ApplyThreeBatchesAsync(EmbeddedVectorIndex index)
    {
        var batches = new List<IndexedChunk>[3];
        var lengths = new long[3];
        for (var b = 0; b < 3; b++)
        {
            batches[b] = [.. Enumerable.Range(0, 2).SelectMany(_ =>
            {
                var d = Guid.NewGuid();
                return Enumerable.Range(0, 3).Select(o => Chunk(d, 1, o, RandomUnit(_rng, Dimensions), acl: [$"group:g{b}"]));
            })];
            var chunks = batches[b];
            await ApplyAsync(index, batch => batch.Upserts.AddRange(chunks));
            lengths[b] = new FileInfo(LogPath).Length;
        }

        return (batches, lengths);
    }

    private static async Task<string[]> ChunkIdsAsync(EmbeddedVectorIndex index)
    {
        var everyone = new SearchFilter { Tenant = "t1", Principals = new HashSet<string>(["group:g0", "group:g1", "group:g2", "group:g3", "public"], StringComparer.Ordinal) };
        var any = new float[index.Dimensions ?? Dimensions];
        any[0] = 1;
        return [.. (await index.SearchAsync(any, everyone, 1000, Ct)).Select(h => h.ChunkId).Order(StringComparer.Ordinal)];
    }

    private static string[] Ids(params IEnumerable<IndexedChunk>[] batches)
        => [.. batches.SelectMany(b => b).Select(c => c.ChunkId).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Acknowledged_batches_survive_a_crash_through_the_log_with_their_vectors_unchanged()
    {
        var index = Open();
        var (batches, _) = await ApplyThreeBatchesAsync(index);
        await ApplyAsync(index, b => b.AccessUpdates.Add(new AccessUpdate(batches[0][0].DocumentId, ["group:g3"])));
        Crash(index);

        var reopened = Open();

        Assert.Equal(Ids(batches), await ChunkIdsAsync(reopened));
        var vectors = await reopened.GetVectorsAsync(batches[1].Select(c => c.ChunkId).ToArray(), Ct);
        Assert.All(batches[1], c => Assert.Equal(c.Embedding, vectors[c.ChunkId]));
        var moved = await reopened.SearchAsync(batches[0][0].Embedding!, As("t1", "group:g3"), 10, Ct);
        Assert.Equal(3, moved.Count);
        Assert.All(moved, h => Assert.Equal(batches[0][0].DocumentId, h.DocumentId));
    }

    [Theory]
    [InlineData(VectorQuantization.None)]
    [InlineData(VectorQuantization.Int8)]
    public async Task Closing_folds_the_log_into_a_snapshot_that_reopens_to_the_same_index(VectorQuantization quantization)
    {
        var options = new VectorIndexOptions { Quantization = quantization };
        var index = Open(options);
        var (batches, _) = await ApplyThreeBatchesAsync(index);
        var query = RandomUnit(_rng, Dimensions);
        var filter = As("t1", "group:g0", "group:g2");
        var before = await index.SearchAsync(query, filter, 5, Ct);
        Close(index);

        Assert.Equal(LogHeaderSize, new FileInfo(LogPath).Length);
        Assert.True(File.Exists(SnapshotPath));
        var reopened = Open(options);

        Assert.Equal(Ids(batches), await ChunkIdsAsync(reopened));
        Assert.Equal(before, await reopened.SearchAsync(query, filter, 5, Ct));
        Assert.Equal(6, (await reopened.ListDocumentVersionsAsync(Ct)).Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(RecordHeaderSize + 5)]
    [InlineData(-5)]
    public async Task A_torn_last_log_record_is_cut_off_and_the_batches_before_it_survive(int keptBytesOfLastRecord)
    {
        var index = Open();
        var (batches, lengths) = await ApplyThreeBatchesAsync(index);
        Crash(index);
        var recordEnd = lengths[2];
        var kept = keptBytesOfLastRecord > 0 ? lengths[1] + keptBytesOfLastRecord : recordEnd + keptBytesOfLastRecord;
        using (var log = new FileStream(LogPath, FileMode.Open))
        {
            log.SetLength(kept);
        }

        var reopened = Open();

        Assert.Equal(Ids(batches[0], batches[1]), await ChunkIdsAsync(reopened));
        Assert.Equal(lengths[1], new FileInfo(LogPath).Length);

        // Later batches go after the last intact record, and survive the next crash too.
        var next = Chunk(Guid.NewGuid(), 1, 0, RandomUnit(_rng, Dimensions));
        await ApplyAsync(reopened, b => b.Upserts.Add(next));
        Crash(reopened);
        Assert.Equal(Ids(batches[0], batches[1], [next]), await ChunkIdsAsync(Open()));
    }

    [Fact]
    public async Task A_corrupt_last_log_record_is_discarded_and_cut_away()
    {
        var index = Open();
        var (batches, lengths) = await ApplyThreeBatchesAsync(index);
        Crash(index);
        FlipByte(LogPath, lengths[2] - 7);

        var reopened = Open();

        Assert.Equal(Ids(batches[0], batches[1]), await ChunkIdsAsync(reopened));
        Assert.Equal(lengths[1], new FileInfo(LogPath).Length);
    }

    [Fact]
    public async Task Damage_in_the_middle_of_the_log_fails_the_open_instead_of_dropping_later_batches()
    {
        var index = Open();
        var (_, lengths) = await ApplyThreeBatchesAsync(index);
        Crash(index);
        FlipByte(LogPath, lengths[0] + RecordHeaderSize + 30);

        var error = Assert.Throws<InvalidDataException>(() => Open());

        Assert.Contains(LogPath, error.Message, StringComparison.Ordinal);
        Assert.Contains("intact record follows", error.Message, StringComparison.Ordinal);
        Assert.Contains("re-index", error.Message, StringComparison.Ordinal);
        Assert.Equal(lengths[2], new FileInfo(LogPath).Length);
    }

    [Fact]
    public async Task A_torn_snapshot_temp_file_is_ignored_and_removed()
    {
        var index = Open();
        var (batches, _) = await ApplyThreeBatchesAsync(index);
        Close(index);

        // A compaction that was cut short: the first half of a snapshot under the temporary name.
        var snapshot = await File.ReadAllBytesAsync(SnapshotPath, Ct);
        var temp = Path.Combine(IndexDirectory, "vectors.snapshot.tmp");
        await File.WriteAllBytesAsync(temp, snapshot[..(snapshot.Length / 2)], Ct);
        var reopened = Open();

        Assert.Equal(Ids(batches), await ChunkIdsAsync(reopened));
        Assert.False(File.Exists(temp));
    }

    [Fact]
    public async Task A_log_left_from_before_the_last_snapshot_is_not_replayed()
    {
        var index = Open();
        var d = Guid.NewGuid();
        await ApplyAsync(index, b => b.Upserts.Add(Chunk(d, 1, 0, RandomUnit(_rng, Dimensions))));
        Crash(index);
        var oldLog = await File.ReadAllBytesAsync(LogPath, Ct);
        index = Open();
        await ApplyAsync(index, b => b.Deletions.Add(new DocumentDeletion(d)));
        await ApplyAsync(index, b => b.Upserts.Add(Chunk(Guid.NewGuid(), 1, 0, RandomUnit(_rng, Dimensions))));
        Close(index);

        // As if the process stopped after the new snapshot was renamed into place but before the log was emptied.
        await File.WriteAllBytesAsync(LogPath, oldLog, Ct);
        var reopened = Open();

        Assert.Equal(1, reopened.Count);
        Assert.Empty(await reopened.GetVectorsAsync([ChunkIds.Create(d, 1, 0)], Ct));
    }

    [Fact]
    public async Task A_damaged_snapshot_fails_the_open_with_a_reason()
    {
        var index = Open();
        await ApplyThreeBatchesAsync(index);
        Close(index);
        FlipByte(SnapshotPath, new FileInfo(SnapshotPath).Length - 40);

        var error = Assert.Throws<InvalidDataException>(() => Open());

        Assert.Contains(SnapshotPath, error.Message, StringComparison.Ordinal);
        Assert.Contains("vector section", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_log_is_folded_into_a_snapshot_once_it_passes_the_threshold()
    {
        var options = new VectorIndexOptions { LogCompactionBytes = 2000 };
        var index = Open(options);
        var first = Chunk(Guid.NewGuid(), 1, 0, RandomUnit(_rng, Dimensions));
        await ApplyAsync(index, b => b.Upserts.Add(first));
        Assert.True(new FileInfo(LogPath).Length > LogHeaderSize);
        Assert.False(File.Exists(SnapshotPath));

        var many = Enumerable.Range(0, 30).Select(o => Chunk(Guid.NewGuid(), 1, o, RandomUnit(_rng, Dimensions))).ToList();
        await ApplyAsync(index, b => b.Upserts.AddRange(many));

        Assert.Equal(LogHeaderSize, new FileInfo(LogPath).Length);
        Assert.True(File.Exists(SnapshotPath));
        var after = Chunk(Guid.NewGuid(), 1, 0, RandomUnit(_rng, Dimensions));
        await ApplyAsync(index, b => b.Upserts.Add(after));
        Crash(index);
        Assert.Equal(Ids([first], many, [after]), await ChunkIdsAsync(Open(options)));
    }

    [Fact]
    public async Task A_second_open_of_the_same_directory_fails_until_the_first_is_closed()
    {
        var index = Open();
        await ApplyAsync(index, b => b.Upserts.Add(Chunk(Guid.NewGuid(), 1, 0, RandomUnit(_rng, Dimensions))));

        var error = Assert.Throws<IOException>(() => Open());

        Assert.Equal($"the vector index at {IndexDirectory} is in use by another process; stop it or use another data directory", error.Message);
        Close(index);
        Assert.Equal(1, Open().Count);
    }

    [Fact]
    public async Task Filter_fields_read_back_from_the_snapshot_and_the_log_filter_as_the_reference_does()
    {
        var epoch = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.FromHours(2));
        var sources = new[] { Guid.NewGuid(), Guid.NewGuid() };
        IndexedChunk Make(int i) => Chunk(Guid.NewGuid(), 1 + (i % 2), 0, RandomUnit(_rng, Dimensions), tenant: i % 5 == 0 ? "t2" : "t1", acl: i % 3 == 0 ? ["group:a", "user:x"] : ["group:b"]) with
        {
            SourceId = sources[i % 2],
            ChangedAt = i % 7 == 0 ? null : epoch.AddMinutes(i),
            Metadata = i % 4 == 0 ? IndexedChunk.EmptyMetadata : new Dictionary<string, string> { ["year"] = (2015 + (i % 9)).ToString(System.Globalization.CultureInfo.InvariantCulture), ["team"] = i % 2 == 0 ? "red" : "blue" },
        };
        var inSnapshot = Enumerable.Range(0, 60).Select(Make).ToList();
        var inLog = Enumerable.Range(60, 60).Select(Make).ToList();
        var index = Open();
        await ApplyAsync(index, b => b.Upserts.AddRange(inSnapshot));
        Close(index);
        index = Open();
        await ApplyAsync(index, b => b.Upserts.AddRange(inLog));
        Crash(index);
        var reopened = Open();

        var filters = new[]
        {
            As("t1", "group:a"),
            As("t2", "user:x", "group:b"),
            As("t1", "group:b") with { SourceIds = [sources[1]] },
            As("t1", "group:a", "group:b") with { ChangedAfter = epoch.AddMinutes(50) },
            As("t1", "group:a", "group:b") with { Metadata = [MetadataFilter.Between("year", "2017", "2020", minInclusive: false), MetadataFilter.Eq("team", "red")] },
            As("t1", "group:b") with { DocumentIds = [.. inLog.Take(20).Select(c => c.DocumentId)] },
        };
        var all = inSnapshot.Concat(inLog).ToList();
        foreach (var filter in filters)
        {
            var expected = all.Where(filter.Matches).Select(c => c.ChunkId).Order(StringComparer.Ordinal).ToArray();
            var actual = (await reopened.SearchAsync(RandomUnit(_rng, Dimensions), filter, 1000, Ct)).Select(h => h.ChunkId).Order(StringComparer.Ordinal).ToArray();
            Assert.NotEmpty(expected);
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public async Task A_batch_cancelled_before_it_is_written_leaves_nothing_behind()
    {
        var index = Open();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var batch = new IndexBatch();
        batch.Upserts.Add(Chunk(Guid.NewGuid(), 1, 0, RandomUnit(_rng, Dimensions)));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => index.ApplyAsync(batch, cancelled.Token));

        Assert.Equal(0, index.Count);
        Assert.Equal(LogHeaderSize, new FileInfo(LogPath).Length);
    }

    [Fact]
    public async Task A_closed_index_refuses_searches_and_batches()
    {
        var index = Open();
        await ApplyAsync(index, b => b.Upserts.Add(Chunk(Guid.NewGuid(), 1, 0, RandomUnit(_rng, Dimensions))));
        Close(index);

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await index.SearchAsync(RandomUnit(_rng, Dimensions), As("t1", "public"), 5, Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => ApplyAsync(index, b => b.Deletions.Add(new DocumentDeletion(Guid.NewGuid()))));
    }

    private static void FlipByte(string path, long offset)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        var b = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(b ^ 0x5A));
    }
}
