using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using RagPlatform.Core.Documents;
using RagPlatform.Ingestion.Parsing.Internal;

namespace RagPlatform.Ingestion.Parsing;

/// <summary>
/// Detects a document's format and parses it into normalised text with structural blocks.
/// Bad input never escapes as anything but <see cref="DocumentRejectedException"/>, whose
/// <see cref="DocumentRejectedException.Kind"/> says why (unsupported, corrupt, empty, invalid
/// encoding, too large) and whose message says what to do. Stateless and thread-safe.
/// </summary>
public sealed class DocumentParser
{
    /// <summary>
    /// Parses <paramref name="content"/>. <paramref name="fileName"/> (a name, path or URL) and
    /// <paramref name="contentType"/> (a MIME type, with an optional charset) are hints: the content
    /// decides when it is unambiguous, and the hints choose between text formats.
    /// </summary>
    /// <exception cref="DocumentRejectedException">The content cannot be indexed; the kind and message say why.</exception>
    [SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "An instance API by contract: the pipeline takes the parser as a service, so it can be replaced or configured later without changing callers.")]
    public ParsedDocument Parse(ReadOnlyMemory<byte> content, string? fileName, string? contentType = null)
    {
        var subject = FormatDetector.Subject(fileName);
        var detection = FormatDetector.Detect(content.Span, fileName, contentType);
        try
        {
            return detection.Format switch
            {
                FileFormat.Text => PlainTextParser.Parse(detection.Text!, subject),
                FileFormat.Markdown => MarkdownParser.Parse(detection.Text!, subject),
                FileFormat.Html => HtmlParser.Parse(detection.Text!, subject),
                FileFormat.Json => JsonParser.Parse(detection.Text!, subject),
                FileFormat.Csv => CsvParser.Parse(detection.Text!, detection.Delimiter, subject),
                FileFormat.Pdf => PdfParser.Parse(content, subject),
                FileFormat.Docx => DocxParser.Parse(content, detection.Zip, subject),
                _ => throw new UnreachableException($"No parser for {detection.Format}."),
            };
        }
        catch (DocumentRejectedException)
        {
            throw;
        }
        catch (OutOfMemoryException ex)
        {
            throw new DocumentRejectedException(
                FailureKind.TooLarge,
                $"{subject} is too large to parse in memory as {detection.Format.ToWireName()}. Split it into smaller documents.",
                ex);
        }
        catch (Exception ex)
        {
            // The libraries throw their own exception types (and sometimes plain ones) on damaged files;
            // to the document's owner they all mean the same thing.
            throw new DocumentRejectedException(
                FailureKind.Corrupt,
                $"{subject} could not be read as {Describe(detection.Format)}: {ex.Message.TrimEnd('.')}. The file is probably damaged; export or download it again.",
                ex);
        }
    }

    /// <summary>
    /// The format <see cref="Parse"/> would use, or null when the content would be rejected before
    /// parsing (empty, binary, not valid UTF-8/UTF-16, or named .pdf/.docx but something else).
    /// </summary>
    public static FileFormat? Detect(ReadOnlySpan<byte> content, string? fileName, string? contentType)
    {
        try
        {
            return FormatDetector.Detect(content, fileName, contentType).Format;
        }
        catch (DocumentRejectedException)
        {
            return null;
        }
    }

    private static string Describe(FileFormat format) => format switch
    {
        FileFormat.Pdf => "a PDF",
        FileFormat.Docx => "a DOCX",
        FileFormat.Html => "HTML",
        FileFormat.Markdown => "Markdown",
        FileFormat.Json => "JSON",
        FileFormat.Csv => "CSV",
        _ => "text",
    };
}
