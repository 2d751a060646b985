using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RagPlatform.Cli.Hosting;
using RagPlatform.Contracts.V1;
using RagPlatform.Testing;

namespace RagPlatform.Retrieval.Tests.Harness;

/// <summary>
/// The real <c>rag serve</c> server (<see cref="RagServer"/>) on 127.0.0.1 with a port the OS
/// picks, over its own temporary data directory, and a real <see cref="GrpcChannel"/> to it. Used as
/// a class fixture, so that every test class gets its own server and stores.
/// </summary>
public abstract class RagTestServer : IAsyncLifetime
{
    private readonly TempDirectory _data = new("e2e-data");
    private readonly List<TempDirectory> _models = [];
    private readonly RecordingLoggerProvider _log = new();
    private WebApplication? _app;
    private GrpcChannel? _channel;

    public string DataDirectory => _data.Path;

    /// <summary>Where the server listens, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public Uri Address { get; private set; } = new("http://127.0.0.1");

    /// <summary>The server's own services, for what the API cannot do (e.g. creating a file source).</summary>
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The server is not started.");

    /// <summary>Everything the server logged at Error or above since it started.</summary>
    public IReadOnlyList<string> LoggedErrors => _log.Errors;

    public GrpcChannel Channel => _channel ?? throw new InvalidOperationException("The server is not started.");

    public RetrievalService.RetrievalServiceClient Retrieval => new(Channel);

    public IngestionService.IngestionServiceClient Ingestion => new(Channel);

    /// <summary>Configure the synthetic tiny embedder, so that vector and hybrid modes really run.</summary>
    protected virtual bool WithEmbedder => false;

    /// <summary>Configure the synthetic tiny cross-encoder.</summary>
    protected virtual bool WithReranker => false;

    /// <summary>Extra <c>Rag:…</c> settings for the server.</summary>
    protected virtual IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>();

    public async ValueTask InitializeAsync()
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Rag:DataDirectory"] = _data.Path,

            // Several test classes run servers at once on two cores: one inference thread each.
            ["Rag:Embeddings:IntraOpThreads"] = "1",
        };
        if (WithEmbedder)
        {
            var embedder = SharedModels.Embedder();
            _models.Add(embedder);
            values["Rag:Embeddings:ModelDirectory"] = embedder.Path;
        }

        if (WithReranker)
        {
            var reranker = SharedModels.CrossEncoder();
            _models.Add(reranker);
            values["Rag:Reranker:ModelDirectory"] = reranker.Path;
        }

        foreach (var kv in Settings)
        {
            values[kv.Key] = kv.Value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        _app = RagServer.Build(configuration, "http://127.0.0.1:0");
        _app.Services.GetRequiredService<ILoggerFactory>().AddProvider(_log);
        await RagServer.PrepareAsync(_app.Services, TestContext.Current.CancellationToken);
        await _app.StartAsync(TestContext.Current.CancellationToken);

        // Kestrel replaces port 0 by the port it bound.
        Address = new Uri(_app.Urls.Single());
        _channel = GrpcChannel.ForAddress(Address, new GrpcChannelOptions { MaxReceiveMessageSize = RagServer.MaxMessageBytes });
        await SeedAsync();
    }

    /// <summary>Documents every test of the class reads, pushed once through the API after the server starts.</summary>
    protected virtual Task SeedAsync() => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        _channel?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync(CancellationToken.None);
            await _app.DisposeAsync();
        }

        foreach (var model in _models)
        {
            model.Dispose();
        }

        _data.Dispose();
        _log.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>No models: keyword retrieval only, hybrid falls back to keyword, no reranking.</summary>
public sealed class KeywordServer : RagTestServer;

/// <summary>The tiny embedder: keyword, vector and hybrid retrieval all run.</summary>
public sealed class HybridServer : RagTestServer
{
    protected override bool WithEmbedder => true;
}

/// <summary>The tiny embedder and the tiny cross-encoder.</summary>
public sealed class RerankingServer : RagTestServer
{
    protected override bool WithEmbedder => true;

    protected override bool WithReranker => true;
}
