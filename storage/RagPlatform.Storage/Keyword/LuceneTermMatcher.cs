using System.Globalization;
using Lucene.Net.Analysis.TokenAttributes;
using RagPlatform.Core.Indexing;
using RagPlatform.Storage.Keyword.Internal;

namespace RagPlatform.Storage.Keyword;

/// <summary>
/// Finds query terms in a text with the keyword index's own analysis (same stemmer, stop words and
/// folding, from the same <see cref="KeywordIndexOptions"/>), so highlighted words are the words BM25
/// matched: "running" in a query highlights "runs".
/// </summary>
public sealed class LuceneTermMatcher : ITermMatcher, IDisposable
{
    private readonly EnglishChunkAnalyzer _analyzer;
    private readonly int _maxQueryTerms;

    public LuceneTermMatcher(KeywordIndexOptions? options = null)
    {
        options ??= new KeywordIndexOptions();
        _analyzer = new EnglishChunkAnalyzer(options.Stemmer, options.StopWords, options.FoldToAscii);
        _maxQueryTerms = options.MaxQueryTerms;
    }

    public IReadOnlySet<string> AnalyzeQuery(string query)
        => _analyzer.AnalyzeQuery(query, _maxQueryTerms).Select(t => t.Key).ToHashSet(StringComparer.Ordinal);

    public IReadOnlyList<TextSpan> FindTerms(string text, IReadOnlySet<string> terms)
    {
        if (terms.Count == 0 || text.Length == 0)
        {
            return [];
        }

        // The analyzer drops invisible format characters before tokenizing; do it here with a map
        // back to the original positions, so the spans point into the text as given.
        var (stripped, positions) = StripFormatCharacters(text);
        var spans = new List<TextSpan>();
        using var stream = _analyzer.GetTokenStream(string.Empty, new StringReader(stripped));
        var term = stream.AddAttribute<ICharTermAttribute>();
        var offset = stream.AddAttribute<IOffsetAttribute>();
        stream.Reset();
        while (stream.IncrementToken())
        {
            if (terms.Contains(term.ToString()))
            {
                var start = positions is null ? offset.StartOffset : positions[offset.StartOffset];
                var end = positions is null ? offset.EndOffset : positions[offset.EndOffset - 1] + 1;
                spans.Add(new TextSpan(start, end));
            }
        }

        stream.End();
        return spans;
    }

    public void Dispose() => _analyzer.Dispose();

    private static (string Text, int[]? Positions) StripFormatCharacters(string text)
    {
        var any = false;
        foreach (var c in text)
        {
            if (IsFormat(c))
            {
                any = true;
                break;
            }
        }

        if (!any)
        {
            return (text, null);
        }

        var kept = new System.Text.StringBuilder(text.Length);
        var positions = new List<int>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (!IsFormat(text[i]))
            {
                kept.Append(text[i]);
                positions.Add(i);
            }
        }

        return (kept.ToString(), positions.ToArray());
    }

    private static bool IsFormat(char c) => c >= '\u00AD' && char.GetUnicodeCategory(c) == UnicodeCategory.Format;
}
