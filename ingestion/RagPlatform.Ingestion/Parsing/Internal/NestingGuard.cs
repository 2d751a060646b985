namespace RagPlatform.Ingestion.Parsing.Internal;

/// <summary>
/// Cheap upper bounds on how deeply a Markdown or HTML text nests. Markdig and AngleSharp both
/// slow down quadratically with nesting (30,000 unclosed &lt;div&gt;s take AngleSharp ~20 s;
/// 1,000 nested list levels take Markdig ~5 s), so a text nested beyond what any author writes is
/// read as plain text instead: its words are still indexed, its structure is lost.
/// </summary>
internal static class NestingGuard
{
    /// <summary>Markdig refuses more than 128 levels anyway; 2 columns per list level.</summary>
    public const int MaxMarkdownIndent = 256;

    public const int MaxMarkdownQuoteDepth = 128;

    /// <summary>Real pages nest a few dozen levels; sloppy ones leave a few hundred tags unclosed.</summary>
    public const int MaxHtmlDepth = 1000;

    private static readonly HashSet<string> VoidOrSelfClosing = new(StringComparer.OrdinalIgnoreCase)
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "param", "keygen",
        // Closed implicitly by the next one of their kind, so they do not pile up.
        "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead", "tbody", "tfoot", "colgroup", "rb", "rt", "rp",
    };

    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> VoidLookup = VoidOrSelfClosing.GetAlternateLookup<ReadOnlySpan<char>>();

    public static bool MarkdownTooDeep(string text)
    {
        var span = text.AsSpan();
        while (!span.IsEmpty)
        {
            var end = span.IndexOf('\n');
            var line = end < 0 ? span : span[..end];
            span = end < 0 ? [] : span[(end + 1)..];

            var indent = 0;
            var quotes = 0;
            var i = 0;
            for (; i < line.Length; i++)
            {
                var c = line[i];
                if (c == ' ')
                {
                    indent++;
                }
                else if (c == '\t')
                {
                    indent += 4;
                }
                else if (c == '>')
                {
                    quotes++;
                }
                else
                {
                    break;
                }
            }

            if (quotes > MaxMarkdownQuoteDepth)
            {
                return true;
            }

            if (indent > MaxMarkdownIndent && i < line.Length && (line[i] is '-' or '*' or '+' || char.IsAsciiDigit(line[i])))
            {
                return true;
            }
        }

        return false;
    }

    public static bool HtmlTooDeep(string html)
    {
        var depth = 0;
        var position = 0;
        while (true)
        {
            var open = html.IndexOf('<', position);
            if (open < 0 || open + 1 >= html.Length)
            {
                return false;
            }

            position = open + 1;
            var next = html[position];
            if (next == '!' || next == '?')
            {
                var close = html.AsSpan(open).StartsWith("<!--", StringComparison.Ordinal) ? html.IndexOf("-->", position, StringComparison.Ordinal) : html.IndexOf('>', position);
                if (close < 0)
                {
                    return false;
                }

                position = close + 1;
                continue;
            }

            var closing = next == '/';
            var nameStart = closing ? position + 1 : position;
            var nameEnd = nameStart;
            while (nameEnd < html.Length && char.IsAsciiLetterOrDigit(html[nameEnd]))
            {
                nameEnd++;
            }

            if (nameEnd == nameStart || !char.IsAsciiLetter(html[nameStart]))
            {
                continue;
            }

            var name = html.AsSpan(nameStart, nameEnd - nameStart);
            var tagEnd = html.IndexOf('>', nameEnd);
            if (tagEnd < 0)
            {
                return false;
            }

            position = tagEnd + 1;
            if (closing)
            {
                depth = Math.Max(0, depth - 1);
                continue;
            }

            if (name.Equals("script", StringComparison.OrdinalIgnoreCase) || name.Equals("style", StringComparison.OrdinalIgnoreCase))
            {
                // Their content is not markup.
                var end = html.IndexOf(string.Concat("</", name), position, StringComparison.OrdinalIgnoreCase);
                if (end < 0)
                {
                    return false;
                }

                position = end;
                continue;
            }

            if (html[tagEnd - 1] == '/' || VoidLookup.Contains(name))
            {
                continue;
            }

            if (++depth > MaxHtmlDepth)
            {
                return true;
            }
        }
    }
}
