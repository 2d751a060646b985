using System.Text.RegularExpressions;
using RagPlatform.Contracts.V1;
using RagPlatform.Retrieval.Tests.Harness;
using Mode = RagPlatform.Contracts.V1.RetrievalMode;

namespace RagPlatform.Retrieval.Tests;

/// <summary>Readers and writers at once: a document stays searchable, once, while new versions replace it.</summary>
public sealed partial class ConcurrencyTests(HybridServer server) : IClassFixture<HybridServer>
{
    private const int Updates = 30;

    [Theory]
    [InlineData(Mode.Keyword)]
    [InlineData(Mode.Vector)]
    [InlineData(Mode.Hybrid)]
    public async Task While_a_document_is_updated_readers_always_find_exactly_one_whole_version(Mode mode)
    {
        var tenant = Wire.NewTenant("race");
        await server.PushAsync(tenant, Wire.Text("almanac", "Version 0 of the almanac.", "public"));
        using var done = new CancellationTokenSource();

        var writer = Task.Run(async () =>
        {
            try
            {
                for (var i = 1; i <= Updates; i++)
                {
                    var result = (await server.PushAsync(tenant, Wire.Text("almanac", $"Version {i} of the almanac.", "public"))).Results[0];
                    Assert.Equal((DocumentOutcome.Updated, i + 1), (result.Outcome, result.Version));
                }
            }
            finally
            {
                await done.CancelAsync();
            }
        }, TestContext.Current.CancellationToken);

        // Two readers, so that some read straddles some version's activation.
        var readers = Enumerable.Range(0, 2).Select(_ => ReadUntilAsync(tenant, mode, done.Token)).ToArray();
        var reads = (await Task.WhenAll(readers)).Sum();

        await writer;
        var last = Assert.Single((await server.RetrieveAsync(Wire.Query(tenant, "almanac", mode: mode))).Hits);
        Assert.Equal($"Version {Updates} of the almanac.", last.Text);
        Assert.True(reads > 0);
    }

    private async Task<int> ReadUntilAsync(string tenant, Mode mode, CancellationToken done)
    {
        var reads = 0;
        while (!done.IsCancellationRequested)
        {
            var response = await server.RetrieveAsync(Wire.Query(tenant, "almanac", topK: 10, mode: mode));
            Assert.True(response.Hits.Count == 1, $"{mode} read {reads} found {response.Hits.Count} hits; a document being updated must stay findable, exactly once");
            var hit = response.Hits[0];
            var match = VersionText().Match(hit.Text);
            Assert.True(match.Success, $"read {reads} saw '{hit.Text}'");
            Assert.Equal(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + 1, hit.Citation.Version);
            reads++;
        }

        return reads;
    }

    [Fact]
    public async Task Pushes_from_several_callers_at_once_all_land()
    {
        var tenants = Enumerable.Range(0, 4).Select(i => Wire.NewTenant($"caller{i}")).ToArray();

        var responses = await Task.WhenAll(tenants.Select(t => server.PushAsync(
            t,
            [.. Enumerable.Range(0, 10).Select(i => Wire.Text($"d{i}", $"Caller document {i} about kelp.", "public"))])));

        Assert.All(responses, r => Assert.All(r.Results, x => Assert.Equal(DocumentOutcome.Added, x.Outcome)));
        foreach (var tenant in tenants)
        {
            Assert.Equal(10, (await server.RetrieveAsync(Wire.Query(tenant, "kelp", topK: 100, mode: Mode.Keyword))).Hits.Count);
        }
    }

    [GeneratedRegex("^Version ([0-9]+) of the almanac\\.$")]
    private static partial Regex VersionText();
}
