using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Metadata;
using RagPlatform.Testing;

namespace RagPlatform.Storage.Tests.Metadata;

/// <summary>
/// A fresh, migrated metadata store for each test, both real: SQLite in a temporary directory, or, given
/// the test run's PostgreSQL server, a new PostgreSQL database.
/// </summary>
public abstract class MetadataStoreTestBase(PostgresServer? postgres) : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("metadata");
    private IMetadataStore? _store;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected IMetadataStore Store => _store ?? throw new InvalidOperationException("not initialised");

    public async ValueTask InitializeAsync()
    {
        _store = postgres is null
            ? StorageServiceCollectionExtensions.CreateMetadataStore(MetadataProvider.Sqlite, $"Data Source={_dir.Combine("metadata.db")};Pooling=False")
            : StorageServiceCollectionExtensions.CreateMetadataStore(MetadataProvider.Postgres, await postgres.CreateDatabaseAsync("meta"));
        await _store.MigrateAsync(Ct);
    }

    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        _dir.Dispose();
        return ValueTask.CompletedTask;
    }
}
