using System.Text.Json;
using RagPlatform.Core;

namespace RagPlatform.Inference.Models;

/// <summary>
/// Infers a <see cref="ModelConfiguration"/> from the files a sentence-transformers export ships
/// (<c>sentence_bert_config.json</c>, <c>1_Pooling/config.json</c>, <c>modules.json</c>,
/// <c>tokenizer_config.json</c>, <c>config_sentence_transformers.json</c>), so a downloaded model
/// directory works without writing <c>rag-model.json</c>.
/// </summary>
internal static class SentenceTransformersConfig
{
    private const string BertConfig = "sentence_bert_config.json";
    private const string ModulesConfig = "modules.json";
    private const string TokenizerConfig = "tokenizer_config.json";
    private const string PromptsConfig = "config_sentence_transformers.json";
    private static readonly string[] PoolingConfigs = [Path.Combine("1_Pooling", "config.json"), "pooling_config.json"];
    private static readonly string[] UnsupportedPoolingModes =
        ["pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"];

    private static readonly JsonDocumentOptions JsonOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    public static bool IsPresent(string dir)
        => File.Exists(Path.Combine(dir, BertConfig)) || PoolingConfigs.Any(p => File.Exists(Path.Combine(dir, p)));

    public static ModelConfiguration Infer(string dir, ModelKind kind)
    {
        var source = $"the sentence-transformers configuration in {dir}";
        var pooling = PoolingMode.Mean;
        var poolingPath = PoolingConfigs.Select(p => Path.Combine(dir, p)).FirstOrDefault(File.Exists);
        if (poolingPath is not null)
        {
            pooling = ReadPooling(poolingPath);
        }
        else if (kind == ModelKind.Embedder)
        {
            throw new RagValidationException(
                Path.Combine(dir, BertConfig),
                $"found, but neither 1_Pooling/config.json nor pooling_config.json is in {dir}, so the pooling is unknown. " +
                $"Copy the model's 1_Pooling/config.json there, or write {Path.Combine(dir, ModelConfiguration.FileName)} with \"pooling\": \"mean\" or \"cls\".");
        }

        int? maxTokens = null;
        bool? stLowercase = null;
        WithJson(Path.Combine(dir, BertConfig), (reader, _) =>
        {
            maxTokens = reader.Integer("max_seq_length", 8, 8192);
            stLowercase = reader.Boolean("do_lower_case");
        });

        // Sentence-transformers appends a Normalize module when the model was trained for cosine;
        // with no modules.json we normalise, because our vector index takes dot product as cosine.
        var normalize = true;
        WithJson(Path.Combine(dir, ModulesConfig), (_, root) =>
        {
            normalize = root.ValueKind == JsonValueKind.Array && root.EnumerateArray().Any(m =>
                m.ValueKind == JsonValueKind.Object && m.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String &&
                type.GetString()!.EndsWith(".Normalize", StringComparison.Ordinal));
        });

        string? queryPrefix = null;
        string? passagePrefix = null;
        WithJson(Path.Combine(dir, PromptsConfig), (_, root) =>
        {
            if (root.TryGetProperty("prompts", out var prompts) && prompts.ValueKind == JsonValueKind.Object)
            {
                var reader = new ModelConfiguration.JsonReader(Path.Combine(dir, PromptsConfig), prompts);
                queryPrefix = reader.String("query");
                passagePrefix = reader.String("passage") ?? reader.String("document");
            }
        });

        return new ModelConfiguration
        {
            Directory = dir,
            Name = Path.GetFileName(dir),
            Pooling = pooling,
            Normalize = normalize,
            MaxTokens = maxTokens ?? 512,
            QueryPrefix = queryPrefix ?? string.Empty,
            PassagePrefix = passagePrefix ?? string.Empty,
            // sentence_bert_config's do_lower_case is an extra lowering step; the tokenizer's own setting decides the vocabulary.
            Lowercase = ReadTokenizerLowercase(dir) ?? stLowercase ?? true,
            ModelPath = Path.Combine(dir, "model.onnx"),
            VocabPath = Path.Combine(dir, "vocab.txt"),
            Source = source,
        };
    }

    /// <summary><c>do_lower_case</c> from <c>tokenizer_config.json</c>, when that file is present.</summary>
    public static bool? ReadTokenizerLowercase(string dir)
    {
        bool? lowercase = null;
        WithJson(Path.Combine(dir, TokenizerConfig), (reader, _) => lowercase = reader.Boolean("do_lower_case"));
        return lowercase;
    }

    private static PoolingMode ReadPooling(string path)
    {
        var mode = PoolingMode.Mean;
        WithJson(path, (reader, root) =>
        {
            foreach (var unsupported in UnsupportedPoolingModes)
            {
                if (reader.Boolean(unsupported) == true)
                {
                    throw new RagValidationException(
                        path,
                        $"{unsupported} is true, but only mean and CLS pooling are supported. Use a model with mean or CLS pooling, " +
                        $"or write {ModelConfiguration.FileName} next to model.onnx if the model also works with one of those.");
                }
            }

            var cls = reader.Boolean("pooling_mode_cls_token") == true;
            var mean = reader.Boolean("pooling_mode_mean_tokens") == true;
            mode = (cls, mean) switch
            {
                (true, false) => PoolingMode.Cls,
                (false, true) => PoolingMode.Mean,
                _ => throw new RagValidationException(
                    path,
                    "exactly one of pooling_mode_cls_token and pooling_mode_mean_tokens must be true. " +
                    $"Fix the file, or write {ModelConfiguration.FileName} with \"pooling\": \"mean\" or \"cls\"."),
            };
        });
        return mode;
    }

    private static void WithJson(string path, Action<ModelConfiguration.JsonReader, JsonElement> read)
    {
        if (!File.Exists(path))
        {
            return;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path), JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new RagValidationException(path, $"is not valid JSON ({ex.Message}). Restore the file from the model's distribution.");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object && root.ValueKind != JsonValueKind.Array)
            {
                throw new RagValidationException(path, "must hold a JSON object. Restore the file from the model's distribution.");
            }

            read(new ModelConfiguration.JsonReader(path, root), root);
        }
    }
}
