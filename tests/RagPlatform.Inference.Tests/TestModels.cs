using System.Numerics.Tensors;
using System.Security.Cryptography;
using System.Text.Json;
using RagPlatform.Core.Configuration;
using RagPlatform.Testing;

namespace RagPlatform.Inference.Tests;

/// <summary>
/// Temporary model directories over the synthetic tiny BERT models in ../shared. The
/// rag-model.json written here points at the shared files by absolute path; they are never copied.
/// </summary>
internal static class TestModels
{
    /// <summary>Words that are one WordPiece each in the uncased BERT vocabulary.</summary>
    public static readonly string[] SingleTokenWords =
    [
        "the", "index", "search", "model", "query", "document", "answer", "green", "river", "house",
        "music", "water", "light", "stone", "paper", "table", "window", "garden", "city", "road",
    ];

    public static EmbeddingOptions Options(int batchSize = 4) => new() { BatchSize = batchSize, IntraOpThreads = 1 };

    /// <summary>The rag-model.json of the tiny embedder, with <paramref name="overrides"/> applied (null removes a key).</summary>
    public static Dictionary<string, object?> EmbedderConfig(params (string Key, object? Value)[] overrides)
    {
        var config = new Dictionary<string, object?>
        {
            ["name"] = "tiny",
            ["pooling"] = "mean",
            ["normalize"] = true,
            ["max_tokens"] = 64,
            ["lowercase"] = true,
            ["model_file"] = RepositoryPaths.TinyEmbedderModel,
            ["vocab_file"] = RepositoryPaths.BertVocab,
        };
        foreach (var (key, value) in overrides)
        {
            if (value is null)
            {
                config.Remove(key);
            }
            else
            {
                config[key] = value;
            }
        }

        return config;
    }

    public static TempDirectory EmbedderDirectory(params (string Key, object? Value)[] overrides)
    {
        var dir = new TempDirectory("model");
        dir.Write("rag-model.json", JsonSerializer.Serialize(EmbedderConfig(overrides)));
        return dir;
    }

    public static TempDirectory CrossEncoderDirectory(params (string Key, object? Value)[] overrides)
    {
        var config = new Dictionary<string, object?>
        {
            ["name"] = "tiny-ce",
            ["max_tokens"] = 32,
            ["model_file"] = RepositoryPaths.TinyCrossEncoderModel,
            ["vocab_file"] = RepositoryPaths.BertVocab,
        };
        foreach (var (key, value) in overrides)
        {
            config[key] = value;
        }

        var dir = new TempDirectory("reranker");
        dir.Write("rag-model.json", JsonSerializer.Serialize(config));
        return dir;
    }

    /// <summary>A text of <paramref name="count"/> single-piece words, starting at word <paramref name="offset"/>.</summary>
    public static string Words(int count, int offset = 0)
        => string.Join(' ', Enumerable.Range(offset, count).Select(i => SingleTokenWords[i % SingleTokenWords.Length]));

    public static string Sha256Hex(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static float Cosine(ReadOnlyMemory<float> a, ReadOnlyMemory<float> b) => TensorPrimitives.CosineSimilarity(a.Span, b.Span);
}
