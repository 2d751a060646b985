using System.Globalization;
using Grpc.Core;
using RagPlatform.Contracts.V1;
using RagPlatform.Retrieval.Tests.Harness;
using Mode = RagPlatform.Contracts.V1.RetrievalMode;

namespace RagPlatform.Retrieval.Tests;

/// <summary>
/// The embedder and the cross-encoder, a rerank depth that reaches every candidate, and hundreds of
/// long chunks that all match "tide": reranking them takes far longer than a few milliseconds.
/// </summary>
public sealed class DeadlineServer : RagTestServer
{
    public const string Tenant = "slow";
    public const int LongDocuments = 300;

    protected override bool WithEmbedder => true;

    protected override bool WithReranker => true;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Rag:Retrieval:RerankDepth"] = "1000",
    };

    protected override async Task SeedAsync()
    {
        var docs = Enumerable.Range(0, LongDocuments)
            .Select(i => Wire.Text($"long-{i}", CitationCorpusServer.Filler(18, i * 7), "public"))
            .ToArray();
        await this.PushAsync(Tenant, docs);
    }
}

/// <summary>
/// A call whose deadline cannot be met ends with DEADLINE_EXCEEDED, sent by the server itself,
/// never UNKNOWN or INTERNAL, and the server goes on serving.
/// </summary>
public sealed class DeadlineTests(DeadlineServer server) : IClassFixture<DeadlineServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<Mode, bool, int> SlowCalls()
    {
        var data = new TheoryData<Mode, bool, int>();
        foreach (var mode in new[] { Mode.Keyword, Mode.Vector, Mode.Hybrid })
        {
            foreach (var ms in new[] { 1, 5, 30 })
            {
                data.Add(mode, true, ms);
            }
        }

        data.Add(Mode.Hybrid, false, 1);
        return data;
    }

    [Fact]
    public async Task Reranking_every_candidate_with_time_to_spare_succeeds()
    {
        // Guards the premise: the slow request below is valid and does rerank all it finds.
        var response = await server.RetrieveAsync(SlowRequest(Mode.Hybrid, rerank: true), deadline: DateTime.UtcNow.AddMinutes(2));

        Assert.Equal(100, response.Hits.Count);
        Assert.All(response.Hits, h => Assert.True(h.Scores.HasRerankScore));
        Assert.True(response.TimingsUs["rerank"] > 30_000, $"reranking took only {response.TimingsUs["rerank"]} us; the deadlines below would not cut it");
    }

    [Theory]
    [MemberData(nameof(SlowCalls))]
    public async Task A_deadline_that_cannot_be_met_is_deadline_exceeded_from_the_server(Mode mode, bool rerank, int milliseconds)
    {
        using var raw = new RawGrpc(server.Address);

        var (status, message) = await raw.UnaryAsync("/rag.v1.RetrievalService/Retrieve", SlowRequest(mode, rerank), TimeSpan.FromMilliseconds(milliseconds), Ct);

        Assert.True(status == StatusCode.DeadlineExceeded, $"{mode} rerank={rerank} with {milliseconds} ms: {status} {message}");
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task The_generated_client_reports_the_deadline_too()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => server.RetrieveAsync(SlowRequest(Mode.Hybrid, rerank: true), deadline: DateTime.UtcNow.AddMilliseconds(20)));

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Many_calls_cut_by_their_deadlines_at_once_leave_the_server_serving()
    {
        using var raw = new RawGrpc(server.Address);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            raw.UnaryAsync("/rag.v1.RetrievalService/Retrieve", SlowRequest((Mode)((i % 3) + 1), rerank: true), TimeSpan.FromMilliseconds(1 + (i * 2)), Ct)));

        Assert.All(results, r => Assert.Equal(StatusCode.DeadlineExceeded, r.Status));
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task A_push_cut_by_its_deadline_leaves_the_stores_usable_and_can_be_pushed_again()
    {
        var tenant = Wire.NewTenant("cut");
        var docs = Enumerable.Range(0, 50).Select(i => Wire.Text($"p{i}", CitationCorpusServer.Filler(18, 5000 + i), "public")).ToArray();
        using var raw = new RawGrpc(server.Address);

        var (status, message) = await raw.UnaryAsync("/rag.v1.IngestionService/UpsertDocuments", Wire.Upsert(tenant, docs), TimeSpan.FromMilliseconds(5), Ct);
        var again = await server.PushAsync(tenant, docs);

        Assert.True(status == StatusCode.DeadlineExceeded, $"{status} {message}");
        Assert.All(again.Results, r => Assert.Contains(r.Outcome, new[] { DocumentOutcome.Added, DocumentOutcome.Unchanged, DocumentOutcome.Updated }));
        Assert.All(again.Results, r => Assert.Equal(1, r.Version));
        var hits = await server.RetrieveAsync(Wire.Query(tenant, "tide", topK: 100, mode: Mode.Keyword));
        Assert.Equal(docs.Length, hits.Hits.Select(h => h.DocumentId).Distinct().Count());
    }

    private static RetrieveRequest SlowRequest(Mode mode, bool rerank)
    {
        var request = Wire.Query(DeadlineServer.Tenant, "the tide rolled over the shingle", topK: 100, mode: mode);
        request.CandidateDepth = 1000;
        request.Rerank = rerank;
        return request;
    }

    private async Task AssertStillServingAsync()
    {
        // A deadline is the caller's choice, not a server fault: nothing may be logged as an error.
        Assert.Empty(server.LoggedErrors);
        var response = await server.RetrieveAsync(Wire.Query(DeadlineServer.Tenant, "tide day " + 7.ToString(CultureInfo.InvariantCulture), topK: 3, mode: Mode.Keyword));
        Assert.Equal(3, response.Hits.Count);
    }
}
