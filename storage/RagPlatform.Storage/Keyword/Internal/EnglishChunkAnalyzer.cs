using System.Globalization;
using System.Text;
using Lucene.Net.Analysis;
using Lucene.Net.Analysis.En;
using Lucene.Net.Analysis.Core;
using Lucene.Net.Analysis.Miscellaneous;
using Lucene.Net.Analysis.Snowball;
using Lucene.Net.Analysis.Standard;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Analysis.Util;
using Lucene.Net.Tartarus.Snowball.Ext;
using Lucene.Net.Util;

namespace RagPlatform.Storage.Keyword.Internal;

/// <summary>
/// The one analyzer used for chunks and for queries, so that both reduce words to the same terms:
/// standard tokenizer, possessive removal, lower case, optional ASCII folding, English stop words,
/// and the configured stemmer.
/// </summary>
internal sealed class EnglishChunkAnalyzer(KeywordStemmer stemmer, KeywordStopWords stopWords, bool foldToAscii) : Analyzer
{
    internal const LuceneVersion Version = LuceneVersion.LUCENE_48;

    /// <summary>
    /// Lucene's English stop words plus common function words (auxiliaries, pronouns, determiners,
    /// prepositions, conjunctions), which carry no topic. Quantifiers that change what a claim says
    /// ("more", "less", "few", "only") are kept; Lucene's own list already drops "no" and "not".
    /// </summary>
    private static readonly CharArraySet ExtendedStopSet = new CharArraySet(
        Version,
        EnglishAnalyzer.DefaultStopSet.Concat(
        [
            "about", "above", "after", "again", "all", "also", "am", "any", "because", "been", "before", "being", "below",
            "between", "both", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "from",
            "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his",
            "how", "i", "its", "itself", "just", "me", "my", "myself", "nor", "off", "once", "other", "our",
            "ours", "ourselves", "out", "over", "own", "same", "she", "should", "so", "some", "than", "them", "themselves",
            "those", "through", "too", "under", "until", "up", "very", "we", "were", "what", "when", "where", "which",
            "while", "who", "whom", "why", "would", "you", "your", "yours", "yourself", "yourselves", "via", "upon",
        ]).ToList(),
        ignoreCase: false).AsReadOnly();

    /// <summary>
    /// Names what changes the indexed terms. Stored in every commit, so that an index built with one
    /// analysis is never searched with another.
    /// </summary>
    public string Signature { get; } = FormattableString.Invariant(
        $"strip-format|standard|possessive|lowercase|fold={(foldToAscii ? 1 : 0)}|stop={stopWords}|stem={stemmer}");

    /// <summary>
    /// The distinct terms of <paramref name="text"/> with how often each occurs, in first-seen order,
    /// at most <paramref name="maxTerms"/>. Never interprets syntax: every string is just words.
    /// </summary>
    public List<KeyValuePair<string, int>> AnalyzeQuery(string text, int maxTerms)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var order = new List<string>();
        using (var stream = GetTokenStream(string.Empty, new StringReader(text)))
        {
            var term = stream.AddAttribute<ICharTermAttribute>();
            stream.Reset();
            while (stream.IncrementToken())
            {
                var word = term.ToString();
                if (counts.TryGetValue(word, out var n))
                {
                    counts[word] = n + 1;
                }
                else if (order.Count < maxTerms)
                {
                    counts[word] = 1;
                    order.Add(word);
                }
            }

            stream.End();
        }

        return order.ConvertAll(w => new KeyValuePair<string, int>(w, counts[w]));
    }

    /// <summary>
    /// Drops invisible format characters (soft hyphens, zero-width spaces and joiners, bidi marks):
    /// the tokenizer would otherwise glue them to a word ("lorem\u202C") and the word would never match.
    /// Offsets are not indexed, so removing characters here costs nothing downstream.
    /// </summary>
    protected override TextReader InitReader(string fieldName, TextReader reader)
    {
        var text = reader.ReadToEnd();
        var first = IndexOfFormat(text, 0);
        if (first < 0)
        {
            return new StringReader(text);
        }

        var sb = new StringBuilder(text.Length);
        var start = 0;
        for (var i = first; i >= 0; i = IndexOfFormat(text, start))
        {
            sb.Append(text, start, i - start);
            start = i + 1;
        }

        sb.Append(text, start, text.Length - start);
        return new StringReader(sb.ToString());
    }

    protected override TokenStreamComponents CreateComponents(string fieldName, TextReader reader)
    {
        var source = new StandardTokenizer(Version, reader);
        TokenStream result = new EnglishPossessiveFilter(Version, source);
        result = new LowerCaseFilter(Version, result);
        if (foldToAscii)
        {
            result = new ASCIIFoldingFilter(result);
        }

        if (stopWords != KeywordStopWords.None)
        {
            result = new StopFilter(Version, result, stopWords == KeywordStopWords.Extended ? ExtendedStopSet : EnglishAnalyzer.DefaultStopSet);
        }

        result = stemmer switch
        {
            KeywordStemmer.Porter => new PorterStemFilter(result),
            KeywordStemmer.KStem => new KStemFilter(result),
            KeywordStemmer.EnglishMinimal => new EnglishMinimalStemFilter(result),
            KeywordStemmer.Snowball => new SnowballFilter(result, new EnglishStemmer()),
            _ => result,
        };

        return new TokenStreamComponents(source, result);
    }

    private static int IndexOfFormat(string text, int start)
    {
        for (var i = start; i < text.Length; i++)
        {
            // Every format character is at U+00AD or above.
            if (text[i] >= '\u00AD' && char.GetUnicodeCategory(text[i]) == UnicodeCategory.Format)
            {
                return i;
            }
        }

        return -1;
    }
}
