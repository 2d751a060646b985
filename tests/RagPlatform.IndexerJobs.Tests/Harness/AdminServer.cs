using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Cli.Hosting;
using RagPlatform.Testing;

namespace RagPlatform.IndexerJobs.Tests.Harness;

/// <summary>
/// The real server of <c>rag serve</c> (all roles: gRPC services, Hangfire job host, indexes) on a
/// free loopback port over a temporary data directory, and a channel to it.
/// </summary>
public sealed class AdminServer : IAsyncLifetime
{
    private readonly TempDirectory _data = new("server");
    private WebApplication? _app;

    public GrpcChannel Channel { get; private set; } = null!;

    public IServiceProvider Services => _app!.Services;

    public async ValueTask InitializeAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Rag:DataDirectory"] = _data.Path,
            ["Rag:Embeddings:IntraOpThreads"] = "1",
            ["Rag:Jobs:ReconcileSchedule"] = string.Empty,
            ["Rag:Jobs:WorkerCount"] = "2",
        }).Build();
        _app = RagServer.Build(configuration, "http://127.0.0.1:0");
        await RagServer.PrepareAsync(_app.Services, TestContext.Current.CancellationToken);
        await _app.StartAsync(TestContext.Current.CancellationToken);
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Channel = GrpcChannel.ForAddress(address);
    }

    public async ValueTask DisposeAsync()
    {
        Channel?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync(CancellationToken.None);
            await _app.DisposeAsync();
        }

        _data.Dispose();
    }
}
