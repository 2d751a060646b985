using System.Collections.Concurrent;
using RagPlatform.Core.Indexing;
using RagPlatform.Storage.Vectors;

namespace RagPlatform.Storage.Tests.Vectors;

public sealed class EmbeddedVectorIndexConcurrencyTests : VectorIndexTestBase
{
    [Theory]
    [InlineData(VectorQuantization.None)]
    [InlineData(VectorQuantization.Int8)]
    public async Task Searches_during_writes_never_see_a_half_applied_batch(VectorQuantization quantization)
    {
        const int ChunksPerVersion = 20;
        const int MinVersions = 150;
        const int MinSearches = 300;
        var rng = new Random(17);
        var index = Open(new VectorIndexOptions { Quantization = quantization, MinCodesPerPartition = 2048 });
        var document = Guid.NewGuid();

        // Other documents make every scan long enough to overlap with writes, and cut it into partitions.
        await ApplyAsync(index, b =>
        {
            b.Upserts.AddRange(Enumerable.Range(0, 3000).Select(i => Chunk(Guid.NewGuid(), 1, 0, RandomUnit(rng, 32))));
            b.Upserts.AddRange(Enumerable.Range(0, ChunksPerVersion).Select(o => Chunk(document, 1, o, RandomUnit(rng, 32))));
        });

        var vectors = Enumerable.Range(0, ChunksPerVersion).Select(_ => RandomUnit(rng, 32)).ToArray();
        var violations = new ConcurrentQueue<string>();
        var searches = 0;
        var writing = true;
        var filter = new SearchFilter { Tenant = "t1", Principals = new HashSet<string>(["public"], StringComparer.Ordinal), DocumentIds = [document] };

        async Task ReadAsync(int seed)
        {
            var query = RandomUnit(new Random(seed), 32);
            while (Volatile.Read(ref writing))
            {
                var hits = await index.SearchAsync(query, filter, 100, Ct);
                var seen = hits.GroupBy(h => h.Version).Select(g => $"v{g.Key}x{g.Count()}").ToArray();
                if (seen.Length != 1 || hits.Count != ChunksPerVersion)
                {
                    violations.Enqueue($"search saw {string.Join(", ", seen)}");
                }

                var listed = (await index.ListDocumentVersionsAsync(Ct)).Where(v => v.DocumentId == document).ToArray();
                if (listed.Length != 1 || listed[0].ChunkCount != ChunksPerVersion)
                {
                    violations.Enqueue($"listing saw {string.Join(", ", listed.Select(v => $"v{v.Version}x{v.ChunkCount}"))}");
                }

                Interlocked.Increment(ref searches);
            }
        }

        var readers = Enumerable.Range(0, 3).Select(seed => Task.Run(() => ReadAsync(seed), Ct)).ToArray();

        // Writes go on until the readers have searched enough, however the machine schedules them
        // (or a reader failed: awaiting it below reports why).
        for (var version = 2; version <= MinVersions || (Volatile.Read(ref searches) < MinSearches && !readers.Any(r => r.IsCompleted)); version++)
        {
            var v = version;
            await ApplyAsync(index, b =>
            {
                // Replaces every chunk of the previous version with this version's, as the pipeline does.
                b.Deletions.Add(new DocumentDeletion(document, KeepVersion: v));
                b.Upserts.AddRange(Enumerable.Range(0, ChunksPerVersion).Select(o => Chunk(document, v, o, vectors[(o + v) % ChunksPerVersion])));
            });
        }

        Volatile.Write(ref writing, false);
        await Task.WhenAll(readers);

        Assert.Empty(violations);
        Assert.Equal(3000 + ChunksPerVersion, index.Count);
    }
}
