using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RagPlatform.Core;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Text;
using RagPlatform.Inference.Embeddings;
using RagPlatform.Inference.Reranking;
using RagPlatform.Inference.Tests.Embeddings;
using RagPlatform.Testing;
using static RagPlatform.Inference.Tests.TestModels;

namespace RagPlatform.Inference.Tests;

public sealed class InferenceModelsTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public void Without_models_retrieval_is_keyword_only_and_says_how_to_enable_embeddings()
    {
        using var provider = Provider(_ => { });
        var models = provider.GetRequiredService<InferenceModels>();

        Assert.Null(models.Embedder);
        Assert.Null(models.Reranker);
        Assert.False(models.HasEmbedder);
        Assert.Equal("tiktoken:cl100k_base", models.TokenCounter.Name);
        Assert.Same(models.TokenCounter, provider.GetRequiredService<ITokenCounter>());
        Assert.Equal(
            "keyword-only: no embedding model configured (set Rag:Embeddings:ModelDirectory or Rag:Embeddings:Endpoint); " +
            "reranker: none (set Rag:Reranker:ModelDirectory to rerank with a cross-encoder)",
            models.Status);
    }

    [Fact]
    public async Task Local_models_load_on_first_use_once_and_count_tokens_with_their_vocabulary()
    {
        using var embedderDir = EmbedderDirectory();
        using var rerankerDir = CrossEncoderDirectory();
        using var provider = Provider(o =>
        {
            o.Embeddings.ModelDirectory = embedderDir.Path;
            o.Reranker.ModelDirectory = rerankerDir.Path;
        });
        var models = provider.GetRequiredService<InferenceModels>();

        Assert.True(models.HasEmbedder);
        Assert.Contains($"local ONNX embedder in {embedderDir.Path} (loads on first use)", models.Status, StringComparison.Ordinal);
        Assert.Contains($"reranker: cross-encoder in {rerankerDir.Path} (loads on first use)", models.Status, StringComparison.Ordinal);

        var embedder = Assert.IsType<OnnxEmbeddingGenerator>(models.Embedder);
        var reranker = Assert.IsType<OnnxCrossEncoderReranker>(models.Reranker);
        Assert.Same(embedder, models.Embedder);
        Assert.Same(reranker, models.Reranker);
        Assert.Contains($"hybrid: local ONNX embedder {embedder.ModelId} (32 dimensions)", models.Status, StringComparison.Ordinal);
        Assert.Contains($"reranker: {reranker.ModelId}", models.Status, StringComparison.Ordinal);

        Assert.Equal("wordpiece:tiny", models.TokenCounter.Name);
        Assert.Equal(4, models.TokenCounter.CountTokens("unaffable text"));
        Assert.Single(await embedder.GenerateAsync(["through the container"], cancellationToken: Token));
        Assert.Equal(2, (await reranker.ScoreAsync("query", ["a", "b"], Token)).Length);
    }

    [Fact]
    public void Broken_model_directory_fails_at_first_use_with_its_reason_every_time()
    {
        using var dir = EmbedderDirectory(("pooling", "max"));
        using var provider = Provider(o => o.Embeddings.ModelDirectory = dir.Path);
        var models = provider.GetRequiredService<InferenceModels>();

        var first = Assert.Throws<RagValidationException>(() => models.Embedder);
        var second = Assert.Throws<RagValidationException>(() => models.Embedder);

        Assert.EndsWith("rag-model.json: pooling must be 'mean' or 'cls', got 'max'.", first.Message, StringComparison.Ordinal);
        Assert.Equal(first.Message, second.Message);
        Assert.StartsWith($"embeddings unavailable: the model in {dir.Path} failed to load: ", models.Status, StringComparison.Ordinal);
        Assert.Throws<RagValidationException>(() => models.TokenCounter);
    }

    [Fact]
    public void Model_directory_and_endpoint_together_are_a_configuration_error()
    {
        using var dir = EmbedderDirectory();
        using var provider = Provider(o =>
        {
            o.Embeddings.ModelDirectory = dir.Path;
            o.Embeddings.Endpoint = new Uri("http://localhost:11434/v1");
            o.Embeddings.EndpointModel = "nomic-embed-text";
        });

        // Through the container, the registered validator rejects the options as soon as they are read.
        var validation = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<InferenceModels>());
        // Built by hand, without options validation, the models check the same rule themselves.
        var options = new RagOptions();
        options.Embeddings.ModelDirectory = dir.Path;
        options.Embeddings.Endpoint = new Uri("http://localhost:11434/v1");
        options.Embeddings.EndpointModel = "nomic-embed-text";
        var error = Assert.Throws<RagValidationException>(() => new InferenceModels(Microsoft.Extensions.Options.Options.Create(options)));

        Assert.Contains("Rag:Embeddings: both ModelDirectory", validation.Message, StringComparison.Ordinal);
        Assert.Equal("Rag:Embeddings", error.Field);
        Assert.Contains("both ModelDirectory", error.Message, StringComparison.Ordinal);
        Assert.Contains("Choose one", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Endpoint_configuration_gives_an_http_embedder_and_tiktoken_counts()
    {
        await using var server = await FakeEmbeddingServer.StartAsync(Token);
        using var provider = Provider(o =>
        {
            o.Embeddings.Endpoint = server.BaseUrl;
            o.Embeddings.EndpointModel = "nomic-embed-text";
            o.Embeddings.ApiKey = "local-key";
        });
        var models = provider.GetRequiredService<InferenceModels>();

        var embedder = Assert.IsType<OpenAiCompatibleEmbeddingGenerator>(models.Embedder);
        var embeddings = await embedder.GenerateAsync(["hello endpoint"], cancellationToken: Token);

        Assert.Equal(FakeEmbeddingServer.Dimensions, embeddings[0].Vector.Length);
        Assert.Equal("Bearer local-key", server.Requests[0].Authorization);
        Assert.Equal("nomic-embed-text", server.Requests[0].Body["model"]!.GetValue<string>());
        Assert.Equal("tiktoken:cl100k_base", models.TokenCounter.Name);
        Assert.Contains($"hybrid: embeddings from {server.BaseUrl} (model nomic-embed-text)", models.Status, StringComparison.Ordinal);
        Assert.Equal("openai-compatible", embedder.GetService<EmbeddingGeneratorMetadata>()!.ProviderName);
    }

    [Fact]
    public void Registering_twice_registers_once()
    {
        var services = new ServiceCollection();
        services.AddRagInference();
        services.AddRagInference();

        Assert.Single(services, d => d.ServiceType == typeof(InferenceModels));
        Assert.Single(services, d => d.ServiceType == typeof(ITokenCounter));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<RagOptions>) && d.ImplementationType == typeof(InferenceOptionsValidator));
    }

    private static ServiceProvider Provider(Action<RagOptions> configure)
    {
        var services = new ServiceCollection();
        services.Configure<RagOptions>(o =>
        {
            o.DataDirectory = Path.GetTempPath();
            o.Embeddings.IntraOpThreads = 1;
            configure(o);
        });
        services.AddRagInference();
        return services.BuildServiceProvider();
    }
}
