using RagPlatform.Core.Indexing;

namespace RagPlatform.Retrieval.Internal;

/// <summary>Picks the window of a chunk with the most matched query terms and marks them.</summary>
internal static class SnippetBuilder
{
    public static Snippet Build(string chunkText, int chunkStart, IReadOnlyList<TextSpan> matches, int maxChars)
    {
        if (chunkText.Length <= maxChars)
        {
            return new Snippet { Text = chunkText, Start = chunkStart, Highlights = matches };
        }

        // The window [s, s + maxChars) holding the most matches: slide over match starts.
        var bestStart = 0;
        var bestCount = 0;
        var j = 0;
        for (var i = 0; i < matches.Count; i++)
        {
            while (j < matches.Count && matches[j].End <= matches[i].Start + maxChars)
            {
                j++;
            }

            if (j - i > bestCount)
            {
                bestCount = j - i;
                bestStart = matches[i].Start;
            }
        }

        // Centre the matched stretch in the window, then move the edges to word boundaries.
        var stretchEnd = bestCount > 0 ? matches.Where(m => m.Start >= bestStart && m.End <= bestStart + maxChars).Max(m => m.End) : 0;
        var start = Math.Max(0, Math.Min(bestStart - ((maxChars - (stretchEnd - bestStart)) / 2), chunkText.Length - maxChars));
        var end = Math.Min(chunkText.Length, start + maxChars);
        while (start > 0 && start < end && !char.IsWhiteSpace(chunkText[start - 1]))
        {
            start++;
        }

        while (end < chunkText.Length && end > start && !char.IsWhiteSpace(chunkText[end]))
        {
            end--;
        }

        if (end <= start)
        {
            start = Math.Max(0, Math.Min(bestStart, chunkText.Length - maxChars));
            end = Math.Min(chunkText.Length, start + maxChars);
        }

        var highlights = matches
            .Where(m => m.Start >= start && m.End <= end)
            .Select(m => new TextSpan(m.Start - start, m.End - start))
            .ToList();
        return new Snippet { Text = chunkText[start..end], Start = chunkStart + start, Highlights = highlights };
    }
}
