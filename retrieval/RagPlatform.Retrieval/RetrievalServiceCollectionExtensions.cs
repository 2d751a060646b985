using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RagPlatform.Retrieval;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the read path. Needs the stores (<c>AddRagStorage</c>) and the models (<c>AddRagInference</c>).</summary>
public static class RetrievalServiceCollectionExtensions
{
    public static IServiceCollection AddRagRetrieval(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddRagStorage();
        services.AddRagInference();
        services.AddOptions<RetrievalOptions>().Bind(configuration.GetSection(RetrievalOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<Retriever>();
        return services;
    }
}
