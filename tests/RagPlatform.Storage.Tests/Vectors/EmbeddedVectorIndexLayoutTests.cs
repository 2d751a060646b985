using RagPlatform.Core.Indexing;
using RagPlatform.Storage.Vectors;

namespace RagPlatform.Storage.Tests.Vectors;

/// <summary>
/// The table keeps rows in one run per access group plus an unsorted tail, and moves rows between them as
/// documents are added, replaced, deleted and re-permissioned. Whatever the moves, a search must see exactly
/// the live rows its caller may see, with their exact scores: checked here after every one of many random
/// batches against a plain list of what should be live, and again after reopening.
/// </summary>
public sealed class EmbeddedVectorIndexLayoutTests : VectorIndexTestBase
{
    private const int Dimensions = 16;
    private static readonly string[] Tenants = ["acme", "globex"];
    private static readonly string[] Principals = ["public", "group:eng", "group:hr", "user:ann", "user:bob"];

    [Theory]
    [InlineData(1, false, 1)]
    [InlineData(1, true, 2)]
    [InlineData(40, false, 3)]
    [InlineData(1_000_000, false, 4)]
    public async Task Searches_see_exactly_the_permitted_live_rows_through_random_adds_replacements_deletions_and_access_changes(int minUngroupedRows, bool parallel, int seed)
    {
        var options = new VectorIndexOptions
        {
            MinUngroupedRows = minUngroupedRows,
            MaxSearchParallelism = parallel ? 3 : 1,
            MinCodesPerPartition = 16,
        };
        var index = Open(options);
        var rng = new Random(seed);
        var live = new Dictionary<string, IndexedChunk>(StringComparer.Ordinal);
        var documents = Enumerable.Range(0, 12).Select(_ => RandomGuid(rng)).ToArray();
        var versions = new Dictionary<Guid, int>();

        for (var step = 0; step < 60; step++)
        {
            var batch = new IndexBatch();
            var document = documents[rng.Next(documents.Length)];
            var tenant = Tenants[Array.IndexOf(documents, document) % Tenants.Length];
            switch (rng.Next(4))
            {
                case 0 or 1:
                    // A new version: its chunks are added, then the older versions' are deleted.
                    var version = versions[document] = versions.GetValueOrDefault(document) + 1;
                    var acl = RandomAcl(rng);
                    var chunks = Enumerable.Range(0, rng.Next(1, 8)).Select(i => Chunk(document, version, i, RandomUnit(rng, Dimensions), tenant, acl)).ToList();
                    batch.Upserts.AddRange(chunks);
                    batch.Deletions.Add(new DocumentDeletion(document, KeepVersion: version));
                    foreach (var old in live.Values.Where(c => c.DocumentId == document).ToList())
                    {
                        live.Remove(old.ChunkId);
                    }

                    foreach (var chunk in chunks)
                    {
                        live[chunk.ChunkId] = chunk;
                    }

                    break;
                case 2:
                    var newAcl = RandomAcl(rng);
                    batch.AccessUpdates.Add(new AccessUpdate(document, newAcl));
                    foreach (var chunk in live.Values.Where(c => c.DocumentId == document).ToList())
                    {
                        live[chunk.ChunkId] = chunk with { Acl = newAcl };
                    }

                    break;
                default:
                    batch.Deletions.Add(new DocumentDeletion(document));
                    foreach (var chunk in live.Values.Where(c => c.DocumentId == document).ToList())
                    {
                        live.Remove(chunk.ChunkId);
                    }

                    break;
            }

            await index.ApplyAsync(batch, Ct);
            await AssertSearchesMatch(index, live, rng, $"after step {step}");
        }

        Close(index);
        await AssertSearchesMatch(Open(options), live, rng, "after reopening");
    }

    private static async Task AssertSearchesMatch(EmbeddedVectorIndex index, Dictionary<string, IndexedChunk> live, Random rng, string when)
    {
        Assert.Equal(live.Count, index.Count);
        foreach (var tenant in Tenants)
        {
            foreach (var principals in new[] { Principals, ["group:eng"], ["user:bob", "group:hr"], [] })
            {
                var filter = As(tenant, principals);
                var query = RandomUnit(rng, Dimensions);
                var expected = BruteForce(live.Values.Where(filter.Matches), query, int.MaxValue);
                var hits = await index.SearchAsync(query, filter, 100, Ct);

                Assert.True(
                    expected.Select(e => e.ChunkId).Order(StringComparer.Ordinal).SequenceEqual(hits.Select(h => h.ChunkId).Order(StringComparer.Ordinal)),
                    $"{when}: tenant {tenant}, principals [{string.Join(", ", principals)}]: expected {expected.Length} chunks, got {hits.Count}");
                for (var i = 0; i < hits.Count; i++)
                {
                    Assert.Equal(Dot(live[hits[i].ChunkId].Embedding!, query), hits[i].Score, tolerance: 1e-5);
                }
            }
        }
    }

    private static Guid RandomGuid(Random rng)
    {
        var bytes = new byte[16];
        rng.NextBytes(bytes);
        return new Guid(bytes);
    }

    private static string[] RandomAcl(Random rng)
        => [.. Principals.Where(_ => rng.Next(3) == 0).DefaultIfEmpty(Principals[rng.Next(Principals.Length)])];
}
