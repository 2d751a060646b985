using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using RagPlatform.Core.Documents;
using UglyToad.PdfPig;
using UglyToad.PdfPig.DocumentLayoutAnalysis.TextExtractor;
using UglyToad.PdfPig.Exceptions;

namespace RagPlatform.Ingestion.Parsing.Internal;

/// <summary>
/// PDF through PdfPig: text per page in content order, split into paragraphs where the layout
/// shows a gap, with line-end hyphenation undone; each block keeps its 1-based page number.
/// </summary>
internal static class PdfParser
{
    /// <summary>Every complete PDF ends with %%EOF; incremental updates append after it, so look near the end only.</summary>
    private const int EofWindow = 2048;

    private static readonly ContentOrderTextExtractor.Options ExtractorOptions = new()
    {
        SeparateParagraphsWithDoubleNewline = true,
        ReplaceWhitespaceWithSpace = true,
    };

    public static ParsedDocument Parse(ReadOnlyMemory<byte> content, string subject)
    {
        var span = content.Span;
        if (span[Math.Max(0, span.Length - EofWindow)..].IndexOf("%%EOF"u8) < 0)
        {
            throw new DocumentRejectedException(
                FailureKind.Corrupt,
                $"{subject} is a truncated or damaged PDF: it does not end with the %%EOF marker. Download or export it again.");
        }

        var bytes = MemoryMarshal.TryGetArray(content, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : content.ToArray();

        PdfDocument document;
        try
        {
            document = PdfDocument.Open(bytes, new ParsingOptions { UseLenientParsing = true, SkipMissingFonts = true });
        }
        catch (PdfDocumentEncryptedException ex)
        {
            throw PasswordProtected(subject, ex);
        }

        using (document)
        {
            if (document.IsEncrypted && document.NumberOfPages == 0)
            {
                throw PasswordProtected(subject, null);
            }

            var builder = new NormalizedTextBuilder(Math.Max(1024, bytes.Length / 2));
            for (var number = 1; number <= document.NumberOfPages; number++)
            {
                var page = document.GetPage(number);
                var text = ContentOrderTextExtractor.GetText(page, ExtractorOptions);
                foreach (var paragraph in SplitParagraphs(text))
                {
                    builder.Add(BlockKind.Paragraph, JoinHyphenatedLines(paragraph), page: number);
                }
            }

            var title = document.Information.Title;
            if (string.IsNullOrWhiteSpace(title) && builder.Blocks.Count > 0)
            {
                var first = builder.TextOf(builder.Blocks[0]);
                var lineEnd = first.IndexOf('\n', StringComparison.Ordinal);
                title = lineEnd < 0 ? first : first[..lineEnd];
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var author = TextNormalizer.NormalizeLine(document.Information.Author);
            if (author.Length > 0)
            {
                metadata["author"] = author;
            }

            if (TryCreated(document, out var created))
            {
                metadata["created"] = created.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
            }

            return builder.Build(
                FileFormat.Pdf,
                title,
                metadata,
                document.NumberOfPages,
                $"{subject} has no extractable text; the PDF may be scanned images, which need OCR before they can be indexed.");
        }
    }

    private static DocumentRejectedException PasswordProtected(string subject, Exception? inner) => new(
        FailureKind.Unsupported,
        $"{subject} is a password protected PDF, and its text cannot be read without the password. Save an unprotected copy and add that instead.",
        inner);

    private static bool TryCreated(PdfDocument document, out DateTimeOffset created)
    {
        try
        {
            if (document.Information.GetCreatedDateTimeOffset() is { } value)
            {
                created = value;
                return true;
            }
        }
        catch (FormatException)
        {
            // An unreadable date is not a reason to reject the document.
        }

        created = default;
        return false;
    }

    private static IEnumerable<string> SplitParagraphs(string pageText)
    {
        var lines = pageText.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var paragraph = new StringBuilder();
        foreach (var line in lines)
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                if (paragraph.Length > 0)
                {
                    yield return paragraph.ToString();
                    paragraph.Clear();
                }

                continue;
            }

            paragraph.Append(paragraph.Length > 0 ? "\n" : string.Empty).Append(line.TrimEnd());
        }

        if (paragraph.Length > 0)
        {
            yield return paragraph.ToString();
        }
    }

    /// <summary>
    /// "docu-\nment" becomes "document" when it is clearly a hyphenation: a lower-case letter before the
    /// hyphen and a lower-case letter starting the next line. Compounds split at a line end ("self-\nevident")
    /// cannot be told apart and lose their hyphen; a search for either spelling still finds the words.
    /// </summary>
    internal static string JoinHyphenatedLines(string paragraph)
    {
        if (!paragraph.Contains("-\n", StringComparison.Ordinal))
        {
            return paragraph;
        }

        var result = new StringBuilder(paragraph.Length);
        var position = 0;
        while (true)
        {
            var at = paragraph.IndexOf("-\n", position, StringComparison.Ordinal);
            if (at < 0)
            {
                result.Append(paragraph, position, paragraph.Length - position);
                return result.ToString();
            }

            var next = at + 2;
            while (next < paragraph.Length && paragraph[next] == ' ')
            {
                next++;
            }

            var hyphenation = at > 0 && char.IsLower(paragraph[at - 1]) && next < paragraph.Length && char.IsLower(paragraph[next]);
            if (hyphenation)
            {
                result.Append(paragraph, position, at - position);
                position = next;
            }
            else
            {
                result.Append(paragraph, position, next - position);
                position = next;
            }
        }
    }
}
