using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using RagPlatform.Core;

namespace RagPlatform.Inference.Models;

internal enum PoolingMode
{
    Mean,
    Cls,
}

internal enum ModelKind
{
    Embedder,
    CrossEncoder,
}

/// <summary>
/// What a model directory says about its model: files, tokenizer settings, pooling, limits. Read
/// from <c>rag-model.json</c>, or inferred from the sentence-transformers files when that is
/// absent. Every error names the file, the key and what to write, because the person who sees it
/// is editing a directory by hand.
/// </summary>
internal sealed record ModelConfiguration
{
    public const string FileName = "rag-model.json";

    // BERT position tables have 512 rows; longer limits fail inside the model with an index error.
    private const int DefaultMaxTokens = 512;
    private const int MinMaxTokens = 8;
    private const int MaxMaxTokens = 8192;

    private static readonly string[] KnownKeys =
        ["name", "pooling", "normalize", "max_tokens", "query_prefix", "passage_prefix", "lowercase", "model_file", "vocab_file", "sha256", "output"];

    private static readonly JsonDocumentOptions JsonOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    public required string Directory { get; init; }

    public required string Name { get; init; }

    public PoolingMode Pooling { get; init; } = PoolingMode.Mean;

    public bool Normalize { get; init; } = true;

    public int MaxTokens { get; init; } = DefaultMaxTokens;

    public string QueryPrefix { get; init; } = string.Empty;

    public string PassagePrefix { get; init; } = string.Empty;

    public bool Lowercase { get; init; } = true;

    public required string ModelPath { get; init; }

    public required string VocabPath { get; init; }

    /// <summary>The expected sha256 of the model file (lowercase hex), or null when not pinned.</summary>
    public string? Sha256 { get; init; }

    /// <summary>The ONNX output to read, or null to pick the usual one.</summary>
    public string? OutputName { get; init; }

    /// <summary>Where the settings came from, for messages: the rag-model.json path, or the sentence-transformers files.</summary>
    public required string Source { get; init; }

    /// <summary>
    /// Reads the configuration of the model in <paramref name="directory"/>.
    /// <paramref name="settingName"/> is the option that named the directory, so a missing
    /// directory points at the setting to change.
    /// </summary>
    public static ModelConfiguration Load(string directory, ModelKind kind, string settingName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var dir = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(dir))
        {
            throw new RagValidationException(
                settingName,
                $"the model directory '{dir}' does not exist. Set it to a directory holding model.onnx, vocab.txt and {FileName}.");
        }

        var configPath = Path.Combine(dir, FileName);
        ModelConfiguration config;
        if (File.Exists(configPath))
        {
            config = FromRagModelJson(dir, configPath, kind);
        }
        else if (SentenceTransformersConfig.IsPresent(dir))
        {
            config = SentenceTransformersConfig.Infer(dir, kind);
        }
        else if (kind == ModelKind.CrossEncoder)
        {
            // A cross-encoder needs no pooling decision, so plain files with BERT defaults suffice.
            config = new ModelConfiguration
            {
                Directory = dir,
                Name = Path.GetFileName(dir),
                Lowercase = SentenceTransformersConfig.ReadTokenizerLowercase(dir) ?? true,
                ModelPath = Path.Combine(dir, "model.onnx"),
                VocabPath = Path.Combine(dir, "vocab.txt"),
                Source = $"defaults (no {FileName} in {dir})",
            };
        }
        else
        {
            throw new RagValidationException(
                settingName,
                $"'{dir}' has no {FileName} and no sentence-transformers configuration, so the pooling is unknown. " +
                $"Write {configPath} such as {{\"name\":\"all-MiniLM-L6-v2\",\"pooling\":\"mean\",\"normalize\":true,\"max_tokens\":256}}, " +
                "or add the model's sentence_bert_config.json and 1_Pooling/config.json.");
        }

        config.CheckFilesExist();
        return config;
    }

    /// <summary>Computes the model file's sha256 and, when the configuration pins one, checks it.</summary>
    public string VerifyModelHash()
    {
        string actual;
        using (var stream = new FileStream(ModelPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 20))
        {
            actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        }

        if (Sha256 is not null && !string.Equals(actual, Sha256, StringComparison.Ordinal))
        {
            throw new RagValidationException(
                Source,
                $"sha256 is {Sha256}, but the model file {ModelPath} has sha256 {actual}. " +
                "The file is not the model this configuration names: replace the file with the right one, or update sha256 if the new file is intended.");
        }

        return actual;
    }

    private void CheckFilesExist()
    {
        CheckFile(ModelPath, "model_file", "the model's ONNX file");
        CheckFile(VocabPath, "vocab_file", "the model's WordPiece vocab.txt");
    }

    private void CheckFile(string path, string key, string what)
    {
        if (File.Exists(path))
        {
            return;
        }

        throw new RagValidationException(
            Source,
            $"{key} points at {path}, which does not exist. Put {what} there, or set {key} in {Path.Combine(Directory, FileName)} " +
            "to its path (absolute, or relative to the model directory).");
    }

    private static ModelConfiguration FromRagModelJson(string dir, string path, ModelKind kind)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path), JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new RagValidationException(
                path,
                $"is not valid JSON ({ex.Message}). Write one object such as {{\"name\":\"all-MiniLM-L6-v2\",\"pooling\":\"mean\",\"normalize\":true,\"max_tokens\":256}}.");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new RagValidationException(path, $"must hold one JSON object, got {root.ValueKind.ToString().ToLowerInvariant()}.");
            }

            foreach (var property in root.EnumerateObject())
            {
                if (Array.IndexOf(KnownKeys, property.Name) < 0)
                {
                    throw new RagValidationException(
                        path,
                        $"unknown key '{property.Name}'. The keys are: {string.Join(", ", KnownKeys)}.");
                }
            }

            var reader = new JsonReader(path, root);
            var pooling = reader.String("pooling");
            if (pooling is null && kind == ModelKind.Embedder)
            {
                throw new RagValidationException(
                    path,
                    "pooling is missing: write \"pooling\": \"mean\" (all-MiniLM-L6-v2 and most sentence-transformers) or \"pooling\": \"cls\" (bge). " +
                    "The model card or 1_Pooling/config.json says which.");
            }

            var sha = reader.String("sha256");
            if (sha is not null && (sha.Length != 64 || !sha.All(char.IsAsciiHexDigit)))
            {
                throw new RagValidationException(path, $"sha256 must be 64 hex digits (the output of sha256sum model.onnx) or null, got '{sha}'.");
            }

            var output = reader.String("output");
            if (output is { Length: 0 })
            {
                throw new RagValidationException(path, "output must name one of the model's outputs (e.g. \"last_hidden_state\"), or be left out.");
            }

            return new ModelConfiguration
            {
                Directory = dir,
                Name = NonEmpty(path, "name", reader.String("name")) ?? Path.GetFileName(dir),
                Pooling = pooling switch
                {
                    null or "mean" => PoolingMode.Mean,
                    "cls" => PoolingMode.Cls,
                    _ => throw new RagValidationException(path, $"pooling must be 'mean' or 'cls', got '{pooling}'."),
                },
                Normalize = reader.Boolean("normalize") ?? true,
                MaxTokens = reader.Integer("max_tokens", MinMaxTokens, MaxMaxTokens) ?? DefaultMaxTokens,
                QueryPrefix = reader.String("query_prefix") ?? string.Empty,
                PassagePrefix = reader.String("passage_prefix") ?? string.Empty,
                Lowercase = reader.Boolean("lowercase") ?? true,
                ModelPath = Path.GetFullPath(NonEmpty(path, "model_file", reader.String("model_file")) ?? "model.onnx", dir),
                VocabPath = Path.GetFullPath(NonEmpty(path, "vocab_file", reader.String("vocab_file")) ?? "vocab.txt", dir),
                Sha256 = sha?.ToLowerInvariant(),
                OutputName = output,
                Source = path,
            };
        }
    }

    private static string? NonEmpty(string path, string key, string? value)
        => value is not null && string.IsNullOrWhiteSpace(value)
            ? throw new RagValidationException(path, $"{key} must not be empty: give a value or leave the key out.")
            : value;

    /// <summary>Typed access to the keys of a JSON object, with messages that say what to write.</summary>
    internal readonly struct JsonReader(string path, JsonElement root)
    {
        public string? String(string key)
        {
            if (!TryGet(key, out var value))
            {
                return null;
            }

            return value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : throw new RagValidationException(path, $"{key} must be a string in double quotes, got {value.GetRawText()}.");
        }

        public bool? Boolean(string key)
        {
            if (!TryGet(key, out var value))
            {
                return null;
            }

            return value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new RagValidationException(path, $"{key} must be true or false, got {value.GetRawText()}."),
            };
        }

        public int? Integer(string key, int min, int max)
        {
            if (!TryGet(key, out var value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number) || number < min || number > max)
            {
                throw new RagValidationException(
                    path,
                    string.Create(CultureInfo.InvariantCulture, $"{key} must be a whole number from {min} to {max}, got {value.GetRawText()}."));
            }

            return number;
        }

        private bool TryGet(string key, out JsonElement value)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new RagValidationException(path, $"must hold a JSON object (reading {key}), got {root.ValueKind.ToString().ToLowerInvariant()}.");
            }

            return root.TryGetProperty(key, out value) && value.ValueKind != JsonValueKind.Null;
        }
    }
}
