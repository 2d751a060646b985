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

    /// <summary>The corpus as pipeline items: each document's text, titled, keyed by its id.</summary>
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
                SourceStamp = id + ":" + bytes.Length,
                ReadAsync = _ => ValueTask.FromResult<ReadOnlyMemory<byte>>(bytes),
            });
        }

        return items;
    }

    public Dictionary<string, string> ReadQueries()
    {
        var path = Path.Combine(Directory, "queries.jsonl");
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
            result[Id(json.RootElement, path, line)] = json.RootElement.GetProperty("text").GetString() ?? string.Empty;
        }

        return result;
    }

    /// <summary>Relevance judgements: query id to (document id to grade); grades above 0 are relevant.</summary>
    public Dictionary<string, Dictionary<string, int>> ReadQrels(string split)
    {
        var path = Path.Combine(Directory, "qrels", split + ".tsv");
        if (!File.Exists(path))
        {
            throw new RagValidationException("--split", $"{path} does not exist; the splits here are: {string.Join(", ", System.IO.Directory.Exists(Path.Combine(Directory, "qrels")) ? System.IO.Directory.GetFiles(Path.Combine(Directory, "qrels"), "*.tsv").Select(Path.GetFileNameWithoutExtension) : [])}");
        }

        var result = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        foreach (var text in File.ReadLines(path).Skip(1))
        {
            var parts = text.Split('\t');
            if (parts.Length < 3 || !int.TryParse(parts[2], System.Globalization.CultureInfo.InvariantCulture, out var grade))
            {
                continue;
            }

            if (!result.TryGetValue(parts[0], out var docs))
            {
                docs = new Dictionary<string, int>(StringComparer.Ordinal);
                result[parts[0]] = docs;
            }

            docs[parts[1]] = grade;
        }

        return result;
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
