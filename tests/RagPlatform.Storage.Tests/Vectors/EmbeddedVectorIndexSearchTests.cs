using RagPlatform.Core;
using RagPlatform.Core.Indexing;
using RagPlatform.Storage.Vectors;

namespace RagPlatform.Storage.Tests.Vectors;

public sealed class EmbeddedVectorIndexSearchTests : VectorIndexTestBase
{
    /// <summary>Sequential scan, and a scan cut into many partitions merged afterwards.</summary>
    public static TheoryData<bool> ScanModes => new() { false, true };

    private static VectorIndexOptions Options(bool parallel, VectorQuantization quantization = VectorQuantization.None) => parallel
        ? new VectorIndexOptions { Quantization = quantization, MaxSearchParallelism = 4, MinCodesPerPartition = 4096 }
        : new VectorIndexOptions { Quantization = quantization, MaxSearchParallelism = 1 };

    [Theory]
    [MemberData(nameof(ScanModes))]
    public async Task Exact_search_returns_the_same_neighbours_as_brute_force(bool parallel)
    {
        var rng = new Random(7);
        var chunks = Enumerable.Range(0, 3000).Select(i => Chunk(Guid.NewGuid(), 1, 0, RandomUnit(rng, 64), acl: [i % 3 == 0 ? "group:a" : "group:b"])).ToList();
        var index = Open(Options(parallel));
        await ApplyAsync(index, b => b.Upserts.AddRange(chunks));

        var filter = As("t1", "group:a");
        var permitted = chunks.Where(filter.Matches).ToList();
        for (var q = 0; q < 25; q++)
        {
            var query = RandomUnit(rng, 64);
            var expected = BruteForce(permitted, query, 10);
            var hits = await index.SearchAsync(query, filter, 10, Ct);

            Assert.Equal(expected.Select(e => e.ChunkId), hits.Select(h => h.ChunkId));
            for (var i = 0; i < hits.Count; i++)
            {
                Assert.Equal(expected[i].Score, hits[i].Score, 1e-5);
            }
        }
    }

    /// <summary>
    /// Exact search scores in floats only the rows its int8 bounds cannot rule out; where bounds are
    /// tightest to beat (near-duplicates closer than the int8 step, exact duplicates, clusters around the
    /// query) it must still give what scoring every permitted row in floats gives, to the bit.
    /// </summary>
    [Theory]
    [MemberData(nameof(ScanModes))]
    public async Task Exact_search_matches_a_float_scan_of_every_row_bit_for_bit_on_near_duplicates_and_ties(bool parallel)
    {
        const int Dimensions = 384;
        var rng = new Random(23);
        var centres = Enumerable.Range(0, 6).Select(_ => RandomUnit(rng, Dimensions)).ToArray();
        var chunks = new List<IndexedChunk>();
        for (var i = 0; i < 4000; i++)
        {
            var centre = centres[i % centres.Length];
            var spread = (i % 4) switch { 0 => 0.0, 1 => 1e-4, 2 => 3e-3, _ => 0.3 };
            var vector = centre.Select(x => (float)(x + (spread * ((rng.NextDouble() * 2) - 1)))).ToArray();
            chunks.Add(Chunk(Guid.NewGuid(), 1, 0, vector, acl: [i % 5 == 0 ? "group:a" : "group:b"]));
        }

        var index = Open(Options(parallel));
        await ApplyAsync(index, b => b.Upserts.AddRange(chunks));
        var stored = await index.GetVectorsAsync([.. chunks.Select(c => c.ChunkId)], Ct);

        // A fifth of the rows pass (the scan skips the others), four fifths (it scores all and drops the others by arithmetic), all.
        foreach (var filter in new[] { As("t1", "group:a"), As("t1", "group:b"), As("t1", "group:a", "group:b") })
        {
            var permitted = chunks.Where(filter.Matches).Select(c => c.ChunkId).ToList();
            foreach (var limit in new[] { 1, 10, 100, permitted.Count + 5 })
            {
                for (var q = 0; q < 8; q++)
                {
                    // Queries on a cluster's centre, slightly off it, and anywhere.
                    var query = (q % 3) switch
                    {
                        0 => centres[q % centres.Length],
                        1 => Normalised(centres[q % centres.Length].Select(x => (float)(x + (0.01 * ((rng.NextDouble() * 2) - 1)))).ToArray()),
                        _ => RandomUnit(rng, Dimensions),
                    };
                    var expected = permitted
                        .Select(id => (ChunkId: id, Score: System.Numerics.Tensors.TensorPrimitives.Dot(stored[id], query)))
                        .OrderByDescending(x => x.Score)
                        .ThenBy(x => x.ChunkId, StringComparer.Ordinal)
                        .Take(limit)
                        .ToArray();

                    var hits = await index.SearchAsync(query, filter, limit, Ct);

                    Assert.Equal(expected.Select(e => e.ChunkId), hits.Select(h => h.ChunkId));
                    Assert.Equal(expected.Select(e => e.Score), hits.Select(h => h.Score));
                }
            }
        }
    }

    private static float[] Normalised(float[] vector)
    {
        var norm = (float)Math.Sqrt(Dot(vector, vector));
        return [.. vector.Select(x => x / norm)];
    }

    [Theory]
    [MemberData(nameof(ScanModes))]
    public async Task Int8_scoring_keeps_recall_at_10_of_at_least_0_99_against_exact_search(bool parallel)
    {
        const int Dimensions = 384;
        var rng = new Random(11);
        var chunks = Enumerable.Range(0, 5000).Select(_ => Chunk(Guid.NewGuid(), 1, 0, RandomUnit(rng, Dimensions))).ToList();
        var exact = Open(Options(parallel), Temp.Combine("f32"));
        var int8 = Open(Options(parallel, VectorQuantization.Int8), Temp.Combine("int8"));
        await ApplyAsync(exact, b => b.Upserts.AddRange(chunks));
        await ApplyAsync(int8, b => b.Upserts.AddRange(chunks));

        var everyone = As("t1", "public");
        var found = 0;
        var total = 0;
        for (var q = 0; q < 100; q++)
        {
            var query = RandomUnit(rng, Dimensions);
            var truth = (await exact.SearchAsync(query, everyone, 10, Ct)).Select(h => h.ChunkId).ToHashSet();
            var approximate = await int8.SearchAsync(query, everyone, 10, Ct);
            found += approximate.Count(h => truth.Contains(h.ChunkId));
            total += truth.Count;

            // Candidates are rescored exactly, so the scores returned are the f32 ones.
            var vectors = chunks.ToDictionary(c => c.ChunkId, c => c.Embedding!);
            Assert.All(approximate, h => Assert.Equal(Dot(vectors[h.ChunkId], query), h.Score, 1e-5));
        }

        var recall = (double)found / total;
        Assert.True(recall >= 0.99, $"recall@10 of int8 against f32 is {recall:F4}");
    }

    [Theory]
    [InlineData(VectorQuantization.None)]
    [InlineData(VectorQuantization.Int8)]
    public async Task A_search_returns_every_permitted_row_when_only_5_of_10000_rows_pass_the_filter(VectorQuantization quantization)
    {
        var rng = new Random(3);
        var query = RandomUnit(rng, 32);
        var opposite = query.Select(x => -x).ToArray();
        var index = Open(new VectorIndexOptions { Quantization = quantization, MinCodesPerPartition = 4096 });
        var alice = new List<string>();
        await ApplyAsync(index, b =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                // The permitted rows are the worst matches of all, so taking a top-k and filtering it afterwards would find none.
                var permitted = i % 2000 == 7;
                var chunk = Chunk(Guid.NewGuid(), 1, 0, permitted ? Blend(opposite, RandomUnit(rng, 32)) : Blend(query, RandomUnit(rng, 32)), acl: permitted ? ["user:alice"] : ["group:others"]);
                b.Upserts.Add(chunk);
                if (permitted)
                {
                    alice.Add(chunk.ChunkId);
                }
            }
        });

        var hits = await index.SearchAsync(query, As("t1", "user:alice"), 5, Ct);

        Assert.Equal(alice.Order(StringComparer.Ordinal), hits.Select(h => h.ChunkId).Order(StringComparer.Ordinal));
        Assert.All(hits, h => Assert.True(h.Score < 0, $"{h.ChunkId} scores {h.Score}"));
    }

    [Fact]
    public async Task A_vector_of_another_size_is_rejected_with_the_sizes_and_what_to_do_and_nothing_is_written()
    {
        var rng = new Random(5);
        var index = Open();
        var kept = Chunk(Guid.NewGuid(), 1, 0, RandomUnit(rng, 8));
        await ApplyAsync(index, b => b.Upserts.Add(kept));

        var error = await Assert.ThrowsAsync<RagValidationException>(() => ApplyAsync(index, b =>
        {
            b.Deletions.Add(new DocumentDeletion(kept.DocumentId));
            b.Upserts.Add(Chunk(Guid.NewGuid(), 1, 0, RandomUnit(rng, 8)));
            b.Upserts.Add(Chunk(Guid.NewGuid(), 1, 0, RandomUnit(rng, 12)));
        }));

        Assert.Contains("holds 8-d vectors and the embedder produced 12-d", error.Message, StringComparison.Ordinal);
        Assert.Contains("re-index into a fresh data directory", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1, index.Count);
        Crash(index);
        var reopened = Open();
        Assert.Equal([kept.ChunkId], (await reopened.SearchAsync(kept.Embedding, As("t1", "public"), 10, Ct)).Select(h => h.ChunkId));
    }

    [Fact]
    public async Task A_first_batch_mixing_vector_sizes_is_rejected_naming_both_chunks()
    {
        var rng = new Random(5);
        var index = Open();
        var small = Chunk(Guid.NewGuid(), 1, 0, RandomUnit(rng, 8));
        var large = Chunk(Guid.NewGuid(), 1, 0, RandomUnit(rng, 16));

        var error = await Assert.ThrowsAsync<RagValidationException>(() => ApplyAsync(index, b => b.Upserts.AddRange([small, large])));

        Assert.Contains(small.ChunkId, error.Message, StringComparison.Ordinal);
        Assert.Contains(large.ChunkId, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, index.Count);
        Assert.Null(index.Dimensions);
    }

    [Fact]
    public async Task A_query_of_another_size_is_rejected_with_both_sizes()
    {
        var index = Open();
        await ApplyAsync(index, b => b.Upserts.Add(Chunk(Guid.NewGuid(), 1, 0, RandomUnit(new Random(1), 8))));

        var error = await Assert.ThrowsAsync<RagValidationException>(async () => await index.SearchAsync(new float[16], As("t1", "public"), 5, Ct));

        Assert.Equal("query", error.Field);
        Assert.Contains("16 dimensions", error.Message, StringComparison.Ordinal);
        Assert.Contains("8-d", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Vectors_without_direction_are_rejected_in_batches_and_queries()
    {
        var index = Open();
        var zero = await Assert.ThrowsAsync<RagValidationException>(() => ApplyAsync(index, b => b.Upserts.Add(Chunk(Guid.NewGuid(), 1, 0, new float[8]))));
        var nan = await Assert.ThrowsAsync<RagValidationException>(() => ApplyAsync(index, b => b.Upserts.Add(Chunk(Guid.NewGuid(), 1, 0, [1, float.NaN, 0, 0]))));
        await ApplyAsync(index, b => b.Upserts.Add(Chunk(Guid.NewGuid(), 1, 0, RandomUnit(new Random(1), 8))));
        var query = await Assert.ThrowsAsync<RagValidationException>(async () => await index.SearchAsync(new float[8], As("t1", "public"), 5, Ct));

        Assert.Contains("all zeros", zero.Message, StringComparison.Ordinal);
        Assert.Contains("NaN", nan.Message, StringComparison.Ordinal);
        Assert.Equal("query", query.Field);
        Assert.Equal(1, index.Count);
    }

    [Fact]
    public async Task Upserts_without_an_embedding_are_ignored()
    {
        var index = Open();
        var d = Guid.NewGuid();
        await ApplyAsync(index, b => b.Upserts.AddRange([Chunk(d, 1, 0, null), Chunk(d, 1, 1, null)]));

        Assert.Equal(0, index.Count);
        Assert.Null(index.Dimensions);
        Assert.Empty(await index.ListDocumentVersionsAsync(Ct));
        Assert.Equal(BatchLogHeaderSize, new FileInfo(Path.Combine(IndexDirectory, "vectors.log")).Length);
    }

    private const int BatchLogHeaderSize = 20;

    [Fact]
    public async Task Stored_vectors_are_normalised_and_handed_out_as_copies()
    {
        var index = Open();
        var d = Guid.NewGuid();
        var raw = new float[] { 3, 4, 0, 0 };
        await ApplyAsync(index, b => b.Upserts.Add(Chunk(d, 1, 0, raw)));
        raw[0] = 100;
        var id = ChunkIds.Create(d, 1, 0);

        var first = await index.GetVectorsAsync([id, "missing"], Ct);
        first[id][1] = -1;
        var second = await index.GetVectorsAsync([id], Ct);
        var hit = Assert.Single(await index.SearchAsync(new float[] { 0.6f, 0.8f, 0, 0 }, As("t1", "public"), 5, Ct));

        Assert.Equal([id], first.Keys);
        Assert.Equal(new[] { 0.6f, 0.8f, 0f, 0f }, second[id]);
        Assert.Equal(1, hit.Score, 1e-6);
    }

    [Fact]
    public async Task The_query_is_normalised_so_its_length_does_not_change_scores()
    {
        var rng = new Random(9);
        var index = Open();
        await ApplyAsync(index, b => b.Upserts.AddRange(Enumerable.Range(0, 50).Select(i => Chunk(Guid.NewGuid(), 1, 0, RandomUnit(rng, 16)))));
        var query = RandomUnit(rng, 16);

        var unit = await index.SearchAsync(query, As("t1", "public"), 5, Ct);
        var scaled = await index.SearchAsync(query.Select(x => x * 42).ToArray(), As("t1", "public"), 5, Ct);

        Assert.Equal(unit.Select(h => h.ChunkId), scaled.Select(h => h.ChunkId));
        Assert.Equal(unit.Select(h => h.Score), scaled.Select(h => h.Score), (a, b) => Math.Abs(a - b) < 1e-5);
    }

    [Fact]
    public async Task An_emptied_index_has_no_dimensions_and_takes_vectors_of_a_new_size()
    {
        var index = Open();
        var d = Guid.NewGuid();
        await ApplyAsync(index, b => b.Upserts.Add(Chunk(d, 1, 0, RandomUnit(new Random(1), 8))));
        Assert.Equal(8, index.Dimensions);

        await ApplyAsync(index, b => b.Deletions.Add(new DocumentDeletion(d)));
        Assert.Null(index.Dimensions);
        await ApplyAsync(index, b => b.Upserts.Add(Chunk(d, 2, 0, RandomUnit(new Random(2), 16))));

        Assert.Equal(16, index.Dimensions);
        Assert.Single(await index.SearchAsync(RandomUnit(new Random(3), 16), As("t1", "public"), 5, Ct));
    }

    [Fact]
    public async Task Principals_are_matched_with_the_callers_set_semantics_as_in_the_reference_filter()
    {
        var index = Open();
        var chunk = Chunk(Guid.NewGuid(), 1, 0, RandomUnit(new Random(1), 8), acl: ["group:Eng"]);
        await ApplyAsync(index, b => b.Upserts.Add(chunk));
        var caseInsensitive = new SearchFilter { Tenant = "t1", Principals = new HashSet<string>(["group:eng"], StringComparer.OrdinalIgnoreCase) };
        var ordinal = As("t1", "group:eng");

        Assert.True(caseInsensitive.Matches(chunk));
        Assert.Single(await index.SearchAsync(chunk.Embedding, caseInsensitive, 5, Ct));
        Assert.False(ordinal.Matches(chunk));
        Assert.Empty(await index.SearchAsync(chunk.Embedding, ordinal, 5, Ct));
    }

    [Fact]
    public async Task Access_changes_stay_exact_when_compaction_drops_the_access_groups_no_row_uses()
    {
        // Every batch is folded into a snapshot, which renumbers tenants, principals and (tenant, ACL) pairs.
        var index = Open(new VectorIndexOptions { LogCompactionBytes = 1 });
        var rng = new Random(4);
        var d1 = Guid.NewGuid();
        var d2 = Guid.NewGuid();
        await ApplyAsync(index, b => b.Upserts.AddRange([
            Chunk(d1, 1, 0, RandomUnit(rng, 8), tenant: "acme", acl: ["group:old"]),
            Chunk(d1, 1, 1, RandomUnit(rng, 8), tenant: "acme", acl: ["group:old"]),
            Chunk(d2, 1, 0, RandomUnit(rng, 8), tenant: "globex", acl: ["group:x"])]));
        await ApplyAsync(index, b => b.AccessUpdates.Add(new AccessUpdate(d1, ["group:new", "user:bob"])));
        await ApplyAsync(index, b => b.Deletions.Add(new DocumentDeletion(d2)));
        await ApplyAsync(index, b => b.AccessUpdates.Add(new AccessUpdate(d1, ["group:x"])));
        var query = RandomUnit(rng, 8);

        Assert.Empty(await index.SearchAsync(query, As("acme", "group:old", "group:new", "user:bob"), 10, Ct));
        Assert.Empty(await index.SearchAsync(query, As("globex", "group:x"), 10, Ct));
        Assert.Equal(2, (await index.SearchAsync(query, As("acme", "group:x"), 10, Ct)).Count);
        Close(index);
        Assert.Equal(2, (await Open().SearchAsync(query, As("acme", "group:x"), 10, Ct)).Count);
    }

    [Fact]
    public async Task A_limit_of_zero_returns_nothing_and_a_negative_one_is_refused()
    {
        var index = Open();
        await ApplyAsync(index, b => b.Upserts.Add(Chunk(Guid.NewGuid(), 1, 0, RandomUnit(new Random(1), 8))));

        Assert.Empty(await index.SearchAsync(RandomUnit(new Random(2), 8), As("t1", "public"), 0, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await index.SearchAsync(RandomUnit(new Random(2), 8), As("t1", "public"), -1, Ct));
    }

    private static float[] Blend(float[] direction, float[] noise)
    {
        var v = direction.Zip(noise, (a, b) => a + (0.3f * b)).ToArray();
        var norm = (float)Math.Sqrt(v.Sum(x => (double)x * x));
        return v.Select(x => x / norm).ToArray();
    }
}
