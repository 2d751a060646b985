using RagPlatform.Core.Documents;
using RagPlatform.Ingestion.Parsing;
using RagPlatform.Testing;

namespace RagPlatform.Ingestion.Tests.Parsing;

/// <summary>Every way a document is refused, with a message that names the file, says what is wrong and what to do.</summary>
public sealed class RejectionTests
{
    private readonly DocumentParser _parser = new();

    [Fact]
    public void Zero_bytes_are_empty()
    {
        ParsedDocumentAssert.Rejected(FailureKind.Empty, () => _parser.Parse(Array.Empty<byte>(), "blank.txt"), "'blank.txt'", "empty (0 bytes)");
    }

    [Theory]
    [InlineData("ws.txt", " \r\n\t\n\u200B\n")]
    [InlineData("ws.md", "---\ntitle: Only front matter\n---\n\n<!-- and a comment -->\n")]
    [InlineData("ws.html", "<html><head><title>T</title><script>x()</script></head><body><nav>Home</nav></body></html>")]
    [InlineData("ws.json", "[[], {}, null, \"\"]")]
    public void Documents_without_visible_text_are_empty(string fileName, string content)
    {
        ParsedDocumentAssert.Rejected(FailureKind.Empty, () => _parser.Parse(TestDocuments.Utf8(content), fileName), $"'{fileName}'", "no");
    }

    [Fact]
    public void A_pdf_of_images_only_is_empty_and_the_message_suggests_ocr()
    {
        ParsedDocumentAssert.Rejected(FailureKind.Empty, () => _parser.Parse(TestDocuments.PdfWithoutText(), "scan.pdf"), "'scan.pdf'", "no extractable text", "scanned images", "OCR");
    }

    [Theory]
    [MemberData(nameof(UnsupportedContent))]
    public void Binary_and_unsupported_content_says_what_it_looks_like(byte[] content, string? fileName, string looksLike)
    {
        ParsedDocumentAssert.Rejected(FailureKind.Unsupported, () => _parser.Parse(content, fileName), looksLike, "not a supported document format");
    }

    public static TheoryData<byte[], string?, string> UnsupportedContent => new()
    {
        { TestDocuments.Png(), "photo.png", "PNG image" },
        { TestDocuments.Png(), null, "PNG image" },
        { TestDocuments.Elf(), "tool", "ELF executable" },
        { TestDocuments.Xlsx(), "sheet.xlsx", ".xlsx spreadsheet" },
        { TestDocuments.Zip(("notes.txt", "hello")), "bundle.zip", "ZIP archive (not a DOCX)" },
        { [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00], "a.gz", "gzip archive" },
        { [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0x00], "old.doc", "legacy Microsoft Office file" },
        { TestDocuments.Utf8("{\\rtf1\\ansi Hello}"), "letter.rtf", "RTF document" },
    };

    [Fact]
    public void Text_with_nul_bytes_is_binary_and_the_message_gives_the_offset()
    {
        byte[] content = [(byte)'a', (byte)'b', (byte)'c', 0, 1, 2];

        ParsedDocumentAssert.Rejected(FailureKind.Unsupported, () => _parser.Parse(content, "data.txt"), "'data.txt'", "binary data", "offset 3", "re-save it as UTF-8");
    }

    [Fact]
    public void A_password_protected_pdf_is_unsupported()
    {
        ParsedDocumentAssert.Rejected(FailureKind.Unsupported, () => _parser.Parse(TestDocuments.PasswordProtectedPdf(), "secret.pdf"), "'secret.pdf'", "password protected");
    }

    [Fact]
    public void Invalid_utf8_gives_the_byte_offset_and_suggests_resaving()
    {
        ParsedDocumentAssert.Rejected(
            FailureKind.InvalidEncoding,
            () => _parser.Parse(TestDocuments.InvalidUtf8(), "latin1.txt"),
            "'latin1.txt'",
            "not valid UTF-8",
            $"0xF6 at offset {TestDocuments.InvalidUtf8Offset}",
            "line 1",
            "re-save it as UTF-8");
    }

    [Fact]
    public void Invalid_utf8_after_a_bom_counts_the_offset_from_the_start_of_the_file()
    {
        byte[] content = [0xEF, 0xBB, 0xBF, (byte)'o', (byte)'k', (byte)'\n', 0xC3, 0x28];

        ParsedDocumentAssert.Rejected(FailureKind.InvalidEncoding, () => _parser.Parse(content, "a.md"), "offset 6", "line 2");
    }

    [Fact]
    public void Utf16_cut_in_the_middle_of_a_character_is_an_invalid_encoding()
    {
        var content = TestDocuments.Utf16Text("Hello")[..^1];

        ParsedDocumentAssert.Rejected(FailureKind.InvalidEncoding, () => _parser.Parse(content, "u.txt"), "UTF-16 LE", "re-save it as UTF-8");
    }

    [Fact]
    public void Utf32_is_an_invalid_encoding()
    {
        byte[] content = [0xFF, 0xFE, 0, 0, (byte)'a', 0, 0, 0];

        ParsedDocumentAssert.Rejected(FailureKind.InvalidEncoding, () => _parser.Parse(content, "u.txt"), "UTF-32");
    }

    [Fact]
    public void Text_named_pdf_is_corrupt()
    {
        ParsedDocumentAssert.Rejected(FailureKind.Corrupt, () => _parser.Parse(TestDocuments.Utf8("Just some text"), "report.pdf"), "'report.pdf'", "named .pdf", "%PDF-", "text");
    }

    [Fact]
    public void An_html_error_page_saved_as_pdf_is_corrupt_and_the_message_says_so()
    {
        ParsedDocumentAssert.Rejected(FailureKind.Corrupt, () => _parser.Parse(TestDocuments.Utf8("<!DOCTYPE html><title>404</title>"), "paper.pdf"), "HTML page");
    }

    [Fact]
    public void An_image_named_docx_is_corrupt_and_the_message_says_it_is_an_image()
    {
        ParsedDocumentAssert.Rejected(FailureKind.Corrupt, () => _parser.Parse(TestDocuments.Png(), "letter.docx"), "named .docx", "not a DOCX", "PNG image");
    }

    [Fact]
    public void A_spreadsheet_named_docx_is_corrupt_and_the_message_says_it_is_a_spreadsheet()
    {
        ParsedDocumentAssert.Rejected(FailureKind.Corrupt, () => _parser.Parse(TestDocuments.Xlsx(), "letter.docx"), "no word/document.xml", ".xlsx spreadsheet");
    }

    [Fact]
    public void A_truncated_pdf_is_corrupt()
    {
        ParsedDocumentAssert.Rejected(FailureKind.Corrupt, () => _parser.Parse(TestDocuments.CorruptPdf(), "cut.pdf"), "'cut.pdf'", "truncated");
    }

    [Fact]
    public void A_truncated_docx_is_corrupt()
    {
        ParsedDocumentAssert.Rejected(FailureKind.Corrupt, () => _parser.Parse(TestDocuments.CorruptDocx(), "cut.docx"), "'cut.docx'", "truncated");
    }

    [Fact]
    public void A_docx_with_malformed_xml_is_corrupt()
    {
        ParsedDocumentAssert.Rejected(FailureKind.Corrupt, () => _parser.Parse(TestDocuments.GarbledDocx(), "garbled.docx"), "'garbled.docx'", "could not be read as a DOCX");
    }

    [Fact]
    public void A_damaged_pdf_body_is_corrupt_and_keeps_the_library_error_as_the_cause()
    {
        var pdf = TestDocuments.Pdf(["Some text"]);
        var text = System.Text.Encoding.Latin1.GetString(pdf);
        var damaged = System.Text.Encoding.Latin1.GetBytes(text.Replace("/Type /Catalog", "/Type /Catalxx", StringComparison.Ordinal).Replace("/Pages", "/Pagex", StringComparison.Ordinal));

        var ex = ParsedDocumentAssert.Rejected(FailureKind.Corrupt, () => _parser.Parse(damaged, "bad.pdf"), "'bad.pdf'");
        Assert.NotNull(ex.InnerException);
    }
}
