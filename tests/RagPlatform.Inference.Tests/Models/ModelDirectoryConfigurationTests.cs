using System.Text.Json;
using RagPlatform.Core;
using RagPlatform.Inference.Embeddings;
using RagPlatform.Inference.Models;
using RagPlatform.Testing;
using static RagPlatform.Inference.Tests.TestModels;

namespace RagPlatform.Inference.Tests.Models;

/// <summary>Every way a model directory can be wrong fails at load with the file, the key and what to write.</summary>
public sealed class ModelDirectoryConfigurationTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public void Missing_directory_names_the_setting_and_the_path()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"rag-no-such-model-{Guid.NewGuid():N}");

        var error = Assert.Throws<RagValidationException>(() => OnnxEmbeddingGenerator.Load(missing, Options()));

        Assert.Equal("Rag:Embeddings:ModelDirectory", error.Field);
        Assert.Contains($"the model directory '{missing}' does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_model_file_names_the_key_and_the_expected_path()
    {
        using var dir = EmbedderDirectory(("model_file", "weights/model.onnx"));

        var error = Assert.Throws<RagValidationException>(() => OnnxEmbeddingGenerator.Load(dir.Path, Options()));

        Assert.Contains($"model_file points at {dir.Combine("weights", "model.onnx")}, which does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_model_file_is_looked_for_in_the_directory()
    {
        using var dir = EmbedderDirectory(("model_file", null));

        var error = Assert.Throws<RagValidationException>(() => OnnxEmbeddingGenerator.Load(dir.Path, Options()));

        Assert.Contains($"model_file points at {dir.Combine("model.onnx")}, which does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_vocabulary_names_the_key()
    {
        using var dir = EmbedderDirectory(("vocab_file", "/nonexistent/vocab.txt"));

        var error = Assert.Throws<RagValidationException>(() => OnnxEmbeddingGenerator.Load(dir.Path, Options()));

        Assert.Contains("vocab_file points at /nonexistent/vocab.txt, which does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Directory_without_any_configuration_says_what_to_write()
    {
        using var dir = new TempDirectory("model");

        var error = Assert.Throws<RagValidationException>(() => OnnxEmbeddingGenerator.Load(dir.Path, Options()));

        Assert.Contains("has no rag-model.json and no sentence-transformers configuration", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"pooling\":\"mean\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_json_is_reported_with_the_file()
    {
        using var dir = new TempDirectory("model");
        dir.Write("rag-model.json", "{\"name\": \"tiny\", \"pooling\": mean}");

        var error = Assert.Throws<RagValidationException>(() => OnnxEmbeddingGenerator.Load(dir.Path, Options()));

        Assert.StartsWith(dir.Combine("rag-model.json") + ": is not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsupported_pooling_names_the_key_and_the_choices()
    {
        using var dir = EmbedderDirectory(("pooling", "max"));

        var error = Assert.Throws<RagValidationException>(() => OnnxEmbeddingGenerator.Load(dir.Path, Options()));

        Assert.EndsWith("rag-model.json: pooling must be 'mean' or 'cls', got 'max'.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_pooling_is_an_error_for_an_embedder()
    {
        using var dir = EmbedderDirectory(("pooling", null));

        var error = Assert.Throws<RagValidationException>(() => OnnxEmbeddingGenerator.Load(dir.Path, Options()));

        Assert.Contains("rag-model.json: pooling is missing: write \"pooling\": \"mean\"", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("normalize", "\"yes\"", "normalize must be true or false, got \"yes\"")]
    [InlineData("max_tokens", "\"256\"", "max_tokens must be a whole number from 8 to 8192, got \"256\"")]
    [InlineData("max_tokens", "4", "max_tokens must be a whole number from 8 to 8192, got 4")]
    [InlineData("query_prefix", "7", "query_prefix must be a string in double quotes, got 7")]
    [InlineData("sha256", "\"abc\"", "sha256 must be 64 hex digits")]
    [InlineData("poolng", "\"cls\"", "unknown key 'poolng'. The keys are: name, pooling,")]
    public void Wrongly_typed_values_name_the_key_and_the_value(string key, string rawValue, string expected)
    {
        using var dir = new TempDirectory("model");
        var json = JsonSerializer.Serialize(EmbedderConfig());
        dir.Write("rag-model.json", json.TrimEnd('}') + $",\"{key}\":{rawValue}}}");

        var error = Assert.Throws<RagValidationException>(() => OnnxEmbeddingGenerator.Load(dir.Path, Options()));

        Assert.Contains("rag-model.json: " + expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sha256_mismatch_names_both_hashes()
    {
        var wrong = new string('a', 64);
        using var dir = EmbedderDirectory(("sha256", wrong));

        var error = Assert.Throws<RagValidationException>(() => OnnxEmbeddingGenerator.Load(dir.Path, Options()));

        Assert.Contains($"sha256 is {wrong}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"has sha256 {Sha256Hex(RepositoryPaths.TinyEmbedderModel)}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Matching_sha256_in_any_case_loads()
    {
        using var dir = EmbedderDirectory(("sha256", Sha256Hex(RepositoryPaths.TinyEmbedderModel).ToUpperInvariant()));

        using var embedder = OnnxEmbeddingGenerator.Load(dir.Path, Options());

        Assert.Single(await embedder.GenerateAsync(["pinned model"], cancellationToken: Token));
    }

    [Fact]
    public void Corrupt_model_file_is_rejected_with_a_reason()
    {
        using var dir = new TempDirectory("model");
        var corrupt = dir.Write("broken.onnx", Enumerable.Range(0, 4096).Select(i => (byte)(i * 31)).ToArray());
        dir.Write("rag-model.json", JsonSerializer.Serialize(EmbedderConfig(("model_file", corrupt))));

        var error = Assert.Throws<RagValidationException>(() => OnnxEmbeddingGenerator.Load(dir.Path, Options()));

        Assert.StartsWith(corrupt + ": is not a model ONNX Runtime can load", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unreadable_vocabulary_is_rejected_with_a_reason()
    {
        using var dir = new TempDirectory("model");
        var vocab = dir.Write("vocab.txt", "hello\nworld\n");
        dir.Write("rag-model.json", JsonSerializer.Serialize(EmbedderConfig(("vocab_file", vocab))));

        var error = Assert.Throws<RagValidationException>(() => OnnxEmbeddingGenerator.Load(dir.Path, Options()));

        Assert.StartsWith(vocab + ": cannot be read as a BERT WordPiece vocabulary", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Max_tokens_beyond_the_model_position_limit_fails_at_load()
    {
        // The synthetic models have 512 positions, as BERT does.
        using var dir = EmbedderDirectory(("max_tokens", 600));
        using var rerankerDir = CrossEncoderDirectory(("max_tokens", 513));

        var error = Assert.Throws<RagValidationException>(() => OnnxEmbeddingGenerator.Load(dir.Path, Options()));
        var rerankerError = Assert.Throws<RagValidationException>(() => Inference.Reranking.OnnxCrossEncoderReranker.Load(rerankerDir.Path, 1));

        Assert.Contains($"rag-model.json: max_tokens is 600, but the model {RepositoryPaths.TinyEmbedderModel} fails on a sequence that long", error.Message, StringComparison.Ordinal);
        Assert.Contains("Lower max_tokens in", error.Message, StringComparison.Ordinal);
        Assert.Contains("max_tokens is 513", rerankerError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_output_name_lists_the_model_outputs()
    {
        using var dir = EmbedderDirectory(("output", "sentence_vector"));

        var error = Assert.Throws<RagValidationException>(() => OnnxEmbeddingGenerator.Load(dir.Path, Options()));

        Assert.Contains("output names 'sentence_vector', but the model", error.Message, StringComparison.Ordinal);
        Assert.Contains("last_hidden_state [-1,-1,32]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sentence_transformers_files_stand_in_for_rag_model_json()
    {
        using var dir = new TempDirectory("st-model");
        File.CreateSymbolicLink(dir.Combine("model.onnx"), RepositoryPaths.TinyEmbedderModel);
        File.CreateSymbolicLink(dir.Combine("vocab.txt"), RepositoryPaths.BertVocab);
        dir.Write("sentence_bert_config.json", "{\"max_seq_length\": 128, \"do_lower_case\": false}");
        dir.Write("1_Pooling/config.json", "{\"word_embedding_dimension\": 32, \"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": false}");
        dir.Write("modules.json", "[{\"type\": \"sentence_transformers.models.Transformer\"}, {\"type\": \"sentence_transformers.models.Pooling\"}]");
        dir.Write("tokenizer_config.json", "{\"do_lower_case\": true}");
        dir.Write("config_sentence_transformers.json", "{\"prompts\": {\"query\": \"query: \", \"document\": \"\"}}");

        var config = ModelConfiguration.Load(dir.Path, ModelKind.Embedder, "Rag:Embeddings:ModelDirectory");

        Assert.Equal(PoolingMode.Cls, config.Pooling);
        Assert.Equal(128, config.MaxTokens);
        Assert.False(config.Normalize);
        Assert.True(config.Lowercase);
        Assert.Equal("query: ", config.QueryPrefix);
        Assert.Equal(Path.GetFileName(dir.Path), config.Name);

        using var explicitDir = EmbedderDirectory(("pooling", "cls"), ("normalize", false), ("max_tokens", 128), ("query_prefix", "query: "));
        using var inferred = OnnxEmbeddingGenerator.Load(dir.Path, Options());
        using var configured = OnnxEmbeddingGenerator.Load(explicitDir.Path, Options());
        var a = await inferred.GenerateAsync(["Sentence Transformers"], Core.Inference.EmbeddingInputKind.QueryOptions, Token);
        var b = await configured.GenerateAsync(["Sentence Transformers"], Core.Inference.EmbeddingInputKind.QueryOptions, Token);
        Assert.Equal(a[0].Vector.ToArray(), b[0].Vector.ToArray());
    }

    [Fact]
    public void Real_all_MiniLM_configuration_files_infer_its_published_recipe()
    {
        var shared = Path.GetDirectoryName(RepositoryPaths.BertVocab)!;
        using var dir = new TempDirectory("st-model");
        foreach (var file in new[] { "sentence_bert_config.json", "pooling_config.json", "modules.json", "tokenizer_config.json", "vocab.txt" })
        {
            File.CreateSymbolicLink(dir.Combine(file), Path.Combine(shared, file));
        }

        File.CreateSymbolicLink(dir.Combine("model.onnx"), RepositoryPaths.TinyEmbedderModel);

        var config = ModelConfiguration.Load(dir.Path, ModelKind.Embedder, "Rag:Embeddings:ModelDirectory");

        // Mean pooling, L2 normalisation, 256 word pieces, lower-cased: the recipe in shared/models/README.md.
        Assert.Equal(PoolingMode.Mean, config.Pooling);
        Assert.True(config.Normalize);
        Assert.Equal(256, config.MaxTokens);
        Assert.True(config.Lowercase);
        Assert.Equal(string.Empty, config.QueryPrefix);
    }

    [Fact]
    public void Sentence_transformers_max_pooling_is_rejected_with_the_key()
    {
        using var dir = new TempDirectory("st-model");
        var pooling = dir.Write("1_Pooling/config.json", "{\"pooling_mode_mean_tokens\": false, \"pooling_mode_max_tokens\": true}");

        var error = Assert.Throws<RagValidationException>(() => ModelConfiguration.Load(dir.Path, ModelKind.Embedder, "Rag:Embeddings:ModelDirectory"));

        Assert.StartsWith(pooling + ": pooling_mode_max_tokens is true, but only mean and CLS pooling are supported", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sentence_transformers_config_without_pooling_file_says_what_to_add()
    {
        using var dir = new TempDirectory("st-model");
        dir.Write("sentence_bert_config.json", "{\"max_seq_length\": 256}");

        var error = Assert.Throws<RagValidationException>(() => ModelConfiguration.Load(dir.Path, ModelKind.Embedder, "Rag:Embeddings:ModelDirectory"));

        Assert.Contains("neither 1_Pooling/config.json nor pooling_config.json", error.Message, StringComparison.Ordinal);
    }
}
