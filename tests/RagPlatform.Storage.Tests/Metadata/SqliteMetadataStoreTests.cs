using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Metadata;
using RagPlatform.Testing;

namespace RagPlatform.Storage.Tests.Metadata;

public sealed class SqliteMetadataStoreTests : MetadataStoreConformanceTests
{
    private readonly TempDirectory _dir = new("sqlite");

    protected override Task<IMetadataStore> CreateStoreAsync()
        => Task.FromResult(StorageServiceCollectionExtensions.CreateMetadataStore(MetadataProvider.Sqlite, $"Data Source={_dir.Combine("metadata.db")};Pooling=False"));

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _dir.Dispose();
    }
}

public sealed class PostgresMetadataStoreTests(PostgresServer postgres) : MetadataStoreConformanceTests
{
    protected override async Task<IMetadataStore> CreateStoreAsync()
        => StorageServiceCollectionExtensions.CreateMetadataStore(MetadataProvider.Postgres, await postgres.CreateDatabaseAsync("meta"));
}
