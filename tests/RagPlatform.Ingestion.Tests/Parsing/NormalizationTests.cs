using RagPlatform.Core.Documents;
using RagPlatform.Ingestion.Parsing;
using RagPlatform.Ingestion.Parsing.Internal;

namespace RagPlatform.Ingestion.Tests.Parsing;

public sealed class NormalizationTests
{
    private static string Normalise(string raw)
    {
        var builder = new NormalizedTextBuilder();
        builder.Add(BlockKind.Paragraph, raw);
        return builder.Length == 0 ? string.Empty : builder.TextOf(builder.Blocks[0]);
    }

    [Theory]
    [InlineData("Cafe\u0301", "Caf\u00e9")]
    [InlineData("a\r\nb\rc\nd", "a\nb\nc\nd")]
    [InlineData("a  \t b\u00a0\u2003c", "a b c")]
    [InlineData("  leading and trailing  ", "leading and trailing")]
    [InlineData("line one   \n   line two", "line one\nline two")]
    [InlineData("a\n\n\n\nb", "a\nb")]
    [InlineData("zero\u200Bwidth\uFEFF and soft\u00ADhyphen", "zerowidth and softhyphen")]
    [InlineData("bell\u0007 escape\u001B[0m nul\u0000 del\u007F", "bell escape[0m nul del")]
    [InlineData("line\u2028separator\u0085next", "line\nseparator\nnext")]
    public void Prose_is_normalised(string raw, string expected)
    {
        Assert.Equal(expected, Normalise(raw));
    }

    [Fact]
    public void Lone_surrogates_become_replacement_characters_and_pairs_are_kept()
    {
        // Built in code: test-case serialisation would itself replace the lone surrogates.
        var raw = "lone " + '\uD800' + " low " + '\uDC00' + " pair \uD83D\uDE00 end " + '\uD800';
        Assert.Equal("lone \uFFFD low \uFFFD pair \uD83D\uDE00 end \uFFFD", Normalise(raw));
    }

    [Fact]
    public void Composition_happens_after_invisible_characters_are_removed()
    {
        // A zero-width space between a letter and its combining accent hides the pair from NFC until it is removed.
        Assert.Equal("\u00e9", Normalise("e\u200B\u0301"));
    }

    [Fact]
    public void Code_keeps_its_indentation_with_tabs_as_four_spaces()
    {
        var builder = new NormalizedTextBuilder();
        builder.AddCode("def f(x):\r\n\tif x:\r\n\t\treturn   x  \r\n\r\n\r\n\r\n  pass\n");

        Assert.Equal("def f(x):\n    if x:\n        return x\n\n  pass", builder.TextOf(builder.Blocks[0]));
    }

    [Fact]
    public void Blocks_are_joined_by_one_blank_line_and_their_offsets_point_at_their_text()
    {
        var builder = new NormalizedTextBuilder();
        Assert.True(builder.Add(BlockKind.Heading, "  Title \n", headingLevel: 1));
        Assert.False(builder.Add(BlockKind.Paragraph, " \t\u200B\n "));
        Assert.True(builder.Add(BlockKind.Paragraph, "Body\r\ntext", page: 3));
        Assert.True(builder.AddCode("\tindented"));

        var document = builder.Build(FileFormat.Text, "  A   title\n", null, null, "empty");

        Assert.Equal("Title\n\nBody\ntext\n\n    indented", document.Text);
        Assert.Equal(["Title", "Body\ntext", "    indented"], ParsedDocumentAssert.BlockTexts(document));
        Assert.Equal(new TextBlock(BlockKind.Heading, 0, 5, 1), document.Blocks[0]);
        Assert.Equal(3, document.Blocks[1].Page);
        Assert.Equal("A title", document.Title);
        ParsedDocumentAssert.WellFormed(document);
    }

    [Fact]
    public void A_builder_without_blocks_rejects_the_document_as_empty()
    {
        var builder = new NormalizedTextBuilder();
        builder.Add(BlockKind.Paragraph, "\u200B \n");

        ParsedDocumentAssert.Rejected(FailureKind.Empty, () => builder.Build(FileFormat.Text, null, null, null, "nothing here"), "nothing here");
    }

    [Fact]
    public void Text_beyond_the_character_limit_is_rejected_as_too_large()
    {
        var builder = new NormalizedTextBuilder(maxCharacters: 100);
        builder.Add(BlockKind.Paragraph, new string('a', 60));

        ParsedDocumentAssert.Rejected(FailureKind.TooLarge, () => builder.Add(BlockKind.Paragraph, new string('b', 60)), "split it");
    }

    [Theory]
    [InlineData("  A \r\n  title\t ", "A title")]
    [InlineData("Re\u0301sume\u0301", "R\u00e9sum\u00e9")]
    [InlineData("\u200B", "")]
    [InlineData(null, "")]
    public void One_line_values_are_normalised_onto_one_line(string? raw, string expected)
    {
        Assert.Equal(expected, TextNormalizer.NormalizeLine(raw));
    }
}
