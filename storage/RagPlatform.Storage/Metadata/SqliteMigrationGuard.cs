using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace RagPlatform.Storage.Metadata;

/// <summary>
/// Makes EF Core's migration lock on SQLite survive a killed process.
/// </summary>
/// <remarks>
/// <para>
/// EF Core's <c>Migrate</c> takes its lock on SQLite by inserting a row into <c>__EFMigrationsLock</c>
/// and deletes the row when it ends, on every call, even when no migration is pending. A process
/// killed in between (<c>rag ingest</c> stopped by SIGKILL while starting up) leaves the row behind,
/// and every later <c>Migrate</c> on that database retries the insert forever, silently: the next
/// command hangs before doing anything and prints nothing.
/// </para>
/// <para>
/// The guard is an operating-system lock on a file next to the database, held across <c>Migrate</c>.
/// The OS releases it when its process dies, so a process holding it knows that no other live process
/// of ours is migrating: an EF lock row found then was left by a process that is gone, and is removed.
/// Every migration of the platform goes through <see cref="EfMetadataStore.MigrateAsync"/>, hence this guard.
/// </para>
/// </remarks>
internal sealed class SqliteMigrationGuard : IDisposable
{
    /// <summary>EF Core's lock table on SQLite.</summary>
    internal const string EfLockTable = "__EFMigrationsLock";

    /// <summary>Appended to the database file's path for the guard's lock file.</summary>
    internal const string LockFileSuffix = ".migrate-lock";

    private const string CountLockTableSql = "SELECT COUNT(*) AS \"Value\" FROM sqlite_master WHERE type = 'table' AND name = '" + EfLockTable + "'";
    private const string DeleteLockRowsSql = "DELETE FROM \"" + EfLockTable + "\"";

    private static readonly TimeSpan WarnAfter = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan WarnEvery = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan MaxPoll = TimeSpan.FromMilliseconds(500);

    private readonly FileStream? _lockFile;

    private SqliteMigrationGuard(FileStream? lockFile) => _lockFile = lockFile;

    /// <summary>
    /// Takes the guard of the database <paramref name="db"/> opens, waiting while another process holds it,
    /// then removes an EF lock row left by a process that was stopped while migrating.
    /// </summary>
    public static async Task<SqliteMigrationGuard> AcquireAsync(MetadataDbContext db, ILogger logger, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnectionStringBuilder(db.Database.GetConnectionString());
        if (LockFilePath(connection) is not { } path)
        {
            // In memory: no other process can see the database, nor outlive its lock row.
            return new SqliteMigrationGuard(null);
        }

        var lockFile = await LockAsync(path, logger, cancellationToken);
        try
        {
            var removed = await RemoveStaleLockAsync(db, cancellationToken);
            if (removed > 0)
            {
                logger.LogWarning(
                    "Removed a stale migration lock from the metadata database {Database}: a process was stopped while migrating it (it would have made every later start wait forever)",
                    connection.DataSource);
            }

            return new SqliteMigrationGuard(lockFile);
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    public void Dispose() => _lockFile?.Dispose();

    /// <summary>The guard's lock file of a database file, or null for a database in memory.</summary>
    internal static string? LockFilePath(SqliteConnectionStringBuilder connection)
    {
        var source = connection.DataSource;
        if (connection.Mode == SqliteOpenMode.Memory
            || string.IsNullOrEmpty(source)
            || source == ":memory:"
            || source.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return Path.GetFullPath(source) + LockFileSuffix;
    }

    private static async Task<FileStream> LockAsync(string path, ILogger logger, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        var nextWarning = WarnAfter;
        var delay = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            try
            {
                // Held without sharing: .NET enforces that across processes with an OS lock (flock on Unix),
                // which the OS drops when the process holding it dies, however it dies.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException ex) when (ex is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
            {
                if (waited.Elapsed >= nextWarning)
                {
                    logger.LogWarning(
                        "Waiting {Seconds} s for {LockFile}: another process is migrating the metadata database ({Reason})",
                        (long)waited.Elapsed.TotalSeconds,
                        path,
                        ex.Message);
                    nextWarning += WarnEvery;
                }
            }

            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxPoll.Ticks));
        }
    }

    private static async Task<int> RemoveStaleLockAsync(MetadataDbContext db, CancellationToken cancellationToken)
    {
        var tables = await db.Database.SqlQueryRaw<long>(CountLockTableSql).SingleAsync(cancellationToken);
        return tables == 0 ? 0 : await db.Database.ExecuteSqlRawAsync(DeleteLockRowsSql, cancellationToken);
    }
}
