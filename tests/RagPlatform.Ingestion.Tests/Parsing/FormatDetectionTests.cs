using RagPlatform.Testing;

namespace RagPlatform.Ingestion.Tests.Parsing;

// DocumentFormat.OpenXml's root namespace hides the DocumentFormat enum outside RagPlatform.Ingestion.Parsing;
// an alias inside the namespace is found before the global namespace.
using DocumentFormat = RagPlatform.Ingestion.Parsing.DocumentFormat;
using DocumentParser = RagPlatform.Ingestion.Parsing.DocumentParser;

public sealed class FormatDetectionTests
{
    public static TheoryData<string, byte[], string?, string?, DocumentFormat> Cases => new()
    {
        { "PDF named .pdf", TestDocuments.Pdf(["x"]), "a.pdf", null, DocumentFormat.Pdf },
        { "PDF named .txt: content wins", TestDocuments.Pdf(["x"]), "a.txt", null, DocumentFormat.Pdf },
        { "PDF with no name", TestDocuments.Pdf(["x"]), null, null, DocumentFormat.Pdf },
        { "DOCX named .bin", TestDocuments.SampleDocx(), "a.bin", null, DocumentFormat.Docx },
        { "DOCX by content type", TestDocuments.SampleDocx(), null, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", DocumentFormat.Docx },
        { "Markdown by extension", TestDocuments.Utf8("# x"), "a.md", null, DocumentFormat.Markdown },
        { "Markdown by .markdown", TestDocuments.Utf8("# x"), "A.MARKDOWN", null, DocumentFormat.Markdown },
        { "Markdown by content type", TestDocuments.Utf8("# x"), null, "text/markdown", DocumentFormat.Markdown },
        { "Markdown from a URL with a query", TestDocuments.Utf8("# x"), "https://example.org/docs/readme.md?raw=true", null, DocumentFormat.Markdown },
        { "Markdown that contains HTML stays Markdown", TestDocuments.Utf8("<html>not really</html>"), "a.md", null, DocumentFormat.Markdown },
        { "HTML by extension", TestDocuments.Utf8("<p>x</p>"), "a.htm", null, DocumentFormat.Html },
        { "HTML by content type", TestDocuments.Utf8("<p>x</p>"), "page.php", "text/html; charset=utf-8", DocumentFormat.Html },
        { "HTML by doctype with no name", TestDocuments.Utf8("<!doctype html><p>x</p>"), null, null, DocumentFormat.Html },
        { "HTML by <html> in a .txt", TestDocuments.Utf8("<html><body>x</body></html>"), "a.txt", null, DocumentFormat.Html },
        { "HTML in UTF-16", TestDocuments.Utf16Text("<!DOCTYPE html><p>x</p>"), null, null, DocumentFormat.Html },
        { "JSON by extension", TestDocuments.Utf8("[1]"), "a.json", null, DocumentFormat.Json },
        { "JSON by content type", TestDocuments.Utf8("{\"a\": 1}"), null, "application/json; charset=utf-8", DocumentFormat.Json },
        { "JSON by a +json content type", TestDocuments.Utf8("{\"a\": 1}"), null, "application/ld+json", DocumentFormat.Json },
        { "JSON by content with no extension", TestDocuments.Utf8("{\"a\": [1, 2]}"), "export", null, DocumentFormat.Json },
        { "JSON-looking text named .txt stays text", TestDocuments.Utf8("{\"a\": 1}"), "a.txt", null, DocumentFormat.Text },
        { "Broken JSON with no extension is text", TestDocuments.Utf8("{ this is not json"), null, null, DocumentFormat.Text },
        { "CSV by extension", TestDocuments.Utf8("a,b\n1,2"), "a.csv", null, DocumentFormat.Csv },
        { "TSV by extension", TestDocuments.Utf8("a\tb\n1\t2"), "a.tsv", null, DocumentFormat.Csv },
        { "CSV by content type", TestDocuments.Utf8("a,b\n1,2"), null, "text/csv", DocumentFormat.Csv },
        { "Text by extension", TestDocuments.Utf8("hello"), "a.txt", null, DocumentFormat.Text },
        { "Text with an unknown extension", TestDocuments.Utf8("int main() {}"), "main.c", null, DocumentFormat.Text },
        { "Text with no name", TestDocuments.Utf8("hello"), null, null, DocumentFormat.Text },
        { "Text that starts like an MP3 tag", TestDocuments.Utf8("ID3 tags describe audio files."), "notes", null, DocumentFormat.Text },
        { "Latin-1 text with a declared charset", TestDocuments.InvalidUtf8(), null, "text/plain; charset=iso-8859-1", DocumentFormat.Text },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Format_is_detected_from_content_and_name(string description, byte[] content, string? fileName, string? contentType, DocumentFormat expected)
    {
        Assert.True(expected == DocumentParser.Detect(content, fileName, contentType), description);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Parse_uses_the_detected_format(string description, byte[] content, string? fileName, string? contentType, DocumentFormat expected)
    {
        var document = new DocumentParser().Parse(content, fileName, contentType);

        Assert.True(document.Format == RagPlatform.Ingestion.Parsing.DocumentFormatExtensions.ToWireName(expected), description);
    }

    public static TheoryData<string, byte[], string?> Rejected => new()
    {
        { "empty", [], "a.txt" },
        { "PNG", TestDocuments.Png(), "a.png" },
        { "text named .pdf", TestDocuments.Utf8("hello"), "a.pdf" },
        { "PNG named .docx", TestDocuments.Png(), "a.docx" },
        { "spreadsheet named .docx", TestDocuments.Xlsx(), "a.docx" },
        { "plain ZIP", TestDocuments.Zip(("a.txt", "x")), null },
        { "invalid UTF-8", TestDocuments.InvalidUtf8(), "a.txt" },
        { "NUL bytes", [(byte)'a', 0, (byte)'b'], "a.txt" },
    };

    [Theory]
    [MemberData(nameof(Rejected))]
    public void Detect_returns_null_for_content_that_would_be_rejected_before_parsing(string description, byte[] content, string? fileName)
    {
        Assert.True(DocumentParser.Detect(content, fileName, null) is null, description);
    }
}
