using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Text;
using RagPlatform.Inference;

// Registration extensions live in the DI namespace by convention, so hosts find them without a using.
namespace Microsoft.Extensions.DependencyInjection;

public static class InferenceServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="InferenceModels"/> (embedder, reranker and token counter from
    /// <c>Rag:Embeddings</c> and <c>Rag:Reranker</c>, loaded on first use), the
    /// <see cref="ITokenCounter"/> it provides, and a validator of the inference settings for hosts
    /// that validate options on start. Safe to call more than once.
    /// </summary>
    public static IServiceCollection AddRagInference(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions();
        services.TryAddSingleton(sp => new InferenceModels(sp.GetRequiredService<IOptions<RagOptions>>(), sp.GetService<ILoggerFactory>()));
        services.TryAddSingleton(sp => sp.GetRequiredService<InferenceModels>().TokenCounter);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RagOptions>, InferenceOptionsValidator>());
        return services;
    }
}
