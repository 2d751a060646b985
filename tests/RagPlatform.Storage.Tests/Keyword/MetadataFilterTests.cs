using RagPlatform.Core.Indexing;

namespace RagPlatform.Storage.Tests.Keyword;

/// <summary>Metadata filters inside Lucene agree exactly with <see cref="MetadataFilter.Matches"/>.</summary>
public sealed class MetadataFilterTests : IAsyncLifetime
{
    /// <summary>Numbers, text, and the values where number and text order disagree or parsing is subtle.</summary>
    private static readonly string[] Values =
    [
        "9", "10", "100", "-5", "-0", "0", "2.5", "1e3", "1000", " 7", "0x10", "1,000", "NaN", "Infinity", "-1e308",
        "abc", "ABC", "", "2024-01-05", "2024-12-31", "2025-06-01T10:00:00Z", "é", "\uFFFD", "\uE000", "😀", "z",
    ];

    private readonly KeywordTestIndex _index = new();
    private readonly List<IndexedChunk> _chunks = [];

    [Fact]
    public async Task Numbers_compare_as_numbers_when_both_sides_are_numbers()
    {
        var found = await FindValuesAsync(MetadataFilter.Between("v", "9", "100"));

        Assert.Superset(new HashSet<string> { "9", "10", "100" }, found.ToHashSet());
        Assert.DoesNotContain("1000", found);
        Assert.DoesNotContain("2.5", found);
    }

    [Fact]
    public async Task Text_bounds_compare_ordinally_even_against_numbers()
    {
        var found = await FindValuesAsync(MetadataFilter.Between("v", "2024-01-01", "2024-12-31"));

        // "2024-01-05" and "2024-12-31" by date order; "2.5" does not parse against a date bound, and "2.5" < "2024-..." ordinally.
        Assert.Equal(["2024-01-05", "2024-12-31"], found.Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public async Task A_numeric_bound_compares_text_values_ordinally()
    {
        var found = await FindValuesAsync(MetadataFilter.Between("v", "5", null));

        Assert.Contains("9", found);
        Assert.Contains("abc", found);
        Assert.DoesNotContain("2.5", found);
        Assert.DoesNotContain("", found);
    }

    [Fact]
    public async Task Random_range_equality_and_in_filters_agree_with_the_reference()
    {
        var rng = new Random(1234);
        string?[] bounds = [.. Values, null, "5", "2024", "1e2", "-1", "zz", "\uD83D"];
        for (var round = 0; round < 400; round++)
        {
            MetadataFilter condition = rng.Next(4) switch
            {
                0 => MetadataFilter.Eq("v", Values[rng.Next(Values.Length)]),
                1 => MetadataFilter.OneOf("v", Values[rng.Next(Values.Length)], Values[rng.Next(Values.Length)], "missing"),
                _ => MetadataFilter.Between("v", bounds[rng.Next(bounds.Length)], bounds[rng.Next(bounds.Length)], rng.Next(2) == 0, rng.Next(2) == 0),
            };

            var expected = _chunks.Where(c => condition.Matches(c.Metadata)).Select(c => c.Metadata["v"]).Order(StringComparer.Ordinal).ToArray();
            var actual = (await FindValuesAsync(condition)).Order(StringComparer.Ordinal).ToArray();

            Assert.True(expected.SequenceEqual(actual), $"{condition}: expected [{string.Join("|", expected)}], got [{string.Join("|", actual)}]");
        }
    }

    [Fact]
    public async Task A_missing_key_never_matches()
    {
        Assert.Empty(await FindValuesAsync(MetadataFilter.Between("absent", null, null)));
        Assert.Equal(Values.Length, (await FindValuesAsync(MetadataFilter.Between("v", null, null))).Length);
    }

    private async Task<string[]> FindValuesAsync(MetadataFilter condition)
    {
        var filter = KeywordTestIndex.Public() with { Metadata = [condition] };
        var hits = await _index.SearchAsync("lorem", 1000, filter);
        var byId = _chunks.ToDictionary(c => c.ChunkId, StringComparer.Ordinal);
        return hits.Select(h => byId[h.ChunkId].Metadata["v"]).ToArray();
    }

    public async ValueTask InitializeAsync()
    {
        for (var i = 0; i < Values.Length; i++)
        {
            _chunks.Add(KeywordTestIndex.Chunk(Guid.NewGuid(), "Values", "lorem", metadata: new Dictionary<string, string> { ["v"] = Values[i] }));
        }

        _chunks.Add(KeywordTestIndex.Chunk(Guid.NewGuid(), "No value", "lorem"));
        await _index.UpsertAsync([.. _chunks]);
        _chunks.RemoveAt(_chunks.Count - 1);
    }

    public ValueTask DisposeAsync()
    {
        _index.Dispose();
        return ValueTask.CompletedTask;
    }
}
