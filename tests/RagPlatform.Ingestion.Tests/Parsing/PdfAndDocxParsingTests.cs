using RagPlatform.Core.Documents;
using RagPlatform.Ingestion.Parsing;
using RagPlatform.Testing;

namespace RagPlatform.Ingestion.Tests.Parsing;

public sealed class PdfAndDocxParsingTests
{
    private readonly DocumentParser _parser = new();

    [Fact]
    public void Pdf_text_keeps_its_pages_and_paragraphs()
    {
        var pdf = TestDocuments.Pdf(
            ["Chapter one begins here.", "A second paragraph that is long enough to be wrapped onto a second line by the generator of the test file."],
            ["Page two has one paragraph."],
            ["Page three, first.", "Page three, second."]);

        var document = _parser.Parse(pdf, "book.pdf");

        Assert.Equal("pdf", document.Format);
        Assert.Equal(3, document.PageCount);
        Assert.Equal(
            [
                "Chapter one begins here.",
                "A second paragraph that is long enough to be wrapped onto a second line by the\ngenerator of the test file.",
                "Page two has one paragraph.",
                "Page three, first.",
                "Page three, second.",
            ],
            ParsedDocumentAssert.BlockTexts(document));
        Assert.Equal([1, 1, 2, 3, 3], document.Blocks.Select(b => b.Page));
        ParsedDocumentAssert.WellFormed(document);
    }

    [Fact]
    public void Pdf_line_end_hyphenation_is_joined_but_real_hyphens_stay()
    {
        var pdf = TestDocuments.Pdf(["The measure-\nment was well-\nKnown and long-term."]);

        var document = _parser.Parse(pdf, "h.pdf");

        Assert.Equal("The measurement was well-\nKnown and long-term.", document.Text);
    }

    [Fact]
    public void Pdf_title_and_metadata_come_from_the_document_information()
    {
        var pdf = TestDocuments.Pdf("Annual Review", "Ann Author", new DateTimeOffset(2021, 3, 4, 5, 6, 7, TimeSpan.Zero), ["Body text."]);

        var document = _parser.Parse(pdf, "r.pdf");

        Assert.Equal("Annual Review", document.Title);
        Assert.Equal("Ann Author", document.Metadata["author"]);
        Assert.Equal("2021-03-04T05:06:07+00:00", document.Metadata["created"]);
    }

    [Fact]
    public void Pdf_without_a_title_in_its_information_takes_its_first_line()
    {
        var document = _parser.Parse(TestDocuments.Pdf(["Untitled Memo\nwith a body line", "More."]), "m.pdf");

        Assert.Equal("Untitled Memo", document.Title);
        Assert.False(document.Metadata.ContainsKey("author"));
    }

    [Fact]
    public void Docx_gives_title_headings_with_levels_list_items_and_tables()
    {
        var document = _parser.Parse(TestDocuments.SampleDocx(), "report.docx");

        Assert.Equal("docx", document.Format);
        Assert.Equal(
            [
                (BlockKind.Heading, "Quarterly Report"),
                (BlockKind.Heading, "Summary"),
                (BlockKind.Paragraph, "Revenue grew in every region this quarter."),
                (BlockKind.Heading, "Highlights"),
                (BlockKind.ListItem, "- New office in Lisbon"),
                (BlockKind.ListItem, "- Two product launches"),
                (BlockKind.ListItem, "1. Hire engineers"),
                (BlockKind.ListItem, "2. Open the second site"),
                (BlockKind.Table, "Region | Revenue\nNorth | 120\nSouth | 95"),
                (BlockKind.Paragraph, "Figures are in millions."),
            ],
            ParsedDocumentAssert.KindsAndTexts(document));
        Assert.Equal([1, 1, 2], document.Blocks.Where(b => b.Kind == BlockKind.Heading).Select(b => b.HeadingLevel));
        Assert.Null(document.PageCount);
        ParsedDocumentAssert.WellFormed(document);
    }

    [Fact]
    public void Docx_title_prefers_core_properties_then_the_title_style_then_the_first_heading()
    {
        var fromProperties = _parser.Parse(TestDocuments.Docx("From Properties", null, null, DocxBlock.Title("Styled Title"), DocxBlock.Paragraph("x")), "a.docx");
        var fromStyle = _parser.Parse(TestDocuments.SampleDocx(), "b.docx");
        var fromHeading = _parser.Parse(TestDocuments.Docx(DocxBlock.Paragraph("Intro"), DocxBlock.Heading(2, "First Heading"), DocxBlock.Heading(1, "Second")), "c.docx");

        Assert.Equal("From Properties", fromProperties.Title);
        Assert.Equal("Quarterly Report", fromStyle.Title);
        Assert.Equal("First Heading", fromHeading.Title);
    }

    [Fact]
    public void Docx_metadata_has_the_author_and_creation_date()
    {
        var document = _parser.Parse(TestDocuments.SampleDocx(), "report.docx");

        Assert.Equal("Ada Lovelace", document.Metadata["author"]);
        Assert.Equal("2023-05-06T07:08:09Z", document.Metadata["created"]);
    }

    [Fact]
    public void Docx_numbering_restarts_deeper_levels_and_counts_per_level()
    {
        var docx = TestDocuments.Docx(
            DocxBlock.Numbered("One"),
            DocxBlock.Numbered("One point one", level: 1),
            DocxBlock.Numbered("One point two", level: 1),
            DocxBlock.Numbered("Two"),
            DocxBlock.Numbered("Two point one", level: 1),
            DocxBlock.Bullet("A bullet", level: 2));

        var document = _parser.Parse(docx, "n.docx");

        Assert.Equal(["1. One", "1. One point one", "2. One point two", "2. Two", "1. Two point one", "- A bullet"], ParsedDocumentAssert.BlockTexts(document));
    }

    [Fact]
    public void Docx_is_recognised_by_content_whatever_its_name()
    {
        var document = _parser.Parse(TestDocuments.SampleDocx(), "upload.bin", "application/octet-stream");

        Assert.Equal("docx", document.Format);
    }

    [Fact]
    public void A_docx_whose_xml_expands_beyond_the_limit_is_rejected_as_too_large_without_unpacking_it()
    {
        ParsedDocumentAssert.Rejected(FailureKind.TooLarge, () => _parser.Parse(TestDocuments.DocxZipBomb(), "bomb.docx"), "bomb.docx", "zip bomb");
    }
}
