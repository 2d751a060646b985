namespace RagPlatform.Ingestion.Parsing.Internal;

/// <summary>Plain text: paragraphs are separated by blank lines; the lines inside a paragraph are kept.</summary>
internal static class PlainTextParser
{
    /// <param name="format">The format to report: Markdown and HTML too deeply nested to parse are read as plain text.</param>
    public static ParsedDocument Parse(string text, string subject, FileFormat format = FileFormat.Text)
    {
        var builder = new NormalizedTextBuilder(text.Length + 16);
        var span = text.AsSpan();
        var paragraphStart = -1;
        var position = 0;
        while (position < span.Length)
        {
            var rest = span[position..];
            var lineLength = rest.IndexOfAny('\n', '\r');
            var lineEnd = lineLength < 0 ? span.Length : position + lineLength;
            var next = lineEnd;
            if (next < span.Length)
            {
                next += span[next] == '\r' && next + 1 < span.Length && span[next + 1] == '\n' ? 2 : 1;
            }

            if (IsBlank(span[position..lineEnd]))
            {
                if (paragraphStart >= 0)
                {
                    builder.Add(BlockKind.Paragraph, span[paragraphStart..position]);
                    paragraphStart = -1;
                }
            }
            else if (paragraphStart < 0)
            {
                paragraphStart = position;
            }

            position = next;
        }

        if (paragraphStart >= 0)
        {
            builder.Add(BlockKind.Paragraph, span[paragraphStart..]);
        }

        return builder.Build(
            format,
            title: null,
            metadata: null,
            pageCount: null,
            $"{subject} contains no text: only whitespace or invisible characters.");
    }

    private static bool IsBlank(ReadOnlySpan<char> line)
    {
        foreach (var c in line)
        {
            if (!char.IsWhiteSpace(c) && c is not ('\u200B' or '\uFEFF'))
            {
                return false;
            }
        }

        return true;
    }
}
