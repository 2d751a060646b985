using Microsoft.Extensions.DependencyInjection.Extensions;
using RagPlatform.Ingestion.Parsing;
using RagPlatform.Ingestion.Pipeline;
using RagPlatform.Ingestion.Sources;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the write path. Needs the stores (<c>AddRagStorage</c>) and the models (<c>AddRagInference</c>).</summary>
public static class IngestionServiceCollectionExtensions
{
    public static IServiceCollection AddRagIngestion(this IServiceCollection services)
    {
        services.AddRagStorage();
        services.AddRagInference();
        services.TryAddSingleton<DocumentParser>();
        services.TryAddSingleton<DocumentCommitter>();
        services.TryAddSingleton<IngestionPipeline>();
        services.TryAddSingleton<PathIngestor>();
        services.TryAddSingleton<PushIngestor>();
        services.TryAddSingleton<StoreConsistencyChecker>();
        return services;
    }
}
