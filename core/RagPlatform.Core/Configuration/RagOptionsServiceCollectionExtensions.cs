using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Configuration;

namespace Microsoft.Extensions.DependencyInjection;

public static class RagOptionsServiceCollectionExtensions
{
    /// <summary>Binds <see cref="RagOptions"/> from the <c>Rag</c> section and validates it at start-up.</summary>
    public static IServiceCollection AddRagOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RagOptions>().Bind(configuration.GetSection(RagOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RagOptions>, RagOptionsValidator>());
        return services;
    }
}
