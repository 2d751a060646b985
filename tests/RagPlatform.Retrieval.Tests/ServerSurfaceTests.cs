using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using RagPlatform.Contracts.V1;
using RagPlatform.Retrieval.Tests.Harness;
using Mode = RagPlatform.Contracts.V1.RetrievalMode;

namespace RagPlatform.Retrieval.Tests;

/// <summary>What operators and tools see of the server: health checking, reflection, and what a response says it did.</summary>
public sealed class ServerSurfaceTests(KeywordServer server) : IClassFixture<KeywordServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Health_checking_reports_serving()
    {
        var health = new Health.HealthClient(server.Channel);

        var overall = await health.CheckAsync(new HealthCheckRequest(), cancellationToken: Ct);

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, overall.Status);
    }

    [Fact]
    public async Task Server_reflection_lists_the_retrieval_and_ingestion_services()
    {
        var reflection = new ServerReflection.ServerReflectionClient(server.Channel);
        using var call = reflection.ServerReflectionInfo(cancellationToken: Ct);

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = string.Empty }, Ct);
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(Ct));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();

        Assert.Contains("rag.v1.RetrievalService", services);
        Assert.Contains("rag.v1.IngestionService", services);
        Assert.Contains("grpc.health.v1.Health", services);
    }

    [Fact]
    public async Task Without_an_embedder_hybrid_runs_as_keyword_and_says_why()
    {
        var tenant = Wire.NewTenant();
        await server.PushAsync(tenant, Wire.Text("a", "The heron waits in the reeds.", "public"));

        var response = await server.RetrieveAsync(Wire.Query(tenant, "heron", mode: Mode.Hybrid));

        Assert.Equal(Mode.Keyword, response.ModeUsed);
        var skipped = Assert.Single(response.Skipped, s => s.Stage == "vector");
        Assert.Contains("keyword", skipped.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("embedd", skipped.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Single(response.Hits);
    }

    [Fact]
    public async Task Unspecified_mode_is_hybrid_and_without_an_embedder_is_reported_as_keyword()
    {
        var tenant = Wire.NewTenant();
        await server.PushAsync(tenant, Wire.Text("a", "The heron waits in the reeds.", "public"));

        var response = await server.RetrieveAsync(Wire.Query(tenant, "heron"));

        Assert.Equal(Mode.Keyword, response.ModeUsed);
        Assert.Contains(response.Skipped, s => s.Stage == "vector");
    }

    [Fact]
    public async Task Rerank_without_a_reranker_is_reported_as_skipped_and_the_hits_still_come()
    {
        var tenant = Wire.NewTenant();
        await server.PushAsync(tenant, Wire.Text("a", "The heron waits in the reeds.", "public"));
        var request = Wire.Query(tenant, "heron", mode: Mode.Keyword);
        request.Rerank = true;

        var response = await server.RetrieveAsync(request);

        var skipped = Assert.Single(response.Skipped, s => s.Stage == "rerank");
        Assert.Contains("reranker", skipped.Reason, StringComparison.OrdinalIgnoreCase);
        var hit = Assert.Single(response.Hits);
        Assert.False(hit.Scores.HasRerankScore);
    }

    [Fact]
    public async Task Diversity_without_chunk_embeddings_is_reported_as_skipped()
    {
        var tenant = Wire.NewTenant();
        await server.PushAsync(tenant, Wire.Text("a", "The heron waits in the reeds.", "public"), Wire.Text("b", "A heron flew off.", "public"));
        var request = Wire.Query(tenant, "heron", mode: Mode.Keyword);
        request.Diversity = new Diversity { MmrLambda = 0.5 };

        var response = await server.RetrieveAsync(request);

        var skipped = Assert.Single(response.Skipped, s => s.Stage == "mmr");
        Assert.Contains("embedding", skipped.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(2, response.Hits.Count);
    }

    [Fact]
    public async Task Top_k_is_ten_when_unset()
    {
        var tenant = Wire.NewTenant();
        await server.PushAsync(tenant, [.. Enumerable.Range(0, 15).Select(i => Wire.Text($"d{i}", $"Heron number {i}.", "public"))]);

        var response = await server.RetrieveAsync(Wire.Query(tenant, "heron", mode: Mode.Keyword));

        Assert.Equal(10, response.Hits.Count);
    }

    [Fact]
    public async Task Timings_include_the_total_and_every_stage_that_ran()
    {
        var tenant = Wire.NewTenant();
        await server.PushAsync(tenant, Wire.Text("a", "The heron waits in the reeds.", "public"));

        var response = await server.RetrieveAsync(Wire.Query(tenant, "heron", mode: Mode.Keyword));

        Assert.True(response.TimingsUs.TryGetValue("total", out var total), "no total in timings_us");
        Assert.True(total > 0);
        Assert.True(response.TimingsUs.ContainsKey("keyword"));
        Assert.All(response.TimingsUs, kv => Assert.InRange(kv.Value, 0, total));
        Assert.Equal(Mode.Keyword, response.ModeUsed);
        Assert.Empty(response.Skipped);
    }

    [Fact]
    public async Task Explain_describes_each_hit_and_is_empty_when_not_asked()
    {
        var tenant = Wire.NewTenant();
        await server.PushAsync(tenant, Wire.Text("a", "The heron waits in the reeds.", "public"));
        var request = Wire.Query(tenant, "heron", mode: Mode.Keyword);

        var plain = await server.RetrieveAsync(request);
        request.Explain = true;
        var explained = await server.RetrieveAsync(request);

        Assert.Equal(string.Empty, Assert.Single(plain.Hits).Explanation);
        Assert.Contains("keyword #1", Assert.Single(explained.Hits).Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_server_answers_many_calls_on_one_channel_concurrently()
    {
        var tenant = Wire.NewTenant();
        await server.PushAsync(tenant, Wire.Text("a", "The heron waits in the reeds.", "public"));

        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => server.RetrieveAsync(Wire.Query(tenant, "heron reeds", mode: Mode.Keyword))));

        Assert.All(responses, r => Assert.Single(r.Hits));
        Assert.Single(responses.Select(r => r.Hits[0].ChunkId).Distinct());
    }
}
