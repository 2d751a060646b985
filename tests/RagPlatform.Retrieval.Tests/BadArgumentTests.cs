using Grpc.Core;
using RagPlatform.Contracts.V1;
using RagPlatform.Retrieval.Tests.Harness;
using Mode = RagPlatform.Contracts.V1.RetrievalMode;

namespace RagPlatform.Retrieval.Tests;

/// <summary>
/// Every malformed request is refused with a precise status: INVALID_ARGUMENT carries a
/// <c>google.rpc.BadRequest</c> naming the field, so that a caller can fix it without reading logs.
/// </summary>
public sealed class BadArgumentTests(KeywordServer server) : IClassFixture<KeywordServer>, IAsyncLifetime
{
    private readonly string _tenant = Wire.NewTenant();

    /// <summary>Each case: a name, and how it spoils an otherwise valid request (whose caller is already in group:eng).</summary>
    private static readonly Dictionary<string, Action<RetrieveRequest>> Spoilers = new(StringComparer.Ordinal)
    {
        ["empty query"] = r => r.Query = string.Empty,
        ["whitespace query"] = r => r.Query = " \t\n ",
        ["empty tenant"] = r => r.Tenant = string.Empty,
        ["whitespace tenant"] = r => r.Tenant = "  ",
        ["top_k 0"] = r => r.TopK = 0,
        ["top_k 101"] = r => r.TopK = 101,
        ["top_k negative"] = r => r.TopK = -5,
        ["unknown mode"] = r => r.Mode = (Mode)42,
        ["candidate_depth 0"] = r => r.CandidateDepth = 0,
        ["candidate_depth 1001"] = r => r.CandidateDepth = 1001,
        ["metadata filter without key"] = r => r.Filters = Filters(new MetadataFilter { Equals_ = "x" }),
        ["metadata filter with blank key"] = r => r.Filters = Filters(new MetadataFilter { Key = " ", Equals_ = "x" }),
        ["metadata filter without condition"] = r => r.Filters = Filters(new MetadataFilter { Key = "lang" }),
        ["metadata filter with empty in"] = r => r.Filters = Filters(new MetadataFilter { Key = "lang", In = new StringList() }),
        ["metadata range with gt and gte"] = r => r.Filters = Filters(new MetadataFilter { Key = "year", Range = new Contracts.V1.Range { Gt = "1", Gte = "2" } }),
        ["metadata range with lt and lte"] = r => r.Filters = Filters(new MetadataFilter { Key = "year", Range = new Contracts.V1.Range { Lt = "1", Lte = "2" } }),
        ["metadata range without bounds"] = r => r.Filters = Filters(new MetadataFilter { Key = "year", Range = new Contracts.V1.Range() }),
        ["second metadata filter malformed"] = r => r.Filters = Filters(new MetadataFilter { Key = "lang", Equals_ = "en" }, new MetadataFilter { Key = "year" }),
        ["source id not a uuid"] = r => r.Filters = new Filters { SourceIds = { "push" } },
        ["second document id not a uuid"] = r => r.Filters = new Filters { DocumentIds = { Guid.NewGuid().ToString(), "doc-7" } },
        ["negative mmr_lambda"] = r => r.Diversity = new Diversity { MmrLambda = -0.1 },
        ["NaN mmr_lambda"] = r => r.Diversity = new Diversity { MmrLambda = double.NaN },
        ["mmr_lambda above 1"] = r => r.Diversity = new Diversity { MmrLambda = 1.5 },
        ["rrf k 0"] = r => r.Fusion = new Contracts.V1.Fusion { Rrf = new Contracts.V1.ReciprocalRankFusion { K = 0 } },
        ["rrf k negative"] = r => r.Fusion = new Contracts.V1.Fusion { Rrf = new Contracts.V1.ReciprocalRankFusion { K = -60 } },
        ["weighted fusion with a negative weight"] = r => r.Fusion = Weighted(-0.5, 1),
        ["weighted fusion with zero weights"] = r => r.Fusion = Weighted(0, 0),
        ["weighted fusion with a NaN weight"] = r => r.Fusion = Weighted(double.NaN, 1),
        ["weighted fusion with an infinite weight"] = r => r.Fusion = Weighted(1, double.PositiveInfinity),
        ["NaN min_score"] = r => r.MinScore = double.NaN,
        ["user without kind"] = r => r.Principal.User = "alice",
        ["user of unknown kind"] = r => r.Principal.User = "role:admin",
        ["group in the user field"] = r => r.Principal.User = "group:eng",
        ["public in the user field"] = r => r.Principal.User = "public",
        ["user with a space in the name"] = r => r.Principal.User = "user:alice smith",
        ["group without kind"] = r => r.Principal.Groups.Add("eng"),
        ["group of unknown kind"] = r => r.Principal.Groups.Add("team:eng"),
        ["user in the groups field"] = r => r.Principal.Groups.Add("user:bob"),
        ["second group malformed"] = r => r.Principal.Groups.AddRange(["group:ok", "group:"]),
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
        => await server.PushAsync(_tenant, Wire.Text("a", "Herons wade in shallow water.", "public"));

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task The_unspoilt_request_succeeds()
    {
        // Guards the cases below: each fails because of its one change, not because the base request is bad.
        var response = await server.RetrieveAsync(Valid());

        Assert.Single(response.Hits);
    }

    [Theory]
    [InlineData("empty query", "query")]
    [InlineData("whitespace query", "query")]
    [InlineData("empty tenant", "tenant")]
    [InlineData("whitespace tenant", "tenant")]
    [InlineData("top_k 0", "top_k")]
    [InlineData("top_k 101", "top_k")]
    [InlineData("top_k negative", "top_k")]
    [InlineData("unknown mode", "mode")]
    [InlineData("candidate_depth 0", "candidate_depth")]
    [InlineData("candidate_depth 1001", "candidate_depth")]
    [InlineData("metadata filter without key", "filters.metadata[0].key")]
    [InlineData("metadata filter with blank key", "filters.metadata[0].key")]
    [InlineData("metadata filter without condition", "filters.metadata[0].condition")]
    [InlineData("metadata filter with empty in", "filters.metadata[0].in")]
    [InlineData("metadata range with gt and gte", "filters.metadata[0].range")]
    [InlineData("metadata range with lt and lte", "filters.metadata[0].range")]
    [InlineData("metadata range without bounds", "filters.metadata[0].range")]
    [InlineData("second metadata filter malformed", "filters.metadata[1].condition")]
    [InlineData("source id not a uuid", "filters.source_ids[0]")]
    [InlineData("second document id not a uuid", "filters.document_ids[1]")]
    [InlineData("negative mmr_lambda", "diversity.mmr_lambda")]
    [InlineData("NaN mmr_lambda", "diversity.mmr_lambda")]
    [InlineData("mmr_lambda above 1", "diversity.mmr_lambda")]
    [InlineData("rrf k 0", "fusion.rrf.k")]
    [InlineData("rrf k negative", "fusion.rrf.k")]
    [InlineData("weighted fusion with a negative weight", "fusion.weighted")]
    [InlineData("weighted fusion with zero weights", "fusion.weighted")]
    [InlineData("weighted fusion with a NaN weight", "fusion.weighted")]
    [InlineData("weighted fusion with an infinite weight", "fusion.weighted")]
    [InlineData("NaN min_score", "min_score")]
    [InlineData("user without kind", "principal.user")]
    [InlineData("user of unknown kind", "principal.user")]
    [InlineData("group in the user field", "principal.user")]
    [InlineData("public in the user field", "principal.user")]
    [InlineData("user with a space in the name", "principal.user")]
    [InlineData("group without kind", "principal.groups[1]")]
    [InlineData("group of unknown kind", "principal.groups[1]")]
    [InlineData("user in the groups field", "principal.groups[1]")]
    [InlineData("second group malformed", "principal.groups[2]")]
    public async Task A_malformed_request_is_invalid_argument_naming_the_field(string spoiler, string field)
    {
        var request = Valid();
        Spoilers[spoiler](request);

        await RpcAssert.InvalidArgumentAsync(field, () => server.RetrieveAsync(request));
        Assert.Empty(server.LoggedErrors);
    }

    [Fact]
    public async Task A_query_over_the_size_limit_is_resource_exhausted()
    {
        var request = Valid();
        request.Query = string.Join(' ', Enumerable.Repeat("heron", 1400));
        Assert.True(request.Query.Length > 8192);

        var ex = await RpcAssert.FailsAsync(StatusCode.ResourceExhausted, () => server.RetrieveAsync(request));

        Assert.Contains("8192", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_query_of_tens_of_megabytes_is_resource_exhausted_not_unknown()
    {
        // Over Kestrel's default body limit (30 MB), under the gRPC message limit (64 MB).
        var request = Valid();
        request.Query = new string('x', 35 * 1024 * 1024);

        await RpcAssert.FailsAsync(StatusCode.ResourceExhausted, () => server.RetrieveAsync(request));

        Assert.Empty(server.LoggedErrors);
    }

    [Fact]
    public async Task A_query_at_the_size_limit_is_served()
    {
        var request = Valid();
        request.Query = ("heron " + new string('x', 8192))[..8192];

        var response = await server.RetrieveAsync(request);

        Assert.Single(response.Hits);
    }

    [Fact]
    public async Task Vector_mode_without_an_embedder_is_failed_precondition()
    {
        var request = Valid();
        request.Mode = Mode.Vector;

        var ex = await RpcAssert.FailsAsync(StatusCode.FailedPrecondition, () => server.RetrieveAsync(request));

        Assert.Contains("embedding model", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_request_leaves_the_server_serving()
    {
        var bad = Valid();
        bad.TopK = 0;
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, () => server.RetrieveAsync(bad));

        var response = await server.RetrieveAsync(Valid());

        Assert.Single(response.Hits);
    }

    private RetrieveRequest Valid() => Wire.Query(_tenant, "herons", user: "user:alice", groups: ["group:eng"], topK: 10, mode: Mode.Keyword);

    private static Filters Filters(params MetadataFilter[] filters)
    {
        var result = new Filters();
        result.Metadata.AddRange(filters);
        return result;
    }

    private static Contracts.V1.Fusion Weighted(double keyword, double vector)
        => new() { Weighted = new Contracts.V1.WeightedFusion { KeywordWeight = keyword, VectorWeight = vector } };
}
