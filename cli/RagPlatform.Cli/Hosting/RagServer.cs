using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using RagPlatform.Core.Configuration;
using Microsoft.Extensions.Logging;
using RagPlatform.Contracts;
using RagPlatform.Core.Indexing;
using RagPlatform.Core.Metadata;
using RagPlatform.Inference;

namespace RagPlatform.Cli.Hosting;

/// <summary>
/// The gRPC server of <c>rag serve</c>: retrieval and ingestion services in one process on the
/// embedded stores, gRPC health checking and server reflection, over HTTP/2 (loopback by default).
/// </summary>
internal static class RagServer
{
    public const string DefaultUrls = "http://127.0.0.1:5700";

    /// <summary>Largest request accepted; a push of documents is the largest. Beyond it, RESOURCE_EXHAUSTED.</summary>
    public const int MaxMessageBytes = 64 * 1024 * 1024;

    public static WebApplication Build(IConfiguration configuration, string urls, bool verbose = false)
    {
        var role = configuration.GetSection("Rag").GetValue<PlatformRole>("Role");
        if (role == PlatformRole.Indexer)
        {
            throw new InvalidOperationException("The indexer role has no gRPC services; use BuildIndexer.");
        }

        var builder = WebApplication.CreateSlimBuilder();
        AddPlatform(builder, configuration, verbose);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", verbose ? LogLevel.Information : LogLevel.Warning);
        builder.WebHost.UseUrls(urls);

        // gRPC without TLS needs HTTP/2 with prior knowledge; TLS terminates in front of the service.
        builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(e => e.Protocols = HttpProtocols.Http2));

        builder.Services.AddGrpc(o =>
        {
            o.Interceptors.Add<RagErrorInterceptor>();
            o.MaxReceiveMessageSize = MaxMessageBytes;
            o.MaxSendMessageSize = MaxMessageBytes;
        });
        builder.Services.AddGrpcReflection();
        builder.Services.AddGrpcHealthChecks().AddCheck<StoresHealthCheck>("stores");

        var app = builder.Build();
        app.MapRagRetrieval();
        app.MapRagIngestion();
        app.MapRagJobs();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        return app;
    }

    /// <summary>
    /// The indexer role: only the job host (Hangfire workers that sync sources and stage what
    /// changed in the metadata store). It opens no index and no port.
    /// </summary>
    public static IHost BuildIndexer(IConfiguration configuration, bool verbose = false)
    {
        var builder = Host.CreateApplicationBuilder();
        AddPlatform(builder, configuration, verbose);
        return builder.Build();
    }

    /// <summary>What every role's host has: exactly the given configuration, one-line console logs, the platform and the job host.</summary>
    private static void AddPlatform(IHostApplicationBuilder builder, IConfiguration configuration, bool verbose)
    {
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddConfiguration(configuration);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.Logging.SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);
        CliHost.AddPlatform(builder.Services, configuration);
        builder.Services.AddRagJobs(configuration);
    }

    /// <summary>
    /// Everything that can fail at start-up fails before the port opens, naming what is wrong: the
    /// schema, the indexes (another process may hold them) and a configured model.
    /// </summary>
    public static async Task PrepareAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await services.GetRequiredService<IMetadataStore>().MigrateAsync(cancellationToken);
        if (services.GetRequiredService<Microsoft.Extensions.Options.IOptions<RagOptions>>().Value.Role != PlatformRole.Indexer)
        {
            _ = services.GetRequiredService<IKeywordIndex>();
            _ = services.GetRequiredService<IVectorIndex>();
        }

        var models = services.GetRequiredService<InferenceModels>();
        _ = models.Embedder;
        _ = models.Reranker;
    }

    private sealed class StoresHealthCheck(IMetadataStore metadata, IKeywordIndex keyword) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await metadata.FindSourceAsync("health", "health", cancellationToken);
                return HealthCheckResult.Healthy($"{keyword.Count} chunks indexed");
            }
            catch (Exception ex)
            {
                return HealthCheckResult.Unhealthy("the metadata store does not answer", ex);
            }
        }
    }
}
