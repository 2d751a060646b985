using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using RagPlatform.Core.Configuration;

namespace RagPlatform.IndexerJobs.Jobs;

/// <summary>
/// At most one sync of a source at a time, across every process that shares the metadata store.
/// The lock lives exactly as long as its holder: it is released when the sync ends, and also when
/// the process holding it dies, so a crashed worker never blocks its source. It picks the lock that fits the deployment: a PostgreSQL session-level advisory lock when the metadata
/// store (and so the job queue) is shared, an in-process lock when one process owns everything.
/// </summary>
/// <remarks>
/// Hangfire's own <c>DisableConcurrentExecution</c> is not enough on PostgreSQL storage: its lock is
/// a row that any waiter deletes once it is older than <c>DistributedLockTimeout</c>, whether or not
/// its holder still runs. A sync longer than that timeout would then run twice at once; a shorter
/// timeout would keep a killed worker's source locked for that long. An advisory lock belongs to a
/// database session, so it ends with the sync or with its process, never by age.
/// </remarks>
public sealed class SourceSyncLocks(IOptions<RagOptions> rag, IOptions<JobsOptions> jobs, TimeProvider time, ILogger<SourceSyncLocks> logger)
{
    // How often a sync that waits for another sync of its source asks again.
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _local = new();

    /// <summary>Waits until no other sync of <paramref name="sourceId"/> runs, then holds its lock until disposed.</summary>
    public async Task<IAsyncDisposable> AcquireAsync(Guid sourceId, CancellationToken cancellationToken)
    {
        var timeout = jobs.Value.SyncLockTimeout;
        var metadata = rag.Value.Metadata;
        return metadata.Provider == MetadataProvider.Postgres
            ? await AcquireAdvisoryAsync(sourceId, metadata.ConnectionString!, timeout, cancellationToken)
            : await AcquireLocalAsync(sourceId, timeout, cancellationToken);
    }

    /// <summary>The advisory lock key of a source: 64 bits of a hash, namespaced so other users of advisory locks do not collide.</summary>
    private static long LockKey(Guid sourceId)
        => BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes($"rag-sync:{sourceId:N}")), 0);

    private async Task<IAsyncDisposable> AcquireLocalAsync(Guid sourceId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var gate = _local.GetOrAdd(sourceId, _ => new SemaphoreSlim(1, 1));
        if (!await gate.WaitAsync(timeout, cancellationToken))
        {
            throw Busy(sourceId, timeout);
        }

        return new LocalLock(gate);
    }

    private async Task<IAsyncDisposable> AcquireAdvisoryAsync(Guid sourceId, string connectionString, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Its own physical connection, never pooled: a pooled one would outlive the lock's owner in
        // the pool, and closing this one is what releases the lock if the unlock itself fails.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, ApplicationName = $"rag-sync-lock:{sourceId:N}" };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            var key = LockKey(sourceId);
            var deadline = time.GetUtcNow() + timeout;
            var waiting = false;
            while (!await TryLockAsync(connection, key, cancellationToken))
            {
                if (time.GetUtcNow() >= deadline)
                {
                    throw Busy(sourceId, timeout);
                }

                if (!waiting)
                {
                    logger.LogInformation("Source {SourceId} is being synced by another worker; waiting for that sync to finish", sourceId);
                    waiting = true;
                }

                await Task.Delay(PollInterval, time, cancellationToken);
            }

            return new AdvisoryLock(connection, key, sourceId, logger);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<bool> TryLockAsync(NpgsqlConnection connection, long key, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
        command.Parameters.AddWithValue("key", key);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    private static TimeoutException Busy(Guid sourceId, TimeSpan timeout)
        => new($"Another sync of source {sourceId} has been running for over {timeout} (Rag:Jobs:SyncLockTimeout); this sync gives up and is retried later. If no sync of it is running, check the worker logs.");

    private sealed class LocalLock(SemaphoreSlim gate) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            gate.Release();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class AdvisoryLock(NpgsqlConnection connection, long key, Guid sourceId, ILogger logger) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
                command.Parameters.AddWithValue("key", key);
                await command.ExecuteScalarAsync(CancellationToken.None);
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
            {
                // Closing the session below releases the lock all the same.
                logger.LogWarning(ex, "Could not release the sync lock of source {SourceId} explicitly; closing its session releases it", sourceId);
            }
            finally
            {
                await connection.DisposeAsync();
            }
        }
    }
}
