using RagPlatform.Ingestion.Parsing;
using RagPlatform.Testing;

namespace RagPlatform.Ingestion.Tests.Parsing;

public sealed class FormatDetectionTests
{
    public static TheoryData<string, byte[], string?, string?, FileFormat> Cases => new()
    {
        { "PDF named .pdf", TestDocuments.Pdf(["x"]), "a.pdf", null, FileFormat.Pdf },
        { "PDF named .txt: content wins", TestDocuments.Pdf(["x"]), "a.txt", null, FileFormat.Pdf },
        { "PDF with no name", TestDocuments.Pdf(["x"]), null, null, FileFormat.Pdf },
        { "DOCX named .bin", TestDocuments.SampleDocx(), "a.bin", null, FileFormat.Docx },
        { "DOCX by content type", TestDocuments.SampleDocx(), null, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", FileFormat.Docx },
        { "Markdown by extension", TestDocuments.Utf8("# x"), "a.md", null, FileFormat.Markdown },
        { "Markdown by .markdown", TestDocuments.Utf8("# x"), "A.MARKDOWN", null, FileFormat.Markdown },
        { "Markdown by content type", TestDocuments.Utf8("# x"), null, "text/markdown", FileFormat.Markdown },
        { "Markdown from a URL with a query", TestDocuments.Utf8("# x"), "https://example.org/docs/readme.md?raw=true", null, FileFormat.Markdown },
        { "Markdown that contains HTML stays Markdown", TestDocuments.Utf8("<html>not really</html>"), "a.md", null, FileFormat.Markdown },
        { "HTML by extension", TestDocuments.Utf8("<p>x</p>"), "a.htm", null, FileFormat.Html },
        { "HTML by content type", TestDocuments.Utf8("<p>x</p>"), "page.php", "text/html; charset=utf-8", FileFormat.Html },
        { "HTML by doctype with no name", TestDocuments.Utf8("<!doctype html><p>x</p>"), null, null, FileFormat.Html },
        { "HTML by <html> in a .txt", TestDocuments.Utf8("<html><body>x</body></html>"), "a.txt", null, FileFormat.Html },
        { "HTML in UTF-16", TestDocuments.Utf16Text("<!DOCTYPE html><p>x</p>"), null, null, FileFormat.Html },
        { "JSON by extension", TestDocuments.Utf8("[1]"), "a.json", null, FileFormat.Json },
        { "JSON by content type", TestDocuments.Utf8("{\"a\": 1}"), null, "application/json; charset=utf-8", FileFormat.Json },
        { "JSON by a +json content type", TestDocuments.Utf8("{\"a\": 1}"), null, "application/ld+json", FileFormat.Json },
        { "JSON by content with no extension", TestDocuments.Utf8("{\"a\": [1, 2]}"), "export", null, FileFormat.Json },
        { "JSON-looking text named .txt stays text", TestDocuments.Utf8("{\"a\": 1}"), "a.txt", null, FileFormat.Text },
        { "Broken JSON with no extension is text", TestDocuments.Utf8("{ this is not json"), null, null, FileFormat.Text },
        { "CSV by extension", TestDocuments.Utf8("a,b\n1,2"), "a.csv", null, FileFormat.Csv },
        { "TSV by extension", TestDocuments.Utf8("a\tb\n1\t2"), "a.tsv", null, FileFormat.Csv },
        { "CSV by content type", TestDocuments.Utf8("a,b\n1,2"), null, "text/csv", FileFormat.Csv },
        { "Text by extension", TestDocuments.Utf8("hello"), "a.txt", null, FileFormat.Text },
        { "Text with an unknown extension", TestDocuments.Utf8("int main() {}"), "main.c", null, FileFormat.Text },
        { "Text with no name", TestDocuments.Utf8("hello"), null, null, FileFormat.Text },
        { "Text that starts like an MP3 tag", TestDocuments.Utf8("ID3 tags describe audio files."), "notes", null, FileFormat.Text },
        { "Latin-1 text with a declared charset", TestDocuments.InvalidUtf8(), null, "text/plain; charset=iso-8859-1", FileFormat.Text },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Format_is_detected_from_content_and_name(string description, byte[] content, string? fileName, string? contentType, FileFormat expected)
    {
        Assert.True(expected == DocumentParser.Detect(content, fileName, contentType), description);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Parse_uses_the_detected_format(string description, byte[] content, string? fileName, string? contentType, FileFormat expected)
    {
        var document = new DocumentParser().Parse(content, fileName, contentType);

        Assert.True(document.Format == RagPlatform.Ingestion.Parsing.FileFormatExtensions.ToWireName(expected), description);
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
