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
    // Tuned on BEIR SciFact's TRAIN split only (809 queries, qrels/train.tsv), one chunk per abstract
    // (title + text), nDCG@10 with trec_eval's conventions. Grid: stemmer {Porter, Snowball, KStem,
    // EnglishMinimal, none} x stop words {Lucene, extended, none} x folding x layout {Combined,
    // Separate} x k1 {0.6..1.5} x b {0.3..1.0} x title weight {0..0.5}. Best nDCG@10 per stemmer
    // (Lucene's 1-byte lengths, title weight 0): Porter 0.7008, KStem 0.6966, EnglishMinimal 0.6878,
    // none 0.6709; Snowball and the extended stop list tied with Porter and Lucene's list (within
    // 0.001), so the standard ones stay; keeping stop words lost 0.005, the Separate layout 0.005;
    // folding changed nothing on SciFact (kept for accented text); a title weight of 0.25 added
    // 0.004; exact lengths (ExactLengthBm25Similarity) kept the best score and flattened it across b.
    // Word-pair proximity clauses (+0.001) and dropping 1-letter tokens (-0.001) were left out.
    // k1, b and the title weight form a plateau (0.703 to 0.705 for k1 0.8-1.0, b 0.4-0.9, title
    // 0.15-0.35); the chosen point is inside it and has the best sum of the two train figures below.
    //   train, one chunk per abstract:  nDCG@10 0.7042  Recall@100 0.9332  MRR@10 0.6739  MAP@100 0.6686
    //   train, ~256-token chunks:       nDCG@10 0.6946  Recall@100 0.9295
    //   test (300 queries, evaluated once with these values after choosing them on train):
    //     one chunk per abstract:  nDCG@10 0.6928  Recall@100 0.9287  MRR@10 0.6586  MAP@100 0.6509
    //     ~256-token chunks:       nDCG@10 0.6913  Recall@100 0.9142  MRR@10 0.6599  MAP@100 0.6528
    //   (published BM25 on test: Elasticsearch 0.665, Anserini flat 0.679 / 0.9253, bm25s 0.687 / 0.9127)

    /// <summary>BM25 term-frequency saturation.</summary>
    [Range(0.0, 10.0)]
    public float K1 { get; set; } = 0.8f;

    /// <summary>BM25 length normalisation: 0 ignores chunk length, 1 normalises fully.</summary>
    [Range(0.0, 1.0)]
    public float B { get; set; } = 0.75f;

    /// <summary>
    /// Extra weight of a query word found in the title, on top of its weight in the searched body field
    /// (which holds the title too). 0: the title field is not searched on its own.
    /// </summary>
    [Range(0.0, 100.0)]
    public float TitleWeight { get; set; } = 0.25f;

    public KeywordStemmer Stemmer { get; set; } = KeywordStemmer.Porter;

    public KeywordStopWords StopWords { get; set; } = KeywordStopWords.Lucene;

    /// <summary>Folds accented letters to ASCII ("naïve" finds "naive").</summary>
    public bool FoldToAscii { get; set; } = true;

    public KeywordFieldLayout Layout { get; set; } = KeywordFieldLayout.Combined;

    /// <summary>
    /// Distinct words of a query that are searched; the rest are ignored. Caps the cost of huge
    /// query strings.
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
