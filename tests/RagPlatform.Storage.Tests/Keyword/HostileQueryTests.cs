using System.Text;
using RagPlatform.Core;

namespace RagPlatform.Storage.Tests.Keyword;

/// <summary>Query text is only ever words: syntax, garbage and huge strings never fail a search.</summary>
public sealed class HostileQueryTests : IAsyncLifetime
{
    private readonly KeywordTestIndex _index = new();
    private Guid _lorem;
    private Guid _plasma;

    public static TheoryData<string, string, bool> Queries => new()
    {
        { "double quotes", "\"lorem ipsum\"", true },
        { "unbalanced quote", "\"lorem", true },
        { "boolean operators", "lorem AND OR NOT", true },
        { "only operators", "AND OR NOT", false },
        { "prefix operators", "+lorem -ipsum !dolor", true },
        { "star", "*", false },
        { "question mark", "?", false },
        { "wildcard word", "lor*m", false },
        { "field syntax", "title:lorem", false },
        { "field syntax with space", "title: lorem", true },
        { "backslash", "\\", false },
        { "escaped word", "\\lorem", true },
        { "unbalanced parenthesis", "(lorem", true },
        { "unbalanced bracket", "[lorem TO", true },
        { "range syntax", "{a TO z}", false },
        { "fuzzy and boost", "lorem~2 ipsum^10", true },
        { "regex", "/lo.*m/", false },
        { "NUL character", "lorem\0ipsum", true },
        { "control characters", "\u0001\u0002\u001b[31m lorem\u007f", true },
        { "lone surrogate", "\ud800lorem\udfff", true },
        { "emoji", "🔥🔥 lorem 👩‍🔬", true },
        { "only emoji", "👩‍🔬🔥", false },
        { "right-to-left marks", "\u202elorem\u202c", true },
        { "only stop words", "the of and to a", false },
        { "only punctuation", "!@#$%^&*()_+-={}[]|:;'<>,.?/~`", false },
        { "empty", "", false },
        { "whitespace", " \t\r\n ", false },
        { "blood plasma", "plasma", true },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task Hostile_query_strings_are_plain_words(string name, string query, bool findsSomething)
    {
        var hits = await _index.SearchAsync(query);

        if (findsSomething)
        {
            Assert.True(hits.Count > 0, $"{name}: expected hits");
            Assert.Contains(hits[0].DocumentId, new[] { _lorem, _plasma });
        }
        else
        {
            Assert.True(hits.Count == 0, $"{name}: expected no hits, got {hits.Count}");
        }
    }

    [Fact]
    public async Task A_hundred_kilobyte_query_is_searched_without_failing()
    {
        var sb = new StringBuilder();
        var rng = new Random(7);
        while (sb.Length < 100_000)
        {
            sb.Append('w').Append(rng.Next(1_000_000)).Append(' ');
        }

        sb.Append("plasma");
        var hits = await _index.SearchAsync(sb.ToString());

        // More than a thousand distinct words: the ones past the cap are ignored, so "plasma" is too.
        Assert.Empty(hits);
        Assert.Equal([_plasma], await _index.FindAsync("plasma " + sb));
    }

    [Fact]
    public async Task A_hundred_kilobytes_of_one_word_still_finds_it()
    {
        var hits = await _index.SearchAsync(string.Join(' ', Enumerable.Repeat("lorem", 20_000)));

        Assert.Equal(_lorem, hits[0].DocumentId);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public async Task A_limit_below_one_is_rejected(int limit)
    {
        var error = await Assert.ThrowsAsync<RagValidationException>(() => _index.SearchAsync("lorem", limit));

        Assert.Equal("limit", error.Field);
    }

    [Fact]
    public async Task A_huge_limit_returns_what_exists()
    {
        Assert.Equal(2, (await _index.SearchAsync("lorem plasma", int.MaxValue)).Count);
    }

    public async ValueTask InitializeAsync()
    {
        _lorem = await _index.AddAsync("Placeholder", "lorem ipsum dolor sit amet");
        _plasma = await _index.AddAsync("Blood", "plasma proteins and the immune response");
    }

    public ValueTask DisposeAsync()
    {
        _index.Dispose();
        return ValueTask.CompletedTask;
    }
}
