using RagPlatform.Contracts.V1;
using RagPlatform.Retrieval.Tests.Harness;
using Mode = RagPlatform.Contracts.V1.RetrievalMode;

namespace RagPlatform.Retrieval.Tests;

/// <summary>Reranking with the (synthetic) cross-encoder: every hit is rescored and the hits follow the new scores.</summary>
public sealed class RerankTests(RerankingServer server) : IClassFixture<RerankingServer>, IAsyncLifetime
{
    private readonly string _tenant = Wire.NewTenant();

    public async ValueTask InitializeAsync()
        => await server.PushAsync(_tenant, [.. Enumerable.Range(0, 25).Select(i => Wire.Text($"d{i}", $"Lighthouse log {i}: {CitationCorpusServer.Filler(2 + (i % 4), i * 11)}", "public"))]);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Theory]
    [InlineData(Mode.Keyword)]
    [InlineData(Mode.Vector)]
    [InlineData(Mode.Hybrid)]
    public async Task Reranked_hits_carry_their_rerank_score_as_final_score_and_follow_it(Mode mode)
    {
        var request = Wire.Query(_tenant, "lighthouse tide shingle", topK: 20, mode: mode);
        request.Rerank = true;
        request.Explain = true;

        var response = await server.RetrieveAsync(request);

        Assert.Equal(20, response.Hits.Count);
        Assert.DoesNotContain(response.Skipped, s => s.Stage == "rerank");
        Assert.True(response.TimingsUs.ContainsKey("rerank"));
        Assert.All(response.Hits, h =>
        {
            Assert.True(h.Scores.HasRerankScore);
            Assert.Equal((double)h.Scores.RerankScore, h.Scores.FinalScore);
            Assert.Contains("reranked", h.Explanation, StringComparison.Ordinal);
        });
        Assert.Equal(response.Hits.Select(h => h.Scores.FinalScore).OrderDescending(), response.Hits.Select(h => h.Scores.FinalScore));
    }

    [Fact]
    public async Task Min_score_applies_to_the_rerank_score_when_reranked()
    {
        var request = Wire.Query(_tenant, "lighthouse tide", topK: 20, mode: Mode.Hybrid);
        request.Rerank = true;
        var all = await server.RetrieveAsync(request);
        var threshold = all.Hits[all.Hits.Count / 2].Scores.RerankScore;
        request.MinScore = threshold;

        var filtered = await server.RetrieveAsync(request);

        Assert.NotEmpty(filtered.Hits);
        Assert.All(filtered.Hits, h => Assert.True(h.Scores.RerankScore >= threshold));
        Assert.Equal(all.Hits.Count(h => h.Scores.RerankScore >= threshold), filtered.Hits.Count);
    }

    [Fact]
    public async Task Without_rerank_no_hit_has_a_rerank_score()
    {
        var response = await server.RetrieveAsync(Wire.Query(_tenant, "lighthouse", topK: 5, mode: Mode.Hybrid));

        Assert.All(response.Hits, h => Assert.False(h.Scores.HasRerankScore));
        Assert.False(response.TimingsUs.ContainsKey("rerank"));
    }
}
