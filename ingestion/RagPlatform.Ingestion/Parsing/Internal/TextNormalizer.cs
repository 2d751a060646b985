using System.Text;

namespace RagPlatform.Ingestion.Parsing.Internal;

internal enum CharClass
{
    Visible,
    SurrogatePair,
    Space,
    Newline,
    Removed,
}

/// <summary>
/// The normalisation rules shared by every parser: Unicode NFC; CRLF, CR, NEL and the Unicode line
/// and paragraph separators become <c>\n</c>; runs of horizontal whitespace become one space;
/// control characters (other than line ends), zero-width characters, soft hyphens and BOMs are removed;
/// lone surrogates become U+FFFD.
/// </summary>
internal static class TextNormalizer
{
    /// <summary>Every character below U+0300 is stable under NFC; composition needs a combining mark or a non-Latin script.</summary>
    public const char FirstNonNfcStable = '\u0300';

    /// <summary>
    /// Classifies a character that is not visible ASCII. Reads ahead over <c>\r\n</c> and surrogate
    /// pairs (advancing <paramref name="i"/>); replaces a lone surrogate with U+FFFD in <paramref name="c"/>.
    /// </summary>
    public static CharClass Classify(ReadOnlySpan<char> raw, ref int i, ref char c)
    {
        switch (c)
        {
            case ' ' or '\t':
                return CharClass.Space;
            case '\n' or '\v' or '\f' or '\u0085' or '\u2028' or '\u2029':
                return CharClass.Newline;
            case '\r':
                if (i + 1 < raw.Length && raw[i + 1] == '\n')
                {
                    i++;
                }

                return CharClass.Newline;

            // Zero-width space, non-joiner, joiner, word joiner, BOM / zero-width no-break space,
            // soft hyphen, Mongolian vowel separator: invisible, and they split words for search.
            case '\u200B' or '\u200C' or '\u200D' or '\u2060' or '\uFEFF' or '\u00AD' or '\u180E':
                return CharClass.Removed;
        }

        if (c < ' ' || c is >= '\u007f' and <= '\u009f')
        {
            return CharClass.Removed;
        }

        if (char.IsSurrogate(c))
        {
            if (char.IsHighSurrogate(c) && i + 1 < raw.Length && char.IsLowSurrogate(raw[i + 1]))
            {
                i++;
                c = raw[i];
                return CharClass.SurrogatePair;
            }

            c = '\uFFFD';
            return CharClass.Visible;
        }

        return char.IsWhiteSpace(c) ? CharClass.Space : CharClass.Visible;
    }

    /// <summary>A one-line value (a title, a metadata value, a table cell): normalised, with line ends as spaces.</summary>
    public static string NormalizeLine(string? value) => NormalizeLine(value.AsSpan());

    public static string NormalizeLine(ReadOnlySpan<char> raw)
    {
        if (raw.IsEmpty)
        {
            return string.Empty;
        }

        var builder = new StringBuilder(raw.Length);
        var pendingSpace = false;
        var mayCompose = false;
        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            var pair = false;
            if (c is not (> ' ' and < '\u007f'))
            {
                var cls = Classify(raw, ref i, ref c);
                if (cls is CharClass.Space or CharClass.Newline)
                {
                    pendingSpace = true;
                    continue;
                }

                if (cls == CharClass.Removed)
                {
                    continue;
                }

                pair = cls == CharClass.SurrogatePair;
                mayCompose |= pair || c >= FirstNonNfcStable;
            }

            if (pendingSpace && builder.Length > 0)
            {
                builder.Append(' ');
            }

            pendingSpace = false;
            if (pair)
            {
                builder.Append(raw[i - 1]);
            }

            builder.Append(c);
        }

        var result = builder.ToString();
        if (mayCompose)
        {
            try
            {
                result = result.Normalize(NormalizationForm.FormC);
            }
            catch (ArgumentException)
            {
                // Ill-formed UTF-16 was already repaired; keep the value rather than fail the document.
            }
        }

        return result;
    }
}
