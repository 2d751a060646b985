using System.ComponentModel.DataAnnotations;
using RagPlatform.Core;

namespace RagPlatform.Storage.Keyword;

/// <summary>How words are reduced to a common form before indexing and searching.</summary>
public enum KeywordStemmer
{
    /// <summary>No stemming: "running" and "runs" stay different words.</summary>
    None,

    /// <summary>Porter's algorithm: aggressive, the usual choice for BM25 baselines.</summary>
    Porter,

    /// <summary>Krovetz: dictionary-backed, conservative, keeps real words.</summary>
    KStem,

    /// <summary>Plural removal only.</summary>
    EnglishMinimal,

    /// <summary>Snowball's English stemmer ("Porter2"): Porter's successor, slightly less aggressive.</summary>
    Snowball,
}

/// <summary>Which very common words are dropped from chunks and queries.</summary>
public enum KeywordStopWords
{
    /// <summary>Every word is kept.</summary>
    None,

    /// <summary>Lucene's 33 English stop words ("the", "of", "and"...), as Elasticsearch and Anserini use them.</summary>
    Lucene,

    /// <summary>Lucene's list plus about a hundred more English function words ("have", "which", "from"...).</summary>
    Extended,
}

/// <summary>Which analysed fields BM25 scores.</summary>
public enum KeywordFieldLayout
{
    /// <summary>Title and body in one field (Anserini's "flat"), plus the title alone weighted by <see cref="KeywordIndexOptions.TitleWeight"/>.</summary>
    Combined,

    /// <summary>Body and title as separate fields (Anserini's "multifield"), the title weighted by <see cref="KeywordIndexOptions.TitleWeight"/>.</summary>
    Separate,
}

/// <summary>
/// Settings of the Lucene keyword index. Analysis settings (stemmer, stop words, folding, layout)
/// are recorded in the index when it is created; opening it later with different ones fails,
/// because the index would have to be rebuilt. BM25 parameters and the title weight apply at
/// query time and can change freely.
/// </summary>
public sealed class KeywordIndexOptions
{
    /// <summary>BM25 term-frequency saturation.</summary>
    [Range(0.0, 10.0)]
    public float K1 { get; set; } = 0.9f;

    /// <summary>BM25 length normalisation: 0 ignores chunk length, 1 normalises fully.</summary>
    [Range(0.0, 1.0)]
    public float B { get; set; } = 0.4f;

    /// <summary>Extra weight of a query word found in the title, on top of its weight in the searched body field. 0: the title field is not searched on its own.</summary>
    [Range(0.0, 100.0)]
    public float TitleWeight { get; set; }

    public KeywordStemmer Stemmer { get; set; } = KeywordStemmer.Porter;

    public KeywordStopWords StopWords { get; set; } = KeywordStopWords.Lucene;

    /// <summary>Folds accented letters to ASCII ("naïve" finds "naive").</summary>
    public bool FoldToAscii { get; set; } = true;

    public KeywordFieldLayout Layout { get; set; } = KeywordFieldLayout.Combined;

    /// <summary>
    /// Distinct words of a query that are searched; the rest are ignored. Caps the cost of huge
    /// query strings. At most 1024, Lucene's clause limit.
    /// </summary>
    [Range(1, 1024)]
    public int MaxQueryTerms { get; set; } = 1024;

    /// <summary>Memory the writer buffers before flushing a segment.</summary>
    [Range(1.0, 2048.0)]
    public double RamBufferSizeMb { get; set; } = 64;

    internal void Validate()
    {
        if (!(K1 >= 0 && K1 <= 10))
        {
            throw new RagValidationException("Keyword:K1", $"is {K1}; BM25's k1 must be between 0 and 10 (1.2 is usual)");
        }

        if (!(B >= 0 && B <= 1))
        {
            throw new RagValidationException("Keyword:B", $"is {B}; BM25's b must be between 0 and 1 (0.75 is usual)");
        }

        if (!(TitleWeight >= 0 && TitleWeight <= 100))
        {
            throw new RagValidationException("Keyword:TitleWeight", $"is {TitleWeight}; it must be between 0 (title not searched alone) and 100");
        }

        if (MaxQueryTerms is < 1 or > 1024)
        {
            throw new RagValidationException("Keyword:MaxQueryTerms", $"is {MaxQueryTerms}; it must be between 1 and 1024");
        }

        if (!(RamBufferSizeMb >= 1 && RamBufferSizeMb <= 2048))
        {
            throw new RagValidationException("Keyword:RamBufferSizeMb", $"is {RamBufferSizeMb}; it must be between 1 and 2048");
        }

        if (!Enum.IsDefined(Stemmer))
        {
            throw new RagValidationException("Keyword:Stemmer", $"'{Stemmer}' is unknown; use None, Porter, KStem, EnglishMinimal or Snowball");
        }

        if (!Enum.IsDefined(StopWords))
        {
            throw new RagValidationException("Keyword:StopWords", $"'{StopWords}' is unknown; use None, Lucene or Extended");
        }

        if (!Enum.IsDefined(Layout))
        {
            throw new RagValidationException("Keyword:Layout", $"'{Layout}' is unknown; use Combined or Separate");
        }
    }
}
