using System.Globalization;
using RagPlatform.Core.Indexing;
using RagPlatform.Testing;

namespace RagPlatform.Storage.Tests.Indexing;

/// <summary>
/// What every chunk index (keyword, embedded vector, later Qdrant) must do, run against each
/// implementation: atomic batches with the documented order, durability across reopening, and
/// filters that agree exactly with the reference semantics of <see cref="SearchFilter.Matches"/>.
/// Every chunk written here contains the word "lorem", so a keyword search for it finds them all.
/// </summary>
public abstract class ChunkIndexConformanceTests<TIndex> : IDisposable
    where TIndex : class, IChunkIndex, IDisposable
{
    protected const int Dimensions = 8;
    private readonly List<TIndex> _opened = [];

    protected TempDirectory Directory { get; } = new("index");

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Opens the index stored at <paramref name="directory"/> (creating it when new).</summary>
    protected abstract TIndex CreateIndex(string directory);

    /// <summary>Every chunk that passes <paramref name="filter"/>, best first, at most <paramref name="limit"/>.</summary>
    protected abstract ValueTask<IReadOnlyList<ScoredChunk>> SearchAllAsync(TIndex index, SearchFilter filter, int limit);

    protected TIndex Open(string? subdirectory = null)
    {
        var index = CreateIndex(Directory.Combine(subdirectory ?? "idx"));
        _opened.Add(index);
        return index;
    }

    protected void Close(TIndex index)
    {
        index.Dispose();
        _opened.Remove(index);
    }

    public static IndexedChunk MakeChunk(
        Guid documentId,
        int version,
        int ordinal,
        string tenant = "t1",
        string[]? acl = null,
        Guid? sourceId = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        DateTimeOffset? changedAt = null,
        string? extraText = null)
        => new()
        {
            ChunkId = ChunkIds.Create(documentId, version, ordinal),
            DocumentId = documentId,
            Version = version,
            Tenant = tenant,
            SourceId = sourceId ?? SourceA,
            Acl = acl ?? ["public"],
            Title = $"Title {documentId:N}",
            Text = $"lorem ipsum chunk {ordinal} of version {version} {extraText}",
            Metadata = metadata ?? IndexedChunk.EmptyMetadata,
            ChangedAt = changedAt,
            Embedding = UnitVector(documentId, version, ordinal),
        };

    public static readonly Guid SourceA = new("aaaaaaaa-0000-0000-0000-000000000001");
    public static readonly Guid SourceB = new("bbbbbbbb-0000-0000-0000-000000000002");

    public static float[] UnitVector(Guid documentId, int version, int ordinal)
    {
        var rng = new Random(HashCode.Combine(documentId, version, ordinal));
        var v = new float[Dimensions];
        double norm = 0;
        for (var i = 0; i < v.Length; i++)
        {
            v[i] = (float)(rng.NextDouble() * 2 - 1);
            norm += v[i] * v[i];
        }

        var inv = (float)(1 / Math.Sqrt(norm));
        for (var i = 0; i < v.Length; i++)
        {
            v[i] *= inv;
        }

        return v;
    }

    protected static SearchFilter Everyone(string tenant = "t1") => new()
    {
        Tenant = tenant,
        Principals = new HashSet<string>(StringComparer.Ordinal) { "public" },
    };

    protected static SearchFilter As(string tenant, params string[] principals) => new()
    {
        Tenant = tenant,
        Principals = new HashSet<string>(principals, StringComparer.Ordinal),
    };

    private static async Task ApplyAsync(TIndex index, Action<IndexBatch> build)
    {
        var batch = new IndexBatch();
        build(batch);
        await index.ApplyAsync(batch, Ct);
    }

    [Fact]
    public async Task Upserted_chunks_are_counted_listed_and_found()
    {
        var index = Open();
        var d1 = Guid.NewGuid();
        var d2 = Guid.NewGuid();
        await ApplyAsync(index, b => b.Upserts.AddRange([MakeChunk(d1, 1, 0), MakeChunk(d1, 1, 1), MakeChunk(d2, 3, 0)]));

        Assert.Equal(3, index.Count);
        var listed = await index.ListDocumentVersionsAsync(Ct);
        Assert.Equal(
            [(d1, 1, 2), (d2, 3, 1)],
            listed.Select(v => (v.DocumentId, v.Version, v.ChunkCount)).OrderBy(v => v.Item2).ToArray());
        var hits = await SearchAllAsync(index, Everyone(), 10);
        Assert.Equal(3, hits.Count);
        Assert.Contains(hits, h => h.ChunkId == ChunkIds.Create(d2, 3, 0) && h.DocumentId == d2 && h.Version == 3);
    }

    [Fact]
    public async Task Upserting_an_existing_chunk_id_replaces_it()
    {
        var index = Open();
        var d = Guid.NewGuid();
        await ApplyAsync(index, b => b.Upserts.Add(MakeChunk(d, 1, 0, acl: ["group:a"])));
        await ApplyAsync(index, b => b.Upserts.Add(MakeChunk(d, 1, 0, acl: ["group:b"])));

        Assert.Equal(1, index.Count);
        Assert.Empty(await SearchAllAsync(index, As("t1", "group:a"), 10));
        Assert.Single(await SearchAllAsync(index, As("t1", "group:b"), 10));
    }

    [Fact]
    public async Task Deletion_with_a_kept_version_removes_only_the_other_versions()
    {
        var index = Open();
        var d = Guid.NewGuid();
        var other = Guid.NewGuid();
        await ApplyAsync(index, b => b.Upserts.AddRange([MakeChunk(d, 1, 0), MakeChunk(d, 1, 1), MakeChunk(d, 2, 0), MakeChunk(other, 1, 0)]));
        await ApplyAsync(index, b => b.Deletions.Add(new DocumentDeletion(d, KeepVersion: 2)));

        var listed = await index.ListDocumentVersionsAsync(Ct);
        Assert.Equal([(d, 2, 1), (other, 1, 1)], listed.Select(v => (v.DocumentId, v.Version, v.ChunkCount)).OrderBy(v => v.DocumentId == d ? 0 : 1).ToArray());
        Assert.Equal(2, index.Count);
    }

    [Fact]
    public async Task Deletion_without_a_version_removes_the_whole_document()
    {
        var index = Open();
        var d = Guid.NewGuid();
        var other = Guid.NewGuid();
        await ApplyAsync(index, b => b.Upserts.AddRange([MakeChunk(d, 1, 0), MakeChunk(d, 2, 0), MakeChunk(other, 1, 0)]));
        await ApplyAsync(index, b => b.Deletions.Add(new DocumentDeletion(d)));

        var hits = await SearchAllAsync(index, Everyone(), 10);
        Assert.Equal([other], hits.Select(h => h.DocumentId).ToArray());
        Assert.Equal(1, index.Count);
    }

    [Fact]
    public async Task In_one_batch_deletions_apply_before_upserts()
    {
        var index = Open();
        var d = Guid.NewGuid();
        await ApplyAsync(index, b => b.Upserts.Add(MakeChunk(d, 1, 0)));
        await ApplyAsync(index, b =>
        {
            b.Upserts.Add(MakeChunk(d, 2, 0));
            b.Deletions.Add(new DocumentDeletion(d));
        });

        var hits = await SearchAllAsync(index, Everyone(), 10);
        Assert.Equal([ChunkIds.Create(d, 2, 0)], hits.Select(h => h.ChunkId).ToArray());
    }

    [Fact]
    public async Task Access_update_changes_who_finds_every_chunk_of_the_document_and_nothing_else()
    {
        var index = Open();
        var d = Guid.NewGuid();
        var other = Guid.NewGuid();
        await ApplyAsync(index, b => b.Upserts.AddRange([MakeChunk(d, 1, 0, acl: ["group:eng"]), MakeChunk(d, 1, 1, acl: ["group:eng"]), MakeChunk(other, 1, 0, acl: ["group:eng"])]));
        await ApplyAsync(index, b => b.AccessUpdates.Add(new AccessUpdate(d, ["user:alice"])));

        Assert.Equal([other], (await SearchAllAsync(index, As("t1", "group:eng"), 10)).Select(h => h.DocumentId).Distinct().ToArray());
        var alice = await SearchAllAsync(index, As("t1", "user:alice"), 10);
        Assert.Equal(2, alice.Count);
        Assert.All(alice, h => Assert.Equal(d, h.DocumentId));
        Assert.Equal(3, index.Count);
    }

    [Fact]
    public async Task Applied_batches_survive_reopening()
    {
        var index = Open("durable");
        var d = Guid.NewGuid();
        var gone = Guid.NewGuid();
        await ApplyAsync(index, b => b.Upserts.AddRange([MakeChunk(d, 1, 0), MakeChunk(d, 1, 1), MakeChunk(gone, 1, 0)]));
        await ApplyAsync(index, b =>
        {
            b.Deletions.Add(new DocumentDeletion(gone));
            b.AccessUpdates.Add(new AccessUpdate(d, ["group:ops"]));
        });
        Close(index);

        var reopened = Open("durable");
        Assert.Equal(2, reopened.Count);
        Assert.Empty(await SearchAllAsync(reopened, Everyone(), 10));
        var ops = await SearchAllAsync(reopened, As("t1", "group:ops"), 10);
        Assert.Equal(2, ops.Count);
        Assert.All(ops, h => Assert.Equal(d, h.DocumentId));
    }

    [Fact]
    public async Task Tenants_never_see_each_others_chunks_even_with_the_same_principals()
    {
        var index = Open();
        var d1 = Guid.NewGuid();
        var d2 = Guid.NewGuid();
        await ApplyAsync(index, b => b.Upserts.AddRange([MakeChunk(d1, 1, 0, tenant: "acme"), MakeChunk(d2, 1, 0, tenant: "globex")]));

        Assert.Equal([d1], (await SearchAllAsync(index, Everyone("acme"), 10)).Select(h => h.DocumentId).ToArray());
        Assert.Equal([d2], (await SearchAllAsync(index, Everyone("globex"), 10)).Select(h => h.DocumentId).ToArray());
        Assert.Empty(await SearchAllAsync(index, Everyone("initech"), 10));
    }

    [Fact]
    public async Task A_chunk_with_an_empty_acl_is_visible_to_nobody()
    {
        var index = Open();
        await ApplyAsync(index, b => b.Upserts.Add(MakeChunk(Guid.NewGuid(), 1, 0, acl: [])));

        Assert.Empty(await SearchAllAsync(index, As("t1", "public", "user:alice", "group:eng"), 10));
    }

    [Fact]
    public async Task Results_respect_the_limit_and_come_best_first()
    {
        var index = Open();
        await ApplyAsync(index, b =>
        {
            for (var i = 0; i < 30; i++)
            {
                b.Upserts.Add(MakeChunk(Guid.NewGuid(), 1, 0, extraText: string.Join(' ', Enumerable.Repeat("lorem", i % 5))));
            }
        });

        var hits = await SearchAllAsync(index, Everyone(), 7);
        Assert.Equal(7, hits.Count);
        for (var i = 1; i < hits.Count; i++)
        {
            Assert.True(hits[i - 1].Score >= hits[i].Score, $"hit {i} scores above hit {i - 1}");
        }
    }

    [Fact]
    public async Task Filters_agree_with_the_reference_semantics_on_random_data()
    {
        var rng = new Random(20261124);
        var index = Open();
        string[] tenants = ["t1", "t2"];
        string[] principals = ["public", "user:alice", "user:bob", "group:eng", "group:ops", "group:sales"];
        string[] teams = ["red", "green", "blue"];
        Guid[] sources = [SourceA, SourceB];
        var epoch = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var chunks = new List<IndexedChunk>();
        for (var i = 0; i < 240; i++)
        {
            var acl = principals.Where(_ => rng.NextDouble() < 0.25).ToArray();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (rng.NextDouble() < 0.8)
            {
                metadata["team"] = teams[rng.Next(teams.Length)];
            }

            if (rng.NextDouble() < 0.8)
            {
                metadata["year"] = (2015 + rng.Next(12)).ToString(CultureInfo.InvariantCulture);
            }

            chunks.Add(MakeChunk(
                Guid.NewGuid(),
                1 + rng.Next(3),
                rng.Next(4),
                tenant: tenants[rng.Next(tenants.Length)],
                acl: acl,
                sourceId: sources[rng.Next(sources.Length)],
                metadata: metadata,
                changedAt: rng.NextDouble() < 0.9 ? epoch.AddHours(rng.Next(1000)) : null));
        }

        await ApplyAsync(index, b => b.Upserts.AddRange(chunks));

        for (var round = 0; round < 150; round++)
        {
            var filter = new SearchFilter
            {
                Tenant = tenants[rng.Next(tenants.Length)],
                Principals = principals.Where(_ => rng.NextDouble() < 0.4).ToHashSet(StringComparer.Ordinal),
                SourceIds = rng.NextDouble() < 0.3 ? [sources[rng.Next(sources.Length)]] : null,
                DocumentIds = rng.NextDouble() < 0.15 ? chunks.Where(_ => rng.NextDouble() < 0.2).Select(c => c.DocumentId).ToArray() : null,
                ChangedAfter = rng.NextDouble() < 0.3 ? epoch.AddHours(rng.Next(1000)) : null,
                Metadata = RandomMetadataFilters(rng, teams),
            };

            var expected = chunks.Where(filter.Matches).Select(c => c.ChunkId).Order(StringComparer.Ordinal).ToArray();
            var actual = (await SearchAllAsync(index, filter, 1000)).Select(h => h.ChunkId).Order(StringComparer.Ordinal).ToArray();
            Assert.True(
                expected.SequenceEqual(actual),
                $"round {round}: expected {expected.Length} chunks, got {actual.Length}; filter tenant={filter.Tenant} principals=[{string.Join(',', filter.Principals)}] " +
                $"sources={filter.SourceIds?.Count} docs={filter.DocumentIds?.Count} after={filter.ChangedAfter} metadata=[{string.Join("; ", filter.Metadata)}]");
        }
    }

    private static IReadOnlyList<MetadataFilter> RandomMetadataFilters(Random rng, string[] teams)
    {
        var filters = new List<MetadataFilter>();
        var pick = rng.Next(6);
        if (pick == 1)
        {
            filters.Add(MetadataFilter.Eq("team", teams[rng.Next(teams.Length)]));
        }
        else if (pick == 2)
        {
            filters.Add(MetadataFilter.OneOf("team", teams[rng.Next(teams.Length)], teams[rng.Next(teams.Length)]));
        }
        else if (pick == 3)
        {
            var lo = 2015 + rng.Next(12);
            filters.Add(MetadataFilter.Between("year", lo.ToString(CultureInfo.InvariantCulture), (lo + rng.Next(5)).ToString(CultureInfo.InvariantCulture), rng.NextDouble() < 0.5, rng.NextDouble() < 0.5));
        }
        else if (pick == 4)
        {
            filters.Add(MetadataFilter.Between("year", null, "2019.5"));
            filters.Add(MetadataFilter.Eq("team", teams[rng.Next(teams.Length)]));
        }

        return filters;
    }

    public void Dispose()
    {
        foreach (var index in _opened)
        {
            index.Dispose();
        }

        Directory.Dispose();
        GC.SuppressFinalize(this);
    }
}
