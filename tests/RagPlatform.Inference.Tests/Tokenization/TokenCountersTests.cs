using RagPlatform.Inference.Tokenization;
using RagPlatform.Testing;

namespace RagPlatform.Inference.Tests.Tokenization;

public sealed class TokenCountersTests
{
    [Fact]
    public void WordPiece_counts_line_breaks_and_tabs_as_word_separators()
    {
        var counter = TokenCounters.WordPiece(RepositoryPaths.BertVocab);

        // Glued, "a\nb" would be the single piece "ab".
        Assert.Equal(2, counter.CountTokens("a\nb"));
        Assert.Equal(3, counter.CountTokens("a\r\nb\tc"));
        Assert.Equal(counter.CountTokens("unaffable dog"), counter.CountTokens("unaffable\ndog"));
    }

    [Fact]
    public void ForBert_keeps_length_and_every_other_character()
    {
        const string text = "a\nb\r\nc\td é 😀";

        var prepared = TokenCounters.ForBert(text);

        Assert.Equal(text.Length, prepared.Length);
        Assert.Equal("a b  c d é 😀", prepared);
        Assert.Same("no breaks", TokenCounters.ForBert("no breaks"));
    }

    [Fact]
    public void Tiktoken_counts_tokens_without_special_tokens()
    {
        var counter = TokenCounters.Tiktoken();

        Assert.Equal("tiktoken:cl100k_base", counter.Name);
        Assert.Equal(0, counter.CountTokens(string.Empty));
        Assert.Equal(2, counter.CountTokens("hello world"));
    }
}
