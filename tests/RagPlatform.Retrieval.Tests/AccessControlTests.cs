using RagPlatform.Contracts.V1;
using RagPlatform.Retrieval.Tests.Harness;
using Mode = RagPlatform.Contracts.V1.RetrievalMode;

namespace RagPlatform.Retrieval.Tests;

/// <summary>
/// The documents the access tests read: in tenant <see cref="Tenant"/>, one document per kind of
/// grant, all about ledgers; the same documents, public, in <see cref="OtherTenant"/>; and a crowd of
/// chunks forbidden to <c>group:eng</c> that match "zebra" better than the few it may see.
/// </summary>
public sealed class AccessCorpusServer : RagTestServer
{
    public const string Tenant = "acme";
    public const string OtherTenant = "globex";
    public const int Forbidden = 300;
    public const int Permitted = 12;

    public Dictionary<string, string> Ids { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> OtherTenantIds { get; } = new(StringComparer.Ordinal);

    public HashSet<string> PermittedZebraIds { get; } = new(StringComparer.Ordinal);

    /// <summary>The ACL pushed with every document of <see cref="Tenant"/>, by document id.</summary>
    public Dictionary<string, string[]> Acls { get; } = new(StringComparer.Ordinal);

    /// <summary>Whether a caller of <see cref="Tenant"/> may see a document, by the ACL it was pushed with.</summary>
    public bool Visible(string documentId, string user, IEnumerable<string> groups)
        => Acls.TryGetValue(documentId, out var acl)
            && acl.Intersect(new[] { "public", user }.Concat(groups).Where(p => p.Length > 0), StringComparer.Ordinal).Any();

    protected override bool WithEmbedder => true;

    protected override async Task SeedAsync()
    {
        PushedDocument[] Grants() =>
        [
            Wire.Text("alice", "The ledger of Alice's private accounts.", "user:alice"),
            Wire.Text("eng", "The ledger of the engineering budget.", "group:eng"),
            Wire.Text("public", "The public ledger of donations.", "public"),
            Wire.Text("nobody", "The sealed ledger nobody was granted.", []),
            Wire.Text("bob-or-ops", "The ledger of operations, kept by Bob.", "user:bob", "group:ops"),
        ];
        var grants = Grants();
        foreach (var (r, d) in (await this.PushAsync(Tenant, grants)).Results.Zip(grants))
        {
            Ids[r.ExternalKey] = r.DocumentId;
            Acls[r.DocumentId] = [.. d.Acl];
        }

        var others = Grants();
        foreach (var d in others)
        {
            d.Acl.Clear();
            d.Acl.Add("public");
        }

        foreach (var r in (await this.PushAsync(OtherTenant, others)).Results)
        {
            OtherTenantIds[r.ExternalKey] = r.DocumentId;
        }

        // The forbidden crowd says "zebra" three times in a few words; the permitted few say it once
        // in a long passage, so BM25 ranks every forbidden chunk above every permitted one.
        var zebras = Enumerable.Range(0, Forbidden)
            .Select(i => Wire.Text($"secret-{i}", $"Zebra zebra zebra, file {i}.", "group:secret"))
            .Concat(Enumerable.Range(0, Permitted).Select(i => Wire.Text(
                $"open-{i}",
                $"Report {i} on the savanna: the lions rested, the giraffes browsed the acacia, the wildebeest crossed the river, the elephants bathed, and one zebra grazed near the herd at dusk.",
                "group:eng")))
            .ToArray();
        foreach (var (r, d) in (await this.PushAsync(Tenant, zebras)).Results.Zip(zebras))
        {
            Acls[r.DocumentId] = [.. d.Acl];
            if (r.ExternalKey.StartsWith("open-", StringComparison.Ordinal))
            {
                PermittedZebraIds.Add(r.DocumentId);
            }
        }
    }
}

/// <summary>
/// Tenant and ACL filtering in every retrieval mode: each caller sees exactly what its user, its
/// groups and <c>public</c> grant, within its tenant, and still gets <c>top_k</c> hits when most of
/// the index is forbidden to it.
/// </summary>
public sealed class AccessControlTests(AccessCorpusServer server) : IClassFixture<AccessCorpusServer>
{
    public static TheoryData<Mode> Modes => [Mode.Keyword, Mode.Vector, Mode.Hybrid];

    public static TheoryData<Mode, string, string, string> Callers()
    {
        // (mode, user, groups, the documents the caller may see)
        (string User, string Groups, string Sees)[] callers =
        [
            (string.Empty, string.Empty, "public"),
            ("user:alice", string.Empty, "alice,public"),
            ("user:alice", "group:eng", "alice,eng,public"),
            (string.Empty, "group:eng", "eng,public"),
            ("user:bob", string.Empty, "bob-or-ops,public"),
            ("user:carol", "group:ops", "bob-or-ops,public"),
            ("user:carol", "group:ops,group:eng", "bob-or-ops,eng,public"),

            // A user and a group of the same name are different principals.
            ("user:eng", "group:alice", "public"),
            ("user:ALICE", string.Empty, "public"),
        ];
        var data = new TheoryData<Mode, string, string, string>();
        foreach (var mode in new[] { Mode.Keyword, Mode.Vector, Mode.Hybrid })
        {
            foreach (var (user, groups, sees) in callers)
            {
                data.Add(mode, user, groups, sees);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task A_caller_sees_exactly_the_documents_its_principals_are_granted(Mode mode, string user, string groups, string sees)
    {
        var request = Wire.Query(AccessCorpusServer.Tenant, "ledger", user, Split(groups), topK: 100, mode: mode);

        var response = await server.RetrieveAsync(request);

        var expected = Split(sees).Select(k => server.Ids[k]).Order().ToList();
        var ids = response.Hits.Select(h => h.DocumentId).ToList();
        Assert.Equal(mode, response.ModeUsed);
        Assert.All(ids, id => Assert.True(server.Visible(id, user, Split(groups)), $"hit {id} is not granted to {user} {groups}"));
        switch (mode)
        {
            case Mode.Keyword:
                Assert.Equal(expected, ids.Order());
                break;
            case Mode.Hybrid:
                // The keyword side finds every granted ledger; the vector side adds other visible neighbours.
                Assert.Superset(expected.ToHashSet(), ids.ToHashSet());
                break;
            default:
                // Nearest neighbours need not be about ledgers, but a caller with any grant gets some.
                Assert.NotEmpty(ids);
                break;
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task A_document_with_an_empty_acl_is_seen_by_nobody(Mode mode)
    {
        var request = Wire.Query(AccessCorpusServer.Tenant, "sealed ledger nobody granted", "user:alice", ["group:eng", "group:ops", "group:secret"], topK: 100, mode: mode);

        var response = await server.RetrieveAsync(request);

        Assert.DoesNotContain(server.Ids["nobody"], response.Hits.Select(h => h.DocumentId));
        Assert.NotEmpty(response.Hits);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task A_caller_without_grants_gets_no_hits_from_a_tenant_with_nothing_public(Mode mode)
    {
        var tenant = Wire.NewTenant("private");
        await server.PushAsync(tenant, Wire.Text("a", "Ledger of the board.", "group:board"), Wire.Text("b", "Ledger of the chair.", "user:chair"));

        var stranger = await server.RetrieveAsync(Wire.Query(tenant, "ledger", "user:mallory", ["group:eng"], topK: 100, mode: mode));
        var anonymous = await server.RetrieveAsync(Wire.Query(tenant, "ledger", topK: 100, mode: mode));
        var board = await server.RetrieveAsync(Wire.Query(tenant, "ledger", groups: ["group:board"], topK: 100, mode: mode));

        Assert.Empty(stranger.Hits);
        Assert.Empty(anonymous.Hits);
        Assert.Single(board.Hits);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task No_hit_ever_comes_from_another_tenant(Mode mode)
    {
        // Every document of the other tenant is public, and this caller holds every grant of this one.
        var request = Wire.Query(AccessCorpusServer.Tenant, "ledger", "user:alice", ["group:eng", "group:ops", "group:secret"], topK: 100, mode: mode);

        var response = await server.RetrieveAsync(request);
        var empty = await server.RetrieveAsync(Wire.Query(Wire.NewTenant("empty"), "ledger", "user:alice", topK: 100, mode: mode));

        Assert.NotEmpty(response.Hits);
        Assert.DoesNotContain(response.Hits, h => server.OtherTenantIds.ContainsValue(h.DocumentId));
        Assert.Empty(empty.Hits);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task The_other_tenant_sees_its_own_documents_only(Mode mode)
    {
        var response = await server.RetrieveAsync(Wire.Query(AccessCorpusServer.OtherTenant, "ledger", topK: 100, mode: mode));

        Assert.Equal(server.OtherTenantIds.Values.Order(), response.Hits.Select(h => h.DocumentId).Order());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task A_caller_gets_top_k_permitted_hits_when_most_better_matches_are_forbidden(Mode mode)
    {
        var request = Wire.Query(AccessCorpusServer.Tenant, "zebra", groups: ["group:eng"], topK: 10, mode: mode);

        var response = await server.RetrieveAsync(request);

        Assert.Equal(10, response.Hits.Count);
        Assert.Equal(10, response.Hits.Select(h => h.DocumentId).Distinct().Count());
        Assert.All(response.Hits, h => Assert.True(server.Visible(h.DocumentId, string.Empty, ["group:eng"])));
        if (mode == Mode.Keyword)
        {
            Assert.All(response.Hits, h => Assert.Contains(h.DocumentId, server.PermittedZebraIds));
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task A_caller_gets_every_permitted_match_even_with_a_shallow_candidate_depth(Mode mode)
    {
        // Candidates are fetched with the filter inside the search: 12 permitted chunks among 312
        // fill a depth of 12 only if the forbidden ones were never candidates.
        var request = Wire.Query(AccessCorpusServer.Tenant, "zebra", groups: ["group:eng"], topK: AccessCorpusServer.Permitted, mode: mode);
        request.CandidateDepth = AccessCorpusServer.Permitted;

        var response = await server.RetrieveAsync(request);

        var ids = response.Hits.Select(h => h.DocumentId).ToHashSet();
        Assert.Equal(AccessCorpusServer.Permitted, ids.Count);
        Assert.All(ids, id => Assert.True(server.Visible(id, string.Empty, ["group:eng"])));
        if (mode == Mode.Keyword)
        {
            Assert.Equal(server.PermittedZebraIds, ids);
        }
        else if (mode == Mode.Hybrid)
        {
            Assert.All(response.Hits.Where(h => h.Scores.HasKeywordRank), h => Assert.Contains(h.DocumentId, server.PermittedZebraIds));
            Assert.Contains(response.Hits, h => h.Scores.HasKeywordRank);
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task A_narrowed_acl_takes_effect_in_every_mode(Mode mode)
    {
        var tenant = Wire.NewTenant("acl-change");
        await server.PushAsync(tenant, Wire.Text("plan", "The merger plan for next spring.", "group:board", "group:staff"));
        Assert.Single((await server.RetrieveAsync(Wire.Query(tenant, "merger plan", groups: ["group:staff"], mode: mode))).Hits);

        await server.PushAsync(tenant, Wire.Text("plan", "The merger plan for next spring.", "group:board"));

        Assert.Empty((await server.RetrieveAsync(Wire.Query(tenant, "merger plan", groups: ["group:staff"], mode: mode))).Hits);
        Assert.Single((await server.RetrieveAsync(Wire.Query(tenant, "merger plan", groups: ["group:board"], mode: mode))).Hits);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task A_deleted_document_is_gone_in_every_mode(Mode mode)
    {
        var tenant = Wire.NewTenant("delete");
        var pushed = await server.PushAsync(tenant, Wire.Text("old", "Minutes of the old committee.", "public"), Wire.Text("new", "Minutes of the new committee.", "public"));

        await server.Ingestion.DeleteDocumentsAsync(new DeleteDocumentsRequest { Tenant = tenant, ExternalKeys = { "old" } }, cancellationToken: TestContext.Current.CancellationToken);

        var hit = Assert.Single((await server.RetrieveAsync(Wire.Query(tenant, "minutes committee", topK: 100, mode: mode))).Hits);
        Assert.Equal(pushed.Results[1].DocumentId, hit.DocumentId);
    }

    [Fact]
    public async Task The_forbidden_chunks_do_match_better_for_a_caller_allowed_to_see_them()
    {
        // Guards the premise of the test above: for keyword search, the crowd outranks the few.
        var request = Wire.Query(AccessCorpusServer.Tenant, "zebra", groups: ["group:eng", "group:secret"], topK: 100, mode: Mode.Keyword);

        var response = await server.RetrieveAsync(request);

        Assert.Equal(100, response.Hits.Count);
        Assert.DoesNotContain(response.Hits, h => server.PermittedZebraIds.Contains(h.DocumentId));
    }

    private static string[] Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries);
}
