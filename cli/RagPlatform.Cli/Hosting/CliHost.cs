using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Configuration;

namespace RagPlatform.Cli.Hosting;

/// <summary>
/// Builds the services a command needs. Configuration is read in this order, later winning:
/// <c>appsettings.json</c> next to the binary, <c>appsettings.json</c> in the data directory,
/// environment variables (<c>RAG__Embeddings__ModelDirectory</c> sets <c>Rag:Embeddings:ModelDirectory</c>),
/// then command-line flags (<c>--data</c> sets <c>Rag:DataDirectory</c>).
/// </summary>
internal static class CliHost
{
    /// <summary>The data directory when neither <c>--data</c> nor <c>RAG__DataDirectory</c> names one.</summary>
    public const string DefaultDataDirectory = ".rag";

    public static IConfigurationRoot BuildConfiguration(string? dataDirectory, IDictionary<string, string?>? overrides = null)
    {
        var env = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        var data = Path.GetFullPath(dataDirectory ?? env["Rag:DataDirectory"] ?? DefaultDataDirectory);
        var flags = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase) { ["Rag:DataDirectory"] = data };
        foreach (var kv in overrides ?? new Dictionary<string, string?>())
        {
            flags[kv.Key] = kv.Value;
        }

        return new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddJsonFile(Path.Combine(data, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection(flags)
            .Build();
    }

    /// <summary>The platform's services, as every command and the server compose them.</summary>
    public static IServiceCollection AddPlatform(IServiceCollection services, IConfiguration configuration)
    {
        services.AddRagOptions(configuration);
        services.Configure<RagPlatform.Storage.Keyword.KeywordIndexOptions>(configuration.GetSection("Rag:Keyword"));
        services.Configure<RagPlatform.Storage.Vectors.VectorIndexOptions>(configuration.GetSection("Rag:Vectors"));
        services.AddRagIngestion();
        services.AddRagRetrieval(configuration);
        services.AddRagSources(configuration);
        return services;
    }

    public static ServiceProvider Build(IConfiguration configuration, bool verbose = false)
    {
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddLogging(logging =>
        {
            logging.AddConfiguration(configuration.GetSection("Logging"));
            logging.SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning);
            logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
            logging.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        });
        AddPlatform(services, configuration);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        // Fail now, naming the setting, rather than on first use.
        _ = provider.GetRequiredService<IOptions<RagOptions>>().Value;
        Directory.CreateDirectory(provider.GetRequiredService<IOptions<RagOptions>>().Value.DataDirectory);
        return provider;
    }
}
