using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Diagnostics;
using RagPlatform.Core.Configuration;

namespace RagPlatform.Storage.Metadata;

/// <summary>Creates the provider's context for each unit of work.</summary>
internal sealed class MetadataContextFactory : IDbContextFactory<MetadataDbContext>
{
    private readonly DbContextOptions<SqliteMetadataDbContext>? _sqlite;
    private readonly DbContextOptions<PostgresMetadataDbContext>? _postgres;

    public MetadataContextFactory(MetadataProvider provider, string connectionString)
    {
        Provider = provider;
        if (provider == MetadataProvider.Sqlite)
        {
            _sqlite = new DbContextOptionsBuilder<SqliteMetadataDbContext>()
                .UseSqlite(connectionString, o => o.CommandTimeout(60))
                .AddInterceptors(SqlitePragmas.Instance)
                .Options;
        }
        else
        {
            // No retrying execution strategy: writes are explicit multi-statement transactions, and a
            // database that is unavailable is a transient failure that the job layer retries with backoff.
            _postgres = new DbContextOptionsBuilder<PostgresMetadataDbContext>()
                .UseNpgsql(connectionString, o => o.CommandTimeout(60))
                .Options;
        }
    }

    public MetadataProvider Provider { get; }

    public MetadataDbContext CreateDbContext()
        => _sqlite is not null ? new SqliteMetadataDbContext(_sqlite) : new PostgresMetadataDbContext(_postgres!);

    /// <summary>
    /// WAL lets queries run while the pipeline writes; synchronous=NORMAL in WAL mode survives a killed
    /// process (what crash safety is about here) at a fraction of FULL's fsync cost.
    /// </summary>
    private sealed class SqlitePragmas : DbConnectionInterceptor
    {
        public static readonly SqlitePragmas Instance = new();

        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

        public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            Apply(connection);
            return Task.CompletedTask;
        }

        private static void Apply(DbConnection connection)
        {
            using var cmd = connection.CreateCommand();
            cmd.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;";
            cmd.ExecuteNonQuery();
        }
    }
}

/// <summary>Lets <c>dotnet ef migrations add ... --context SqliteMetadataDbContext</c> build the context without a host.</summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteMetadataDbContext>
{
    public SqliteMetadataDbContext CreateDbContext(string[] args)
        => new(new DbContextOptionsBuilder<SqliteMetadataDbContext>().UseSqlite("Data Source=design-time.db").Options);
}

/// <summary>Lets <c>dotnet ef migrations add ... --context PostgresMetadataDbContext</c> build the context without a host.</summary>
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresMetadataDbContext>
{
    public PostgresMetadataDbContext CreateDbContext(string[] args)
        => new(new DbContextOptionsBuilder<PostgresMetadataDbContext>().UseNpgsql("Host=localhost;Database=design_time").Options);
}
