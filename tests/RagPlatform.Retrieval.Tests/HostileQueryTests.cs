using RagPlatform.Contracts.V1;
using RagPlatform.Retrieval.Tests.Harness;
using Mode = RagPlatform.Contracts.V1.RetrievalMode;

namespace RagPlatform.Retrieval.Tests;

/// <summary>Whatever text a caller sends as a query, within the size limit, is searched and never fails the call.</summary>
public sealed class HostileQueryTests(HybridServer server) : IClassFixture<HybridServer>, IAsyncLifetime
{
    private readonly string _tenant = Wire.NewTenant();

    public static TheoryData<string, Mode> Cases()
    {
        string[] queries =
        [
            "title:heron AND (reeds OR \"shallow water\"~2)^3 -wade +fish* ?x [a TO z] {1 TO 2} \\ / ~ ^ !",
            "heron\u0000\u0001\u0007\u001b[31m\u007f\u0085\u2028\u2029reeds",
            "🦜🔥 heron 👩‍👩‍👧‍👦 \u200d\u200b\ufeff \ufffd",
            new string('!', 2000) + new string('.', 2000) + new string('"', 2000) + new string('*', 2000),
            "\"\"\"\"\"(((((((((( heron",
            "مالك الحزين בֵּית 鹭鸟 サギ",
            "HERON heron HéRon heron\u0301",
            "a an the of and or not",
            "*",
            string.Join(' ', Enumerable.Range(0, 1500).Select(i => $"w{i}")),
        ];
        var data = new TheoryData<string, Mode>();
        foreach (var query in queries)
        {
            foreach (var mode in new[] { Mode.Keyword, Mode.Vector, Mode.Hybrid })
            {
                data.Add(query, mode);
            }
        }

        return data;
    }

    public async ValueTask InitializeAsync()
        => await server.PushAsync(_tenant, Wire.Text("a", "Herons wade in shallow water among the reeds.", "public"));

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_hostile_query_is_searched_and_never_fails(string query, Mode mode)
    {
        var request = Wire.Query(_tenant, query, topK: 5, mode: mode);

        var response = await server.RetrieveAsync(request);

        Assert.Equal(mode, response.ModeUsed);
        Assert.All(response.Hits, h => Assert.Equal("Herons wade in shallow water among the reeds.", h.Text));
        if (mode == Mode.Vector)
        {
            // Any query has a nearest neighbour: the one document is it.
            Assert.Single(response.Hits);
        }

        Assert.Empty(server.LoggedErrors);
    }

    [Fact]
    public async Task Lucene_syntax_in_a_query_is_text_not_operators()
    {
        // As a Lucene query "-wade" would exclude the document; as text it is one more word that matches.
        var response = await server.RetrieveAsync(Wire.Query(_tenant, "NOT herons -wade", mode: Mode.Keyword));

        Assert.Single(response.Hits);
    }
}
