using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Configuration;
using Microsoft.Extensions.Logging;
using RagPlatform.Core.Indexing;
using RagPlatform.Core.Metadata;
using RagPlatform.Storage.Keyword;
using RagPlatform.Storage.Metadata;
using RagPlatform.Storage.Vectors;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the stores: metadata (SQLite or PostgreSQL), keyword index and vector index.</summary>
public static class StorageServiceCollectionExtensions
{
    public static IServiceCollection AddRagStorage(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IDbContextFactory<MetadataDbContext>>(sp => CreateContextFactory(sp.GetRequiredService<IOptions<RagOptions>>().Value));
        services.TryAddSingleton<IMetadataStore, EfMetadataStore>();
        services.TryAddSingleton<IKeywordIndex>(sp => LuceneKeywordIndex.Open(
            Path.Combine(sp.GetRequiredService<IOptions<RagOptions>>().Value.DataDirectory, "keyword"),
            sp.GetService<IOptions<KeywordIndexOptions>>()?.Value));
        // Opened on first use: an indexer worker never opens the indexes another process owns.
        services.TryAddSingleton(sp => new Lazy<IKeywordIndex>(sp.GetRequiredService<IKeywordIndex>));
        services.TryAddSingleton(sp => new Lazy<IVectorIndex>(sp.GetRequiredService<IVectorIndex>));
        services.TryAddSingleton<ITermMatcher>(sp => new LuceneTermMatcher(sp.GetService<IOptions<KeywordIndexOptions>>()?.Value));
        services.TryAddSingleton<IVectorIndex>(sp => EmbeddedVectorIndex.Open(
            Path.Combine(sp.GetRequiredService<IOptions<RagOptions>>().Value.DataDirectory, "vectors"),
            sp.GetService<IOptions<VectorIndexOptions>>()?.Value,
            sp.GetService<ILoggerFactory>()?.CreateLogger<EmbeddedVectorIndex>()));
        return services;
    }

    /// <summary>Opens the metadata store without a container (tests, tools).</summary>
    public static IMetadataStore CreateMetadataStore(MetadataProvider provider, string connectionString, TimeProvider? time = null)
        => new EfMetadataStore(new MetadataContextFactory(provider, connectionString), time ?? TimeProvider.System);

    private static MetadataContextFactory CreateContextFactory(RagOptions options)
    {
        var meta = options.Metadata;
        if (meta.Provider == MetadataProvider.Postgres)
        {
            if (string.IsNullOrWhiteSpace(meta.ConnectionString))
            {
                throw new OptionsValidationException(
                    "Rag:Metadata:ConnectionString",
                    typeof(RagOptions),
                    ["Rag:Metadata:ConnectionString is required when Rag:Metadata:Provider is Postgres (e.g. Host=db;Database=rag;Username=rag;Password=...)."]);
            }

            return new MetadataContextFactory(MetadataProvider.Postgres, meta.ConnectionString);
        }

        var connection = string.IsNullOrWhiteSpace(meta.ConnectionString)
            ? $"Data Source={Path.Combine(options.DataDirectory, "metadata.db")};Pooling=True"
            : meta.ConnectionString;
        return new MetadataContextFactory(MetadataProvider.Sqlite, connection);
    }
}
