using System.Text.Json;
using Grpc.Net.Client;
using RagPlatform.Cli.Benchmarks;
using RagPlatform.Cli.Hosting;
using RagPlatform.Contracts.V1;
using RagPlatform.Testing;

namespace RagPlatform.Cli.Tests.Benchmarks;

/// <summary>The benchmark on a small corpus: what it builds, that it serves what the stores hold, and what it prints.</summary>
public sealed class QueryBenchmarkTests(BenchCorpusFixture corpus) : IClassFixture<BenchCorpusFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void The_built_corpus_is_described_and_reused_by_the_next_run()
    {
        Assert.Equal(BenchCorpusFixture.Chunks, corpus.Summary.Chunks);
        Assert.Equal(corpus.Documents.Count, corpus.Summary.Documents);
        Assert.Equal(BenchCorpusFixture.Chunks, corpus.Summary.Tenants.Values.Sum());
        Assert.Equal(
            corpus.Documents.Values.Where(d => d.Tenant == SyntheticCorpus.Tenant && d.Acl.Permits(SyntheticCorpus.Caller)).Sum(d => d.Chunks.Count),
            corpus.Summary.VisibleToCaller);
        var reused = CorpusBuilder.TryReuse(corpus.Directory, BenchCorpusFixture.Chunks);
        Assert.NotNull(reused);
        Assert.Equal((corpus.Summary.Chunks, corpus.Summary.Documents, corpus.Summary.VisibleToCaller), (reused.Chunks, reused.Documents, reused.VisibleToCaller));
        Assert.Equal(corpus.Summary.Tenants, reused.Tenants);
        Assert.Null(CorpusBuilder.TryReuse(corpus.Directory, BenchCorpusFixture.Chunks + 1));
    }

    [Fact]
    public async Task A_directory_that_is_not_a_benchmark_corpus_is_left_alone()
    {
        using var dir = new TempDirectory("not-a-corpus");
        var precious = dir.Write("notes.txt", "keep me");

        var error = await Assert.ThrowsAsync<IOException>(() => CorpusBuilder.EnsureAsync(dir.Path, 10, corpus.Pool, corpus.Embedder, TextWriter.Null, Ct));

        Assert.Contains(dir.Path, error.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(precious));
    }

    [Theory]
    [InlineData(RetrievalMode.Keyword)]
    [InlineData(RetrievalMode.Vector)]
    [InlineData(RetrievalMode.Hybrid)]
    public async Task Every_hit_over_grpc_is_a_permitted_chunk_of_the_tenant_with_its_exact_text(RetrievalMode mode)
    {
        await using var endpoint = await SyntheticEmbeddingEndpoint.StartAsync(corpus.Embedder, Ct);
        await using var app = RagServer.Build(CliHost.BuildConfiguration(corpus.Directory, new Dictionary<string, string?>
        {
            ["Rag:Embeddings:ModelDirectory"] = string.Empty,
            ["Rag:Embeddings:Endpoint"] = endpoint.BaseUrl.ToString(),
            ["Rag:Embeddings:EndpointModel"] = SyntheticEmbedder.ModelId,
        }), "http://127.0.0.1:0");
        await RagServer.PrepareAsync(app.Services, Ct);
        await app.StartAsync(Ct);
        using var channel = GrpcChannel.ForAddress(app.Urls.First());
        var client = new RetrievalService.RetrievalServiceClient(channel);
        var principal = new Principal { User = SyntheticCorpus.CallerUser };
        principal.Groups.AddRange(SyntheticCorpus.CallerGroups);

        foreach (var query in corpus.Pool.Queries.Take(25))
        {
            var response = await client.RetrieveAsync(new RetrieveRequest { Tenant = SyntheticCorpus.Tenant, Principal = principal, Query = query, TopK = 10, Mode = mode }, cancellationToken: Ct);

            Assert.Equal(mode, response.ModeUsed);
            if (mode != RetrievalMode.Keyword)
            {
                // Vector search ranks every permitted chunk, so a full page always comes back.
                Assert.Equal(10, response.Hits.Count);
            }

            foreach (var hit in response.Hits)
            {
                var doc = corpus.Documents[Guid.Parse(hit.DocumentId)];
                Assert.Equal(SyntheticCorpus.Tenant, doc.Tenant);
                Assert.True(doc.Acl.Permits(SyntheticCorpus.Caller), $"{hit.ChunkId} has ACL {doc.Acl}");
                Assert.Equal(doc.Text[hit.Citation.Start..hit.Citation.End], hit.Text);
            }

            var order = response.Hits.Select(h => (h.Scores.FinalScore, h.ChunkId)).ToList();
            Assert.Equal(order.OrderByDescending(o => o.FinalScore).ThenBy(o => o.ChunkId, StringComparer.Ordinal), order);
        }

        await app.StopAsync(Ct);
    }

    [Fact]
    public async Task A_short_run_measures_every_mode_and_reports_the_targets()
    {
        var settings = new QueryBenchmarkSettings
        {
            Chunks = BenchCorpusFixture.Chunks,
            Directory = corpus.Directory,
            Dataset = RepositoryPaths.SciFact,
            Quantization = "Int8",
            Calls = 20,
            SweepPoint = TimeSpan.FromMilliseconds(200),
            Warmup = TimeSpan.Zero,
            Concurrency = [1, 4],
        };

        var result = await QueryBenchmark.RunAsync(settings, TextWriter.Null, Ct);

        Assert.True(result.CorpusReused);
        Assert.Equal(QueryBenchmark.AllModes, result.Modes.Select(m => m.Mode));
        foreach (var mode in result.Modes)
        {
            Assert.Equal(20, mode.Single.Calls);
            Assert.Equal(20, mode.Single.LatencyMicros.Length);
            Assert.Equal([1, 4], mode.Sweep.Select(s => s.Callers));
            Assert.All(mode.Sweep, s => Assert.True(s.Calls > 0));
            Assert.Contains("total", mode.Single.StageMicros.Keys);
            Assert.Equal(mode.Mode != RetrievalMode.Keyword, mode.Single.StageMicros.ContainsKey("embed_query"));
            Assert.Equal(mode.Mode != RetrievalMode.Vector, mode.Single.StageMicros.ContainsKey("keyword"));
        }

        var text = QueryBenchReport.Text(result);
        Assert.Contains("vector search p95, int8 (ms)", text, StringComparison.Ordinal);
        Assert.Contains("hybrid calls/s with 4 callers", text, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(QueryBenchReport.Json(result)));
        Assert.Equal(BenchCorpusFixture.Chunks, json.RootElement.GetProperty("corpus").GetProperty("chunks").GetInt32());
        Assert.True(json.RootElement.GetProperty("single_caller").GetProperty("hybrid").GetProperty("p95_ms").GetDouble() > 0);
        Assert.Equal(4, json.RootElement.GetProperty("targets").GetArrayLength());
    }

    [Fact]
    public void Percentiles_are_nearest_rank()
    {
        long[] values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

        Assert.Equal((5, 10, 10, 1), (LoadResult.Percentile(values, 50), LoadResult.Percentile(values, 95), LoadResult.Percentile(values, 99), LoadResult.Percentile(values, 1)));
        Assert.Equal(0, LoadResult.Percentile([], 95));
    }
}
