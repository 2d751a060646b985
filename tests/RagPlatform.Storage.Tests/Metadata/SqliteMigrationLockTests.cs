using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Metadata;
using RagPlatform.Storage.Metadata;
using RagPlatform.Testing;

namespace RagPlatform.Storage.Tests.Metadata;

/// <summary>
/// EF Core locks a SQLite database for <c>Migrate</c> with a row in <c>__EFMigrationsLock</c>, on every
/// call; a process killed (SIGKILL) between inserting and deleting that row used to make every later
/// start of any command wait for it forever, silently.
/// </summary>
public sealed class SqliteMigrationLockTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new("sqlite-migrate");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DatabasePath => _dir.Combine("metadata.db");

    private string ConnectionString => $"Data Source={DatabasePath};Pooling=False";

    [Fact]
    public async Task Migrating_after_a_process_was_killed_while_migrating_does_not_wait_forever()
    {
        await NewStore().MigrateAsync(Ct);

        // What `rag ingest` killed inside Migrate leaves behind (seen with a real SIGKILL on a fresh data directory).
        await ExecuteAsync("INSERT INTO \"__EFMigrationsLock\" (\"Id\", \"Timestamp\") VALUES (1, '2026-11-24 08:12:57.9563613+00:00')");

        var store = await MigratesWithinPatienceAsync();

        Assert.Equal(0L, await ScalarAsync("SELECT COUNT(*) FROM \"__EFMigrationsLock\""));
        Assert.NotNull(await store.EnsureSourceAsync("t1", "docs", SourceKind.Files, Ct));
    }

    [Fact]
    public async Task A_process_killed_during_the_first_migration_leaves_a_database_the_next_one_migrates()
    {
        // Killed before the history table existed: only the lock table and its row are there, in a
        // database the platform's first connection had already switched to WAL.
        await ExecuteAsync("PRAGMA journal_mode=WAL; CREATE TABLE \"__EFMigrationsLock\" (\"Id\" INTEGER NOT NULL CONSTRAINT \"PK___EFMigrationsLock\" PRIMARY KEY, \"Timestamp\" TEXT NOT NULL); " +
            "INSERT INTO \"__EFMigrationsLock\" (\"Id\", \"Timestamp\") VALUES (1, '2026-11-24 08:12:57.9563613+00:00')");

        var store = await MigratesWithinPatienceAsync();

        Assert.NotNull(await store.EnsureSourceAsync("t1", "docs", SourceKind.Files, Ct));
    }

    [Fact]
    public async Task A_live_migration_is_waited_for_and_its_lock_is_left_alone()
    {
        await NewStore().MigrateAsync(Ct);

        // Another process in the middle of Migrate: it holds the guard and EF's lock row.
        var lockFile = new FileStream(DatabasePath + SqliteMigrationGuard.LockFileSuffix, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        await ExecuteAsync("INSERT INTO \"__EFMigrationsLock\" (\"Id\", \"Timestamp\") VALUES (1, '2026-11-24 08:12:57.9563613+00:00')");
        try
        {
            var migrate = NewStore().MigrateAsync(Ct);
            await Task.Delay(TimeSpan.FromMilliseconds(500), Ct);
            Assert.False(migrate.IsCompleted);
            Assert.Equal(1L, await ScalarAsync("SELECT COUNT(*) FROM \"__EFMigrationsLock\""));

            // It finishes: EF deletes its row, then the process lets go of the guard.
            await ExecuteAsync("DELETE FROM \"__EFMigrationsLock\"");
            await lockFile.DisposeAsync();
            await migrate.WaitAsync(Patience, Ct);
        }
        finally
        {
            await lockFile.DisposeAsync();
        }
    }

    [Fact]
    public async Task Concurrent_migrations_of_a_new_database_all_finish()
    {
        var stores = Enumerable.Range(0, 3).Select(_ => NewStore()).ToList();
        await Task.WhenAll(stores.Select(s => s.MigrateAsync(Ct))).WaitAsync(Patience, Ct);

        Assert.Equal(0L, await ScalarAsync("SELECT COUNT(*) FROM \"__EFMigrationsLock\""));
        Assert.NotNull(await stores[0].EnsureSourceAsync("t1", "docs", SourceKind.Files, Ct));
    }

    [Fact]
    public void A_database_in_memory_has_no_lock_file()
    {
        Assert.Null(SqliteMigrationGuard.LockFilePath(new SqliteConnectionStringBuilder("Data Source=:memory:")));
        Assert.Null(SqliteMigrationGuard.LockFilePath(new SqliteConnectionStringBuilder("Data Source=shared;Mode=Memory;Cache=Shared")));
        Assert.Equal(DatabasePath + SqliteMigrationGuard.LockFileSuffix, SqliteMigrationGuard.LockFilePath(new SqliteConnectionStringBuilder(ConnectionString)));
    }

    public void Dispose() => _dir.Dispose();

    private IMetadataStore NewStore() => StorageServiceCollectionExtensions.CreateMetadataStore(MetadataProvider.Sqlite, ConnectionString);

    /// <summary>A new store, migrated; fails if the migration still waits after <see cref="Patience"/> (the lock row is a dead process's).</summary>
    private async Task<IMetadataStore> MigratesWithinPatienceAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(Patience * 2);
        var store = NewStore();
        var migrate = store.MigrateAsync(timeout.Token);
        await Task.WhenAny(migrate, Task.Delay(Patience, Ct));
        Assert.True(migrate.IsCompleted, $"MigrateAsync still waits for the lock row of a dead process after {Patience.TotalSeconds} s");
        await migrate;
        return store;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(Ct);
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }
}
