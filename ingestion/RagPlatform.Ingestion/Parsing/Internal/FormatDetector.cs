using System.Text;
using System.Text.Json;
using RagPlatform.Core.Documents;

namespace RagPlatform.Ingestion.Parsing.Internal;

/// <summary>What detection found: the format, and for text formats the decoded text.</summary>
internal sealed record Detection(FileFormat Format, string? Text = null, char? Delimiter = null, ZipDirectory? Zip = null);

/// <summary>
/// Decides the format from the content first and the name or content type second: magic numbers
/// win (a PDF named .txt is a PDF), a name that promises PDF or DOCX but content that is not is
/// corrupt, and text formats are chosen by name or content type, then by sniffing HTML and JSON.
/// </summary>
internal static class FormatDetector
{
    private const string Supported = "text, Markdown, HTML, PDF, DOCX, JSON or CSV";

    /// <summary>The PDF header may be preceded by junk; readers look for it in the first 1024 bytes.</summary>
    private const int PdfHeaderWindow = 1024;

    private static readonly (byte[] Magic, int Offset, string What, string Advice)[] KnownBinaries =
    [
        ([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], 0, "a PNG image", ""),
        ([0xFF, 0xD8, 0xFF], 0, "a JPEG image", ""),
        ("GIF87a"u8.ToArray(), 0, "a GIF image", ""),
        ("GIF89a"u8.ToArray(), 0, "a GIF image", ""),
        ([(byte)'I', (byte)'I', 0x2A, 0x00], 0, "a TIFF image", ""),
        ([(byte)'M', (byte)'M', 0x00, 0x2A], 0, "a TIFF image", ""),
        ("WEBP"u8.ToArray(), 8, "a WebP image", ""),
        ("WAVE"u8.ToArray(), 8, "a WAV audio file", ""),
        ("AVI "u8.ToArray(), 8, "an AVI video", ""),
        ("ftyp"u8.ToArray(), 4, "an MP4/QuickTime media file (or HEIC image)", ""),
        ("ID3"u8.ToArray(), 0, "an MP3 audio file", ""),
        ("OggS"u8.ToArray(), 0, "an Ogg media file", ""),
        ("fLaC"u8.ToArray(), 0, "a FLAC audio file", ""),
        ([0x1A, 0x45, 0xDF, 0xA3], 0, "a Matroska/WebM video", ""),
        ([0x7F, (byte)'E', (byte)'L', (byte)'F'], 0, "an ELF executable", ""),
        ([0xCF, 0xFA, 0xED, 0xFE], 0, "a Mach-O executable", ""),
        ([0xFE, 0xED, 0xFA, 0xCF], 0, "a Mach-O executable", ""),
        ([0xCA, 0xFE, 0xBA, 0xBE], 0, "a Java class file or Mach-O executable", ""),
        ([0x00, (byte)'a', (byte)'s', (byte)'m'], 0, "a WebAssembly module", ""),
        ([0x1F, 0x8B], 0, "a gzip archive", ""),
        ("BZh91AY&SY"u8.ToArray(), 0, "a bzip2 archive", ""),
        ([0xFD, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0x00], 0, "an xz archive", ""),
        ([(byte)'7', (byte)'z', 0xBC, 0xAF, 0x27, 0x1C], 0, "a 7-Zip archive", ""),
        ("Rar!\u001A\u0007"u8.ToArray(), 0, "a RAR archive", ""),
        ([0x28, 0xB5, 0x2F, 0xFD], 0, "a Zstandard archive", ""),
        ("ustar"u8.ToArray(), 257, "a tar archive", ""),
        ([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1], 0, "a legacy Microsoft Office file (.doc, .xls or .ppt)", " Save it as DOCX (or the sheets as CSV) and add it again."),
        ("{\\rtf"u8.ToArray(), 0, "an RTF document", " Save it as DOCX, PDF or plain text and add it again."),
        ("%!PS-Adobe"u8.ToArray(), 0, "a PostScript file", " Convert it to PDF and add it again."),
        ("SQLite format 3\0"u8.ToArray(), 0, "an SQLite database", ""),
        ([(byte)'w', (byte)'O', (byte)'F', (byte)'F'], 0, "a WOFF font", ""),
        ([(byte)'w', (byte)'O', (byte)'F', (byte)'2'], 0, "a WOFF2 font", ""),
    ];

    public static string Subject(string? fileName)
        => string.IsNullOrWhiteSpace(fileName) ? "The document" : $"'{fileName}'";

    /// <summary>Detects the format; throws <see cref="DocumentRejectedException"/> with the reason when the content cannot be parsed.</summary>
    public static Detection Detect(ReadOnlySpan<byte> content, string? fileName, string? contentType)
    {
        var subject = Subject(fileName);
        if (content.IsEmpty)
        {
            throw new DocumentRejectedException(FailureKind.Empty, $"{subject} is empty (0 bytes); there is nothing to index.");
        }

        var (mediaType, charset) = ParseContentType(contentType);
        var extension = Extension(fileName);
        var claim = ClaimByExtension(extension) ?? ClaimByMediaType(mediaType);
        var claimed = extension.Length > 0 && ClaimByExtension(extension) is not null ? $"named {extension}" : $"sent as {mediaType}";

        var pdfHeader = content[..Math.Min(content.Length, PdfHeaderWindow)].IndexOf("%PDF-"u8);
        if (pdfHeader >= 0)
        {
            return new Detection(FileFormat.Pdf);
        }

        if (ZipDirectory.HasZipSignature(content))
        {
            return DetectZip(content, claim?.Format == FileFormat.Docx, subject, claimed);
        }

        var binary = DescribeBinary(content);
        if (claim?.Format is FileFormat.Pdf or FileFormat.Docx)
        {
            var what = binary?.What ?? (LooksLikeHtml(content) ? "an HTML page (perhaps an error or login page saved in its place)" : "text or other data");
            var expected = claim.Value.Format == FileFormat.Pdf ? "a PDF (it does not start with %PDF-)" : "a DOCX (it is not a ZIP package)";
            throw new DocumentRejectedException(
                FailureKind.Corrupt,
                $"{subject} is {claimed} but is not {expected}; it looks like {what}. Re-export or re-download the original file.");
        }

        if (binary is not null)
        {
            throw new DocumentRejectedException(
                FailureKind.Unsupported,
                $"{subject} is {binary.Value.What}, not a supported document format ({Supported}).{binary.Value.Advice}");
        }

        var text = TextDecoder.Decode(content, charset, subject);
        if (claim is { } known && known.Format != FileFormat.Text)
        {
            return new Detection(known.Format, text, known.Delimiter);
        }

        if (LooksLikeHtml(text))
        {
            return new Detection(FileFormat.Html, text);
        }

        if (claim is null && LooksLikeJson(text))
        {
            return new Detection(FileFormat.Json, text);
        }

        return new Detection(FileFormat.Text, text);
    }

    private static Detection DetectZip(ReadOnlySpan<byte> content, bool claimedDocx, string subject, string claimed)
    {
        var zip = ZipDirectory.TryRead(content);
        if (zip is null)
        {
            throw claimedDocx
                ? new DocumentRejectedException(
                    FailureKind.Corrupt,
                    $"{subject} is a damaged or truncated DOCX: its ZIP directory cannot be read. Open it in Word to repair it, or re-export it.")
                : new DocumentRejectedException(
                    FailureKind.Unsupported,
                    $"{subject} is a damaged or truncated ZIP archive, not a supported document format ({Supported}).");
        }

        if (zip.Contains("word/document.xml"))
        {
            return new Detection(FileFormat.Docx, Zip: zip);
        }

        var (what, advice) =
            zip.Contains("xl/workbook.xml") ? ("an .xlsx spreadsheet", " Export its sheets as CSV and add those.") :
            zip.Contains("ppt/presentation.xml") ? ("a .pptx presentation", " Export it as PDF and add that.") :
            zip.Contains("content.xml") && zip.Contains("mimetype") ? ("an OpenDocument file (.odt, .ods or .odp)", " Save it as DOCX or PDF and add that.") :
            zip.Contains("META-INF/container.xml") ? ("an EPUB e-book", string.Empty) :
            zip.Contains("AndroidManifest.xml") ? ("an Android package (APK)", string.Empty) :
            zip.Contains("META-INF/MANIFEST.MF") ? ("a Java archive (JAR)", string.Empty) :
            ("a ZIP archive (not a DOCX)", " Unpack it and add the documents inside.");
        throw claimedDocx
            ? new DocumentRejectedException(FailureKind.Corrupt, $"{subject} is {claimed} but is not a DOCX (it has no word/document.xml); it is {what}.{advice}")
            : new DocumentRejectedException(FailureKind.Unsupported, $"{subject} is {what}, not a supported document format ({Supported}).{advice}");
    }

    private static (string What, string Advice)? DescribeBinary(ReadOnlySpan<byte> content)
    {
        bool? binaryEvidence = null;
        foreach (var (magic, offset, what, advice) in KnownBinaries)
        {
            if (content.Length >= offset + magic.Length && content.Slice(offset, magic.Length).SequenceEqual(magic))
            {
                // A printable magic ("ID3", "OggS", "GIF89a") may just be how a text starts; the real
                // formats have NUL bytes or non-UTF-8 bytes in their header. RTF and PostScript are text formats.
                var printable = !magic.AsSpan().ContainsAnyExceptInRange((byte)0x20, (byte)0x7E);
                if (printable && what is not ("an RTF document" or "a PostScript file"))
                {
                    binaryEvidence ??= content[..Math.Min(content.Length, 1024)].Contains((byte)0) || !System.Text.Unicode.Utf8.IsValid(content);
                    if (!binaryEvidence.Value)
                    {
                        continue;
                    }
                }

                return (what, advice);
            }
        }

        // "MZ" alone is too common at the start of text; a PE executable also has NUL bytes right after it.
        if (content.Length >= 64 && content[0] == (byte)'M' && content[1] == (byte)'Z' && content[..64].Contains((byte)0))
        {
            return ("a Windows executable (PE)", string.Empty);
        }

        return null;
    }

    private static string Extension(string? fileName)
    {
        if (string.IsNullOrWhiteSpace(fileName))
        {
            return string.Empty;
        }

        // A URL's query or fragment is not part of the name.
        var name = fileName;
        var cut = name.IndexOfAny(['?', '#']);
        if (cut >= 0 && name.Contains("://", StringComparison.Ordinal))
        {
            name = name[..cut];
        }

        return Path.GetExtension(name.AsSpan().TrimEnd()).ToString().ToLowerInvariant();
    }

    private static (FileFormat Format, char? Delimiter)? ClaimByExtension(string extension) => extension switch
    {
        ".txt" or ".text" or ".log" => (FileFormat.Text, null),
        ".md" or ".markdown" or ".mdown" or ".mkd" or ".mkdn" => (FileFormat.Markdown, null),
        ".html" or ".htm" or ".xhtml" => (FileFormat.Html, null),
        ".pdf" => (FileFormat.Pdf, null),
        ".docx" or ".docm" or ".dotx" => (FileFormat.Docx, null),
        ".json" => (FileFormat.Json, null),
        ".csv" => (FileFormat.Csv, null),
        ".tsv" or ".tab" => (FileFormat.Csv, '\t'),
        _ => null,
    };

    private static (FileFormat Format, char? Delimiter)? ClaimByMediaType(string mediaType) => mediaType switch
    {
        "text/plain" => (FileFormat.Text, null),
        "text/markdown" or "text/x-markdown" => (FileFormat.Markdown, null),
        "text/html" or "application/xhtml+xml" => (FileFormat.Html, null),
        "application/pdf" or "application/x-pdf" => (FileFormat.Pdf, null),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => (FileFormat.Docx, null),
        "application/json" or "text/json" => (FileFormat.Json, null),
        "text/csv" or "application/csv" => (FileFormat.Csv, null),
        "text/tab-separated-values" => (FileFormat.Csv, '\t'),
        _ when mediaType.EndsWith("+json", StringComparison.Ordinal) => (FileFormat.Json, null),
        _ => null,
    };

    private static (string MediaType, string? Charset) ParseContentType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return (string.Empty, null);
        }

        var parts = contentType.Split(';', StringSplitOptions.TrimEntries);
        string? charset = null;
        foreach (var part in parts.AsSpan(1))
        {
            if (part.StartsWith("charset=", StringComparison.OrdinalIgnoreCase))
            {
                charset = part["charset=".Length..];
            }
        }

        return (parts[0].ToLowerInvariant(), charset);
    }

    private static bool LooksLikeHtml(ReadOnlySpan<byte> content)
    {
        var head = content[..Math.Min(content.Length, 1024)];
        return LooksLikeHtml(Encoding.Latin1.GetString(head));
    }

    /// <summary>An HTML document announces itself at its start (after an XML declaration or comments, at most).</summary>
    private static bool LooksLikeHtml(string text)
    {
        var head = text.AsSpan(0, Math.Min(text.Length, 1024)).TrimStart();
        if (head.IsEmpty || head[0] != '<')
        {
            return false;
        }

        return head.Contains("<!doctype html", StringComparison.OrdinalIgnoreCase) || head.Contains("<html", StringComparison.OrdinalIgnoreCase);
    }

    private static bool LooksLikeJson(string text)
    {
        var trimmed = text.AsSpan().TrimStart();
        if (trimmed.IsEmpty || (trimmed[0] != '{' && trimmed[0] != '['))
        {
            return false;
        }

        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text), new JsonReaderOptions { MaxDepth = JsonParser.MaxDepth, CommentHandling = JsonCommentHandling.Skip });
        try
        {
            while (reader.Read())
            {
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
