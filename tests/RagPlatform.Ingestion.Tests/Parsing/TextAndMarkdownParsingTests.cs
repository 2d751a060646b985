using RagPlatform.Ingestion.Parsing;
using RagPlatform.Testing;

namespace RagPlatform.Ingestion.Tests.Parsing;

public sealed class TextAndMarkdownParsingTests
{
    private readonly DocumentParser _parser = new();

    [Fact]
    public void Plain_text_is_split_into_paragraphs_at_blank_lines_and_keeps_its_lines()
    {
        var raw = "First line\nsecond   line\r\n \t \r\n\r\n  Next paragraph  \r\nwith CRLF\r\n\n\n\nLast";

        var document = _parser.Parse(TestDocuments.Utf8(raw), "notes.txt");

        Assert.Equal("text", document.Format);
        Assert.Equal(["First line\nsecond line", "Next paragraph\nwith CRLF", "Last"], ParsedDocumentAssert.BlockTexts(document));
        Assert.All(document.Blocks, b => Assert.Equal(BlockKind.Paragraph, b.Kind));
        Assert.Equal(string.Empty, document.Title);
        Assert.Null(document.PageCount);
        ParsedDocumentAssert.WellFormed(document);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Utf16_text_with_a_byte_order_mark_is_decoded(bool bigEndian)
    {
        var document = _parser.Parse(TestDocuments.Utf16Text("Gr\u00fc\u00dfe aus K\u00f6ln\r\n\r\n\u65e5\u672c\u8a9e", bigEndian), "greeting.txt");

        Assert.Equal(["Gr\u00fc\u00dfe aus K\u00f6ln", "\u65e5\u672c\u8a9e"], ParsedDocumentAssert.BlockTexts(document));
    }

    [Fact]
    public void Utf8_with_a_byte_order_mark_does_not_keep_the_mark()
    {
        var document = _parser.Parse(TestDocuments.Utf8WithBom("Hello"), "a.txt");

        Assert.Equal("Hello", document.Text);
    }

    [Fact]
    public void A_charset_declared_by_the_source_decodes_bytes_that_are_not_utf8()
    {
        var document = _parser.Parse(TestDocuments.InvalidUtf8(), "page", "text/plain; charset=ISO-8859-1");

        Assert.StartsWith("Hello, w\u00f6rld.", document.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_gives_headings_with_levels_list_items_tables_code_and_quotes()
    {
        var document = _parser.Parse(TestDocuments.Utf8(TestDocuments.MarkdownSample), "guide.md");

        Assert.Equal("markdown", document.Format);
        Assert.Equal(
            [
                (BlockKind.Heading, "Birds of the Coast"),
                (BlockKind.Paragraph, "Gulls are common and loud; see the atlas and a gull in flight. Use binoculars at dawn."),
                (BlockKind.Heading, "Species"),
                (BlockKind.ListItem, "- Herring gull"),
                (BlockKind.ListItem, "- Common tern"),
                (BlockKind.ListItem, "- Arctic tern"),
                (BlockKind.ListItem, "1. Arrive early"),
                (BlockKind.ListItem, "2. Stay quiet"),
                (BlockKind.Table, "Bird | Wingspan\nGull | 140 cm\nTern | 80 cm"),
                (BlockKind.Code, "def count(birds):\n    return len(birds)"),
                (BlockKind.Quote, "Patience is the birder's best tool."),
            ],
            ParsedDocumentAssert.KindsAndTexts(document));
        Assert.Equal([1, 2], document.Blocks.Where(b => b.Kind == BlockKind.Heading).Select(b => b.HeadingLevel));
        ParsedDocumentAssert.WellFormed(document);
    }

    [Fact]
    public void Markdown_front_matter_becomes_metadata_and_is_not_indexed()
    {
        var document = _parser.Parse(TestDocuments.Utf8(TestDocuments.MarkdownSample), "guide.md");

        Assert.Equal("Field Guide", document.Metadata["title"]);
        Assert.Equal("Jane Doe", document.Metadata["author"]);
        Assert.Equal("birds, field", document.Metadata["tags"]);
        Assert.DoesNotContain("Jane Doe", document.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("---", document.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_title_is_the_first_h1_else_the_front_matter_title()
    {
        var withH1 = _parser.Parse(TestDocuments.Utf8(TestDocuments.MarkdownSample), "guide.md");
        var withoutH1 = _parser.Parse(TestDocuments.Utf8("---\ntitle: 'From front matter'\n---\n## Only a second-level heading\n\nText."), "b.md");
        var withNeither = _parser.Parse(TestDocuments.Utf8("Just text."), "c.md");

        Assert.Equal("Birds of the Coast", withH1.Title);
        Assert.Equal("From front matter", withoutH1.Title);
        Assert.Equal(string.Empty, withNeither.Title);
    }

    [Fact]
    public void Markdown_inline_markup_is_reduced_to_the_text_a_reader_sees()
    {
        var markdown = "Read **bold _nested_ text**, `code()` and [a link](http://x.org \"t\") with ![alt words](i.png) "
                       + "and <https://auto.example> and <span>inline html</span> &amp; entities.  \nHard break.\n\n<!-- a comment -->\n\n<div>Raw <b>HTML</b> block</div>";

        var document = _parser.Parse(TestDocuments.Utf8(markdown), "inline.md");

        Assert.Equal(
            [
                "Read bold nested text, code() and a link with alt words and https://auto.example and inline html & entities.\nHard break.",
                "Raw HTML block",
            ],
            ParsedDocumentAssert.BlockTexts(document));
    }

    [Fact]
    public void Markdown_ordered_lists_count_from_their_start_number_and_multi_paragraph_items_stay_one_block()
    {
        var document = _parser.Parse(TestDocuments.Utf8("7. First\n\n   continued here\n8. Second\n"), "list.md");

        Assert.Equal(["7. First\ncontinued here", "8. Second"], ParsedDocumentAssert.BlockTexts(document));
    }

    [Fact]
    public void Markdown_is_detected_by_content_type_as_well_as_by_extension()
    {
        var document = _parser.Parse(TestDocuments.Utf8("# Heading\n\nText"), "README", "text/markdown; charset=utf-8");

        Assert.Equal("markdown", document.Format);
        Assert.Equal(BlockKind.Heading, document.Blocks[0].Kind);
    }

    [Fact]
    public void Markdown_nested_beyond_what_markdig_accepts_is_read_as_plain_text()
    {
        var markdown = string.Concat(Enumerable.Range(0, 200).Select(i => new string(' ', i * 2) + "- level " + i + "\n"));

        var document = _parser.Parse(TestDocuments.Utf8(markdown), "deep.md");

        Assert.Equal("markdown", document.Format);
        Assert.StartsWith("- level 0\n- level 1\n", document.Text, StringComparison.Ordinal);
        Assert.EndsWith("- level 199", document.Text, StringComparison.Ordinal);
    }
}
