namespace RagPlatform.Ingestion.Chunking.Internal;

/// <summary>
/// The finer units of a block: lines and words. Every segment is trimmed (starts and ends on a
/// non-whitespace character), so a chunk built from segments never starts or ends with whitespace.
/// </summary>
internal static class TextSegments
{
    public static int SkipWhiteSpace(string text, int position, int end)
    {
        while (position < end && char.IsWhiteSpace(text[position]))
        {
            position++;
        }

        return position;
    }

    public static int TrimEnd(string text, int start, int end)
    {
        while (end > start && char.IsWhiteSpace(text[end - 1]))
        {
            end--;
        }

        return end;
    }

    public static Segment Trim(string text, int start, int end)
    {
        start = SkipWhiteSpace(text, start, end);
        return new Segment(start, TrimEnd(text, start, end));
    }

    /// <summary>The non-blank lines of <c>[start, end)</c>, trimmed.</summary>
    public static void Lines(string text, int start, int end, List<Segment> lines)
    {
        var lineStart = start;
        while (lineStart < end)
        {
            var newline = text.IndexOf('\n', lineStart, end - lineStart);
            var lineEnd = newline < 0 ? end : newline;
            var line = Trim(text, lineStart, lineEnd);
            if (line.Length > 0)
            {
                lines.Add(line);
            }

            lineStart = lineEnd + 1;
        }
    }

    /// <summary>Maximal runs of non-whitespace characters in <c>[start, end)</c>.</summary>
    public static void Words(string text, int start, int end, List<Segment> words)
    {
        var position = SkipWhiteSpace(text, start, end);
        while (position < end)
        {
            var wordEnd = position + 1;
            while (wordEnd < end && !char.IsWhiteSpace(text[wordEnd]))
            {
                wordEnd++;
            }

            words.Add(new Segment(position, wordEnd));
            position = SkipWhiteSpace(text, wordEnd, end);
        }
    }

    /// <summary>Whether <c>[start, end)</c> holds at least two line breaks, i.e. a blank line.</summary>
    public static bool HasBlankLine(string text, int start, int end)
    {
        var first = text.IndexOf('\n', start, end - start);
        return first >= 0 && first + 1 < end && text.IndexOf('\n', first + 1, end - first - 1) >= 0;
    }
}
