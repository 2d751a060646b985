using System.Text.Json;

namespace RagPlatform.Testing;

/// <summary>
/// Model directories for the synthetic tiny BERT models in ../shared (random weights: they test
/// code paths, not quality). The rag-model.json written here points at the shared files by
/// absolute path; the models are never copied.
/// </summary>
public static class SharedModels
{
    /// <summary>A directory configuring the tiny embedder (32 dimensions, mean pooling).</summary>
    public static TempDirectory Embedder(int maxTokens = 128)
    {
        var dir = new TempDirectory("embedder");
        dir.Write("rag-model.json", JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["name"] = "tiny-test",
            ["pooling"] = "mean",
            ["normalize"] = true,
            ["max_tokens"] = maxTokens,
            ["lowercase"] = true,
            ["model_file"] = RepositoryPaths.TinyEmbedderModel,
            ["vocab_file"] = RepositoryPaths.BertVocab,
        }));
        return dir;
    }

    /// <summary>A directory configuring the tiny cross-encoder.</summary>
    public static TempDirectory CrossEncoder(int maxTokens = 256)
    {
        var dir = new TempDirectory("reranker");
        dir.Write("rag-model.json", JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["name"] = "tiny-cross-encoder-test",
            ["max_tokens"] = maxTokens,
            ["lowercase"] = true,
            ["model_file"] = RepositoryPaths.TinyCrossEncoderModel,
            ["vocab_file"] = RepositoryPaths.BertVocab,
        }));
        return dir;
    }
}
