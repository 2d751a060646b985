using System.Globalization;
using System.Text;
using Grpc.Core;
using RagPlatform.Contracts.V1;
using RagPlatform.Retrieval.Tests.Harness;
using Mode = RagPlatform.Contracts.V1.RetrievalMode;

namespace RagPlatform.Retrieval.Tests;

/// <summary>
/// Random worlds, pushed through the ingestion API: documents with random words, tenants and ACLs,
/// changed and deleted as the rounds go, queried by random callers in every mode with random fusion
/// settings, reranking and diversity. Whatever the ranking, no hit may ever break tenant or ACL,
/// every hit is of its document's active version, and a permitted caller always finds a document
/// by its unique word.
/// </summary>
public sealed class AccessControlPropertyTests(RerankingServer server) : IClassFixture<RerankingServer>
{
    private const int Documents = 60;
    private const int Rounds = 150;

    // Tenants that differ only in case are different tenants.
    private static readonly string[] TenantNames = ["acme", "Acme", "acme-eu", "ünï-tenant"];

    // Names with characters that mean something to query parsers and filters.
    private static readonly string[] PrincipalPool =
    [
        "public", "user:alice", "user:bob", "user:carol", "user:ünïcode", "user:x*y?", "user:a:b",
        "group:eng", "group:ops", "group:alice", "group:a\"b", "group:(hr)", "group:eng-eu",
    ];

    private static readonly string[] Vocabulary =
    [
        "river", "mountain", "ledger", "budget", "falcon", "copper", "harbor", "meadow", "lantern", "orchard",
        "granite", "compass", "thunder", "willow", "saffron", "glacier", "canyon", "beacon", "marble", "pepper",
        "quarry", "summit", "timber", "velvet", "walnut", "yarrow", "zephyr", "anchor", "bramble", "cobalt",
        "delta", "ember", "fjord", "garnet", "hollow", "island", "juniper", "kestrel", "lagoon", "mosaic",
    ];

    private static readonly string[] Departments = ["sales", "research", "legal"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(1)]
    [InlineData(20260101)]
    [InlineData(424242)]
    public async Task No_hit_ever_breaks_tenant_or_acl_and_permitted_callers_find_unique_words(int seed)
    {
        var random = new Random(seed);
        var world = new World(seed);
        for (var i = 0; i < Documents; i++)
        {
            world.Add(RandomDocument(random, world, i));
        }

        foreach (var tenantDocs in world.Docs.Values.GroupBy(d => d.Tenant))
        {
            await world.PushAsync(server, tenantDocs.ToList());
        }

        for (var round = 0; round < Rounds; round++)
        {
            var context = $"seed {seed}, round {round}";
            if (round > 0 && round % 25 == 0)
            {
                await MutateAsync(random, world, context);
            }

            await RandomQueryAsync(random, world, context);
            await UniqueWordQueryAsync(random, world, context);
        }

        // Guards against a vacuous pass: the random callers did see plenty, in every mode.
        Assert.True(world.HitsChecked > Rounds * 5, $"only {world.HitsChecked} hits were checked");
        Assert.Equal([Mode.Hybrid, Mode.Keyword, Mode.Vector], world.ModesWithHits.Order());
        Assert.Empty(server.LoggedErrors);
    }

    private async Task RandomQueryAsync(Random random, World world, string context)
    {
        var tenant = random.Next(5) == 0 ? world.Tenant("empty") : world.Tenant(TenantNames[random.Next(TenantNames.Length)]);
        var (user, groups) = RandomCaller(random);
        var source = world.Docs.Values.ElementAt(random.Next(world.Docs.Count));
        var words = source.Words.OrderBy(_ => random.Next()).Take(random.Next(1, 4)).ToList();
        var request = Wire.Query(tenant, string.Join(' ', words), user, groups, random.Next(1, 101), (Mode)random.Next(1, 4));
        request.Fusion = random.Next(2) == 0
            ? new Contracts.V1.Fusion { Rrf = new Contracts.V1.ReciprocalRankFusion { K = random.Next(1, 200) } }
            : new Contracts.V1.Fusion { Weighted = new Contracts.V1.WeightedFusion { KeywordWeight = random.Next(4) == 0 ? 0 : random.NextDouble() + 0.01, VectorWeight = random.NextDouble() + 0.01 } };
        request.CandidateDepth = random.Next(1, 150);
        request.Rerank = random.Next(4) == 0;
        if (random.Next(4) == 0)
        {
            request.Diversity = new Diversity { MmrLambda = random.NextDouble() };
        }

        string? department = null;
        if (random.Next(4) == 0)
        {
            department = Departments[random.Next(Departments.Length)];
            request.Filters = new Filters { Metadata = { new MetadataFilter { Key = "dept", Equals_ = department } } };
        }

        var response = await server.RetrieveAsync(request);

        var label = $"{context}: {Describe(request)}";
        Assert.True(response.Hits.Count <= request.TopK, $"{label}: {response.Hits.Count} hits for top_k {request.TopK}");
        Assert.Equal(response.Hits.Count, response.Hits.Select(h => h.ChunkId).Distinct().Count());
        foreach (var hit in response.Hits)
        {
            await world.AssertVisibleAsync(server, request, hit, label);
            if (department is not null)
            {
                Assert.True(hit.Metadata.TryGetValue("dept", out var d) && d == department, $"{label}: hit {hit.DocumentId} is not in dept {department}");
            }
        }
    }

    private async Task UniqueWordQueryAsync(Random random, World world, string context)
    {
        var candidates = world.Docs.Values.Where(d => !d.Deleted && d.Acl.Length > 0).ToList();
        var doc = candidates[random.Next(candidates.Count)];
        var grant = doc.Acl[random.Next(doc.Acl.Length)];
        var user = grant.StartsWith("user:", StringComparison.Ordinal) ? grant : random.Next(2) == 0 ? "user:zed" : null;
        string[] groups = grant.StartsWith("group:", StringComparison.Ordinal) ? ["group:unrelated", grant] : [];

        // Vector neighbours of a random model need not contain the word; keyword and hybrid must find it.
        var mode = random.Next(2) == 0 ? Mode.Keyword : Mode.Hybrid;
        var request = Wire.Query(world.Tenant(doc.Tenant), doc.UniqueWord, user, groups, topK: random.Next(1, 11), mode);

        var response = await server.RetrieveAsync(request);

        var label = $"{context}: {Describe(request)} for {doc.Key}";
        Assert.Contains(response.Hits, h => h.DocumentId == doc.Id);
        foreach (var hit in response.Hits)
        {
            await world.AssertVisibleAsync(server, request, hit, label);
        }
    }

    private async Task MutateAsync(Random random, World world, string context)
    {
        var live = world.Docs.Values.Where(d => !d.Deleted).ToList();
        foreach (var doc in live.OrderBy(_ => random.Next()).Take(6))
        {
            switch (random.Next(3))
            {
                case 0:
                    doc.Acl = RandomAcl(random);
                    break;
                case 1:
                    doc.Words = RandomWords(random, doc.UniqueWord);
                    break;
                default:
                    doc.Deleted = true;
                    break;
            }
        }

        var deleted = live.Where(d => d.Deleted).GroupBy(d => d.Tenant);
        foreach (var group in deleted)
        {
            var request = new DeleteDocumentsRequest { Tenant = world.Tenant(group.Key) };
            request.ExternalKeys.AddRange(group.Select(d => d.Key));
            var response = await server.Ingestion.DeleteDocumentsAsync(request, cancellationToken: Ct);
            Assert.All(response.Results, r => Assert.True(r.Outcome == DocumentOutcome.Deleted, $"{context}: deleting {r.ExternalKey} gave {r.Outcome}"));
        }

        foreach (var group in live.Where(d => !d.Deleted).GroupBy(d => d.Tenant))
        {
            await world.PushAsync(server, group.ToList());
        }

        world.ForgetCache();
    }

    private static WorldDocument RandomDocument(Random random, World world, int index)
    {
        var unique = "zq" + string.Concat(index.ToString("D3", CultureInfo.InvariantCulture).Select(c => (char)('a' + c - '0'))) + world.Salt + "q";
        return new WorldDocument
        {
            Key = $"doc-{index}",
            Tenant = TenantNames[random.Next(TenantNames.Length)],
            UniqueWord = unique,
            Words = RandomWords(random, unique),
            Acl = RandomAcl(random),
            Department = Departments[random.Next(Departments.Length)],
        };
    }

    private static List<string> RandomWords(Random random, string unique)
    {
        // Mostly short documents, some long enough to make several chunks.
        var count = random.Next(4) == 0 ? random.Next(300, 700) : random.Next(5, 40);
        var words = Enumerable.Range(0, count).Select(_ => Vocabulary[random.Next(Vocabulary.Length)]).ToList();
        words.Insert(random.Next(words.Count), unique);
        return words;
    }

    private static string[] RandomAcl(Random random)
    {
        // About one in eight documents has no ACL at all: visible to nobody.
        var size = random.Next(8) == 0 ? 0 : random.Next(1, 4);
        return [.. PrincipalPool.OrderBy(_ => random.Next()).Take(size)];
    }

    private static (string? User, string[] Groups) RandomCaller(Random random)
    {
        var users = PrincipalPool.Where(p => p.StartsWith("user:", StringComparison.Ordinal)).Append("user:nobody").ToArray();
        var groups = PrincipalPool.Where(p => p.StartsWith("group:", StringComparison.Ordinal)).Append("group:none").ToArray();
        var user = random.Next(4) == 0 ? null : users[random.Next(users.Length)];
        return (user, groups.OrderBy(_ => random.Next()).Take(random.Next(0, 4)).ToArray());
    }

    private static string Describe(RetrieveRequest r)
        => $"tenant '{r.Tenant}', caller '{r.Principal.User}' [{string.Join(',', r.Principal.Groups)}], query '{r.Query}', {r.Mode}, top_k {r.TopK}, depth {r.CandidateDepth}, fusion {r.Fusion}, rerank {r.Rerank}, diversity {r.Diversity}, filters {r.Filters}";

    private sealed class WorldDocument
    {
        public required string Key { get; init; }

        public required string Tenant { get; init; }

        public required string UniqueWord { get; init; }

        public required List<string> Words { get; set; }

        public required string[] Acl { get; set; }

        public required string Department { get; init; }

        public string Id { get; set; } = string.Empty;

        public bool Deleted { get; set; }

        public string Text()
        {
            // Sentences of twelve words, so that long documents chunk at sentence boundaries.
            var text = new StringBuilder();
            for (var i = 0; i < Words.Count; i += 12)
            {
                text.Append(string.Join(' ', Words.Skip(i).Take(12))).Append(". ");
            }

            return text.ToString().TrimEnd();
        }
    }

    /// <summary>What was pushed, as the test remembers it, and the server's view of it.</summary>
    private sealed class World(int seed)
    {
        private readonly Dictionary<(string Tenant, string Id), GetDocumentResponse> _fetched = [];

        /// <summary>Each seed gets its own tenants and unique words on the shared server.</summary>
        public string Salt { get; } = string.Concat(seed.ToString("D9", CultureInfo.InvariantCulture).Select(c => (char)('a' + c - '0')));

        public Dictionary<string, WorldDocument> Docs { get; } = new(StringComparer.Ordinal);

        public string Tenant(string name) => $"{name}-{Salt}";

        public void Add(WorldDocument doc) => Docs[doc.Key] = doc;

        public void ForgetCache() => _fetched.Clear();

        public int HitsChecked { get; private set; }

        public HashSet<Mode> ModesWithHits { get; } = [];

        public async Task PushAsync(RagTestServer server, List<WorldDocument> docs)
        {
            var pushed = docs.Select(d =>
            {
                var wire = Wire.Text(d.Key, d.Text(), d.Acl);
                wire.Metadata.Add("dept", d.Department);
                return wire;
            }).ToArray();
            var response = await server.PushAsync(Tenant(docs[0].Tenant), pushed);
            foreach (var (doc, result) in docs.Zip(response.Results))
            {
                Assert.Equal(doc.Key, result.ExternalKey);
                doc.Id = result.DocumentId;
            }
        }

        public async Task AssertVisibleAsync(RagTestServer server, RetrieveRequest request, Hit hit, string label)
        {
            var doc = Docs.Values.FirstOrDefault(d => d.Id == hit.DocumentId);
            Assert.True(doc is not null, $"{label}: hit {hit.DocumentId} is no document this test pushed");
            Assert.True(Tenant(doc.Tenant) == request.Tenant, $"{label}: hit {doc.Key} belongs to tenant '{Tenant(doc.Tenant)}'");
            Assert.False(doc.Deleted, $"{label}: hit {doc.Key} was deleted");
            var caller = new HashSet<string>(request.Principal.Groups.Append("public").Append(request.Principal.User), StringComparer.Ordinal);
            Assert.True(doc.Acl.Any(caller.Contains), $"{label}: hit {doc.Key} has ACL [{string.Join(',', doc.Acl)}]");

            // The server's own record agrees: same tenant (or NOT_FOUND), same ACL, and the hit is of the active version.
            if (!_fetched.TryGetValue((request.Tenant, hit.DocumentId), out var stored))
            {
                try
                {
                    stored = await server.GetDocumentAsync(request.Tenant, hit.DocumentId);
                }
                catch (RpcException ex)
                {
                    Assert.Fail($"{label}: GetDocument of hit {doc.Key} in the query's tenant failed: {ex.Status}");
                    throw;
                }

                _fetched[(request.Tenant, hit.DocumentId)] = stored;
            }

            Assert.Equal(doc.Acl.Order(StringComparer.Ordinal), stored.Document.Acl.Order(StringComparer.Ordinal));
            Assert.Equal("indexed", stored.Document.State);
            Assert.True(stored.Document.ActiveVersion == hit.Citation.Version, $"{label}: hit {doc.Key} is of version {hit.Citation.Version}, the active one is {stored.Document.ActiveVersion}");
            HitsChecked++;
            ModesWithHits.Add(request.Mode);
        }
    }
}
