using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace RagPlatform.Ingestion.Chunking.Internal;

/// <summary>
/// Rule-based sentence boundaries, tuned to err on the side of not splitting: a missed boundary only
/// makes one unit longer, while a false one (after "e.g." or "Fig.") cuts a sentence in two.
/// A sentence ends at <c>. ! ? …</c> (and any closing quotes or brackets after them) followed by
/// whitespace and a character that can open a sentence, at a CJK full stop, or at a blank line.
/// </summary>
internal static class SentenceSplitter
{
    // Words that usually end in a period without ending the sentence. Lower case; compared
    // ignoring case. "no." and "min." are left out on purpose: they end sentences too often.
    private static readonly FrozenSet<string> Abbreviations = FrozenSet.Create(
        StringComparer.OrdinalIgnoreCase,
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "etc", "al", "fig", "figs",
        "eq", "eqs", "ref", "refs", "vol", "vols", "pp", "cf", "approx", "ca", "inc", "ltd", "co",
        "corp", "dept", "univ", "resp", "suppl", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
        "sep", "sept", "oct", "nov", "dec");

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> AbbreviationLookup =
        Abbreviations.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Appends the trimmed sentences of <c>[start, end)</c> to <paramref name="sentences"/>.</summary>
    public static void Split(string text, int start, int end, List<Segment> sentences)
    {
        var sentenceStart = TextSegments.SkipWhiteSpace(text, start, end);
        var i = sentenceStart;
        while (i < end)
        {
            var c = text[i];
            if (IsCjkTerminator(c))
            {
                // CJK text puts no space after a full stop, so the stop alone ends the sentence.
                var stop = SkipClosers(text, i + 1, end);
                var next = TextSegments.SkipWhiteSpace(text, stop, end);
                if (next < end)
                {
                    sentences.Add(new Segment(sentenceStart, stop));
                    sentenceStart = next;
                }

                i = next;
            }
            else if (c is '.' or '!' or '?' or '…')
            {
                var stop = i + 1;
                while (stop < end && text[stop] is '.' or '!' or '?' or '…')
                {
                    stop++;
                }

                var singlePeriod = c == '.' && stop == i + 1;
                stop = SkipClosers(text, stop, end);
                if (stop < end && char.IsWhiteSpace(text[stop]))
                {
                    var next = TextSegments.SkipWhiteSpace(text, stop, end);
                    if (next < end
                        && (TextSegments.HasBlankLine(text, stop, next)
                            || (CanStartSentence(text, next) && !(singlePeriod && IsAbbreviation(text, sentenceStart, i)))))
                    {
                        sentences.Add(new Segment(sentenceStart, stop));
                        sentenceStart = next;
                        i = next;
                        continue;
                    }
                }

                i = stop;
            }
            else if (c == '\n')
            {
                var next = TextSegments.SkipWhiteSpace(text, i, end);
                if (next < end && TextSegments.HasBlankLine(text, i, next))
                {
                    sentences.Add(new Segment(sentenceStart, TextSegments.TrimEnd(text, sentenceStart, i)));
                    sentenceStart = next;
                }

                i = next;
            }
            else
            {
                i++;
            }
        }

        var last = TextSegments.TrimEnd(text, sentenceStart, end);
        if (last > sentenceStart)
        {
            sentences.Add(new Segment(sentenceStart, last));
        }
    }

    private static bool IsCjkTerminator(char c) => c is '。' or '｡' or '！' or '？';

    private static bool IsCloser(char c) => c is '"' or '\'' or '”' or '’' or '»' or ')' or ']' or '}' or '」' or '』' or '）' or '】';

    private static bool IsOpener(char c) => c is '"' or '\'' or '“' or '‘' or '«' or '„' or '(' or '[' or '{' or '¿' or '¡' or '「' or '『' or '（' or '【';

    private static int SkipClosers(string text, int position, int end)
    {
        while (position < end && IsCloser(text[position]))
        {
            position++;
        }

        return position;
    }

    /// <summary>Upper-case letters, digits, quotes and brackets open sentences; so does any letter of a script without case.</summary>
    private static bool CanStartSentence(string text, int position)
    {
        if (IsOpener(text[position]))
        {
            return true;
        }

        Rune.DecodeFromUtf16(text.AsSpan(position), out var rune, out _);
        return Rune.IsUpper(rune)
            || Rune.IsDigit(rune)
            || Rune.GetUnicodeCategory(rune) is UnicodeCategory.TitlecaseLetter or UnicodeCategory.OtherLetter;
    }

    /// <summary>Whether the word that ends at the period <paramref name="period"/> is an abbreviation, an initial or an enumerator.</summary>
    private static bool IsAbbreviation(string text, int sentenceStart, int period)
    {
        var wordStart = period;
        while (wordStart > sentenceStart && !char.IsWhiteSpace(text[wordStart - 1]))
        {
            wordStart--;
        }

        var atSentenceStart = wordStart == sentenceStart;
        while (wordStart < period && IsOpener(text[wordStart]))
        {
            wordStart++;
        }

        var word = text.AsSpan(wordStart, period - wordStart);
        if (word.IsEmpty)
        {
            return false;
        }

        // "J. Smith", "e.g.", "i.e.", "U.S.": single letters separated by periods.
        if (IsInitials(word) || AbbreviationLookup.Contains(word))
        {
            return true;
        }

        // "1. Install": a number opening a sentence enumerates rather than ends anything.
        return atSentenceStart && word.Length <= 3 && !word.ContainsAnyExceptInRange('0', '9');
    }

    private static bool IsInitials(ReadOnlySpan<char> word)
    {
        for (var i = 0; i < word.Length; i += 2)
        {
            if (!char.IsLetter(word[i]) || (i + 1 < word.Length && word[i + 1] != '.'))
            {
                return false;
            }
        }

        return word.Length % 2 == 1;
    }
}
