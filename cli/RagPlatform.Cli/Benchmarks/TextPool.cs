using System.Text.RegularExpressions;
using RagPlatform.Cli.Evaluation;

namespace RagPlatform.Cli.Benchmarks;

/// <summary>
/// Real scientific prose to build synthetic documents from: the sentences and titles of a BEIR corpus
/// (SciFact by default), and its queries as the benchmark's queries. Realistic text matters here: BM25's cost
/// follows the lengths of the query terms' postings, which follow the vocabulary's real (Zipf-like) spread.
/// </summary>
internal sealed partial class TextPool
{
    private TextPool(IReadOnlyList<string> sentences, IReadOnlyList<string> titles, IReadOnlyList<string> queries, string origin)
    {
        Sentences = sentences;
        Titles = titles;
        Queries = queries;
        Origin = origin;
    }

    public IReadOnlyList<string> Sentences { get; }

    public IReadOnlyList<string> Titles { get; }

    public IReadOnlyList<string> Queries { get; }

    /// <summary>Where the text came from, for the report.</summary>
    public string Origin { get; }

    /// <summary>Reads a BEIR dataset in place; fails naming the directory when it is not there.</summary>
    public static TextPool FromBeir(string directory)
    {
        var dataset = new BeirDataset(directory);
        if (!File.Exists(dataset.CorpusPath))
        {
            throw new FileNotFoundException(
                $"rag bench query builds its documents from the sentences of a BEIR corpus and found none at {dataset.CorpusPath}. " +
                "Restore ../shared/datasets/scifact next to the repository, set RAG_SHARED_DIR, or pass --dataset DIR.",
                dataset.CorpusPath);
        }

        var sentences = new List<string>();
        var titles = new List<string>();
        foreach (var (_, title, text) in dataset.ReadCorpus())
        {
            if (!string.IsNullOrWhiteSpace(title))
            {
                titles.Add(title.Trim());
            }

            foreach (var sentence in SentenceEnd().Split(text))
            {
                var s = sentence.Trim();

                // Fragments (abbreviations cut short) and run-ons (tables flattened into text) are left out.
                if (s.Length is >= 20 and <= 400)
                {
                    sentences.Add(s);
                }
            }
        }

        var queries = dataset.ReadQueries().Values.Where(q => !string.IsNullOrWhiteSpace(q)).ToList();
        if (sentences.Count == 0 || titles.Count == 0 || queries.Count == 0)
        {
            throw new InvalidDataException($"The BEIR dataset at {directory} has no usable sentences, titles or queries; rag bench query needs all three.");
        }

        return new TextPool(sentences, titles, queries, directory);
    }

    [GeneratedRegex(@"(?<=[.!?])\s+(?=[A-Z0-9(])")]
    private static partial Regex SentenceEnd();
}
