namespace RagPlatform.Core.Indexing;

/// <summary>A half-open character range [Start, End) in a text.</summary>
public readonly record struct TextSpan(int Start, int End)
{
    public int Length => End - Start;
}

/// <summary>
/// Finds where the terms of a query occur in a text, with the keyword index's own analysis
/// (stemming, stop words), so that highlighted words are exactly the words that matched.
/// </summary>
public interface ITermMatcher
{
    /// <summary>The analysed terms of <paramref name="query"/>: analyse once per query, then find them in each hit.</summary>
    IReadOnlySet<string> AnalyzeQuery(string query);

    /// <summary>Ranges of <paramref name="text"/> whose analysed form is one of <paramref name="terms"/>, in order.</summary>
    IReadOnlyList<TextSpan> FindTerms(string text, IReadOnlySet<string> terms);
}
