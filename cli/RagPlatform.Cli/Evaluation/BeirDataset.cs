using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RagPlatform.Core;
using RagPlatform.Ingestion.Pipeline;

namespace RagPlatform.Cli.Evaluation;

/// <summary>A dataset in BEIR format: <c>corpus.jsonl</c>, <c>queries.jsonl</c>, <c>qrels/SPLIT.tsv</c>.</summary>
internal sealed class BeirDataset(string directory)
{
    public string Directory { get; } = directory;

    public string CorpusPath => Path.Combine(Directory, "corpus.jsonl");

    /// <summary>One document per corpus line: the BEIR id is the external key, title and text as given.</summary>
    public IEnumerable<(string Id, string Title, string Text)> ReadCorpus()
    {
        if (!File.Exists(CorpusPath))
        {
            throw new RagValidationException("DATASET_DIR", $"{CorpusPath} does not exist; a BEIR dataset has corpus.jsonl, queries.jsonl and qrels/SPLIT.tsv");
        }

        var line = 0;
        foreach (var text in File.ReadLines(CorpusPath))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            using var json = Parse(text, CorpusPath, line);
            var root = json.RootElement;
            yield return (Id(root, CorpusPath, line), root.TryGetProperty("title", out var t) ? t.GetString() ?? string.Empty : string.Empty, root.TryGetProperty("text", out var b) ? b.GetString() ?? string.Empty : string.Empty);
        }
    }

    /// <summary>The corpus as pipeline items: each document's text as plain text, its title as the document title, keyed by its id.</summary>
    public List<IngestItem> CorpusItems(int? limit = null)
    {
        var items = new List<IngestItem>();
        foreach (var (id, title, text) in ReadCorpus())
        {
            if (limit is { } max && items.Count >= max)
            {
                break;
            }

            var bytes = Encoding.UTF8.GetBytes(text);
            items.Add(new IngestItem
            {
                ExternalKey = id,
                FileName = id + ".txt",
                ContentType = "text/plain",
                Title = title,
                Size = bytes.Length,
                // The content's own hash: a size alone would miss an edit that keeps the length.
                SourceStamp = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(title + "\n" + text))),
                ReadAsync = _ => ValueTask.FromResult<ReadOnlyMemory<byte>>(bytes),
            });
        }

        return items;
    }

    public Dictionary<string, string> ReadQueries()
    {
        var path = Path.Combine(Directory, "queries.jsonl");
        if (!File.Exists(path))
        {
            throw new RagValidationException("DATASET_DIR", $"{path} does not exist; a BEIR dataset has corpus.jsonl, queries.jsonl and qrels/SPLIT.tsv");
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            using var json = Parse(text, path, line);
            if (!json.RootElement.TryGetProperty("text", out var query) || query.ValueKind != JsonValueKind.String)
            {
                throw new RagValidationException("DATASET_DIR", $"{path} line {line} has no \"text\" string; each query is {{\"_id\": ..., \"text\": ...}}");
            }

            result[Id(json.RootElement, path, line)] = query.GetString()!;
        }

        return result;
    }

    /// <summary>
    /// Relevance judgements: query id to (document id to grade); grades above 0 are relevant.
    /// The first line may be a header (<c>query-id corpus-id score</c>); any other malformed line is an error.
    /// </summary>
    public Dictionary<string, Dictionary<string, int>> ReadQrels(string split)
    {
        var path = Path.Combine(Directory, "qrels", split + ".tsv");
        if (!File.Exists(path))
        {
            var qrels = Path.Combine(Directory, "qrels");
            var splits = System.IO.Directory.Exists(qrels) ? System.IO.Directory.GetFiles(qrels, "*.tsv").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToList() : [];
            throw new RagValidationException("--split", $"{path} does not exist; the splits here are: {(splits.Count == 0 ? "none (no qrels/*.tsv)" : string.Join(", ", splits))}");
        }

        var result = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        var line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            var parts = text.Split('\t');
            if (parts.Length < 3 || !int.TryParse(parts[^1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var grade))
            {
                if (line == 1)
                {
                    continue;
                }

                throw new RagValidationException("DATASET_DIR", $"{path} line {line} is not 'query-id<TAB>corpus-id<TAB>score' with an integer score");
            }

            // TREC's four-column form (query, iteration, document, grade) is read too.
            var (queryId, documentId) = parts.Length >= 4 ? (parts[0], parts[2]) : (parts[0], parts[1]);
            if (!result.TryGetValue(queryId, out var docs))
            {
                docs = new Dictionary<string, int>(StringComparer.Ordinal);
                result[queryId] = docs;
            }

            docs[documentId] = grade;
        }

        return result;
    }

    /// <summary>Fails, saying what a BEIR dataset holds, when the corpus or the queries are missing.</summary>
    public void EnsureExists()
    {
        foreach (var file in new[] { CorpusPath, Path.Combine(Directory, "queries.jsonl") })
        {
            if (!File.Exists(file))
            {
                throw new RagValidationException("DATASET_DIR", $"{file} does not exist; a BEIR dataset has corpus.jsonl, queries.jsonl and qrels/SPLIT.tsv");
            }
        }
    }

    /// <summary>The queries of a split: every query the split's qrels judge, with its judgements, in qrels order.</summary>
    public List<BeirQuery> ReadSplit(string split)
    {
        var qrels = ReadQrels(split);
        var queries = ReadQueries();
        var missing = qrels.Keys.Where(id => !queries.ContainsKey(id)).ToList();
        if (missing.Count > 0)
        {
            throw new RagValidationException("DATASET_DIR", $"qrels/{split}.tsv judges {missing.Count} queries that queries.jsonl does not have (first: '{missing[0]}'); the dataset is incomplete");
        }

        return qrels.Select(q => new BeirQuery(q.Key, queries[q.Key], q.Value)).ToList();
    }

    private static JsonDocument Parse(string text, string path, int line)
    {
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException ex)
        {
            throw new RagValidationException("DATASET_DIR", $"{path} line {line} is not valid JSON ({ex.Message})");
        }
    }

    private static string Id(JsonElement root, string path, int line)
        => root.TryGetProperty("_id", out var id)
            ? (id.ValueKind == JsonValueKind.Number ? id.GetRawText() : id.GetString() ?? string.Empty)
            : throw new RagValidationException("DATASET_DIR", $"{path} line {line} has no _id");
}

/// <summary>One query of a split and its relevance judgements (document id to grade).</summary>
internal sealed record BeirQuery(string Id, string Text, IReadOnlyDictionary<string, int> Judgements);
