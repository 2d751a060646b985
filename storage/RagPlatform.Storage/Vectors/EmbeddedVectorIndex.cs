using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Core;
using RagPlatform.Core.Indexing;
using RagPlatform.Storage.Vectors.Internal;

namespace RagPlatform.Storage.Vectors;

/// <summary>
/// The in-process vector index of the embedded deployment: exact cosine search over every row that passes
/// the filter, with the vectors in memory and a snapshot plus a log of batches on disk.
/// </summary>
/// <remarks>
/// <para>
/// Durability: a batch is validated whole, written to the log as one checksummed record and flushed to disk,
/// and only then applied in memory, so it is all there or not there after a crash. Opening loads the
/// snapshot and replays the log, cutting off a torn last record. The log is folded into a new snapshot
/// when it grows past <see cref="VectorIndexOptions.LogCompactionBytes"/> and on <see cref="Dispose"/>.
/// </para>
/// <para>
/// Concurrency: searches share a reader lock and run in parallel with each other; batches are serialised
/// and take the writer lock only to change memory (after the log write), so no search ever sees half a
/// batch. A reader-writer lock rather than copy-on-write, because a delete moves the last row of the
/// slab into the hole: rows are changed in place, and copying a slab of hundreds of megabytes per batch
/// would cost far more than the microseconds writers hold the lock.
/// </para>
/// <para>One process at a time: a <c>LOCK</c> file held open without sharing keeps a second one out.</para>
/// </remarks>
public sealed class EmbeddedVectorIndex : IVectorIndex, IDisposable
{
    private const string LockFileName = "LOCK";

    private readonly string _directory;
    private readonly VectorIndexOptions _options;
    private readonly ILogger _logger;
    private readonly VectorTable _table;
    private readonly BatchLog _log;
    private readonly FileStream _lockFile;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);

    // Never disposed: an ApplyAsync waiting on it when the index is disposed must wake up and see _disposed.
    private readonly SemaphoreSlim _writer = new(1, 1);

    private long _snapshotBytes;
    private int _searching;
    private string? _writeFailure;
    private volatile bool _disposed;

    private EmbeddedVectorIndex(string directory, VectorIndexOptions options, ILogger logger, VectorTable table, BatchLog log, FileStream lockFile, long snapshotBytes)
    {
        _directory = directory;
        _options = options;
        _logger = logger;
        _table = table;
        _log = log;
        _lockFile = lockFile;
        _snapshotBytes = snapshotBytes;
    }

    /// <inheritdoc />
    public long Count => _table.Count;

    /// <inheritdoc />
    public int? Dimensions
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _table.Count == 0 ? null : _table.Dimensions;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>
    /// Opens the index stored in <paramref name="directory"/>, creating it when new: loads the snapshot and
    /// replays the log. Fails when another process has it open, or when its files are damaged beyond a torn
    /// last write.
    /// </summary>
    public static EmbeddedVectorIndex Open(string directory, VectorIndexOptions? options = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        options ??= new VectorIndexOptions();
        Validate(options);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The embedded vector index stores its files little-endian and runs on little-endian machines only.");
        }

        logger ??= NullLogger.Instance;
        var full = Path.GetFullPath(directory);
        if (!Directory.Exists(full))
        {
            Directory.CreateDirectory(full);
            if (Path.GetDirectoryName(full) is { } parent)
            {
                DirectorySync.Flush(parent);
            }
        }

        var lockFile = AcquireLock(full);
        try
        {
            var started = Stopwatch.GetTimestamp();

            // A snapshot that was being written when the process stopped; the one it was to replace is intact.
            File.Delete(Path.Combine(full, SnapshotFile.TempFileName));
            var table = new VectorTable(options.MinUngroupedRows);
            var (generation, snapshotBytes) = SnapshotFile.Load(full, table);
            var log = BatchLog.Open(full, generation, payload => table.Apply(BatchCodec.Decode(payload)), logger);
            logger.LogInformation(
                "Opened the vector index {Directory}: {Rows} vectors of {Dimensions} dimensions, snapshot generation {Generation}, {LogBytes} log bytes replayed, in {ElapsedMs} ms",
                full,
                table.Count,
                table.Dimensions,
                generation,
                log.RecordBytes,
                (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return new EmbeddedVectorIndex(full, options, logger, table, log, lockFile, snapshotBytes);
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public async Task ApplyAsync(IndexBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _writer.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_writeFailure is not null)
            {
                throw new InvalidOperationException(_writeFailure);
            }

            var prepared = PreparedBatch.Prepare(batch, _table.Count == 0 ? null : _table.Dimensions, _directory);
            if (prepared.IsEmpty)
            {
                return;
            }

            CheckCapacity(prepared);
            var payload = BatchCodec.Encode(prepared);

            // The last point at which giving up leaves nothing behind.
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                _log.Append(payload);
            }
            catch (Exception) when (_log.IsBroken)
            {
                _writeFailure = $"Writing to the vector index log in {_directory} failed and could not be undone; no more batches are accepted. Dispose the index and open it again once the disk is healthy.";
                throw;
            }

            _lock.EnterWriteLock();
            try
            {
                _table.Apply(prepared);
            }
            catch (Exception ex)
            {
                // Only running out of memory can get here; the batch is in the log, so reopening replays it.
                _writeFailure = $"Applying a logged batch to the vector index in {_directory} failed ({ex.Message}); no more batches are accepted. Dispose the index and open it again, which replays the batch from the log.";
                throw;
            }
            finally
            {
                _lock.ExitWriteLock();
            }

            if (_log.RecordBytes >= Math.Max(_options.LogCompactionBytes, _snapshotBytes / 2))
            {
                TryCompact();
            }
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ScoredChunk>> SearchAsync(ReadOnlyMemory<float> query, SearchFilter filter, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        _lock.EnterReadLock();
        try
        {
            return new ValueTask<IReadOnlyList<ScoredChunk>>(Search(query.Span, filter, limit, cancellationToken));
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyDictionary<string, float[]>> GetVectorsAsync(IReadOnlyCollection<string> chunkIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chunkIds);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        _lock.EnterReadLock();
        try
        {
            foreach (var chunkId in chunkIds)
            {
                if (chunkId is not null && _table.TryGetRow(chunkId, out var row))
                {
                    vectors[chunkId] = _table.Vector(row).ToArray();
                }
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }

        return new ValueTask<IReadOnlyDictionary<string, float[]>>(vectors);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<IndexedDocumentVersion>> ListDocumentVersionsAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var versions = new List<IndexedDocumentVersion>();
        _lock.EnterReadLock();
        try
        {
            var counts = new Dictionary<int, int>();
            foreach (var (documentId, chunkIds) in _table.ChunksByDocument)
            {
                counts.Clear();
                foreach (var chunkId in chunkIds)
                {
                    _table.TryGetRow(chunkId, out var row);
                    var version = _table.Versions[row];
                    counts[version] = counts.GetValueOrDefault(version) + 1;
                }

                foreach (var (version, count) in counts)
                {
                    versions.Add(new IndexedDocumentVersion(documentId, version, count));
                }
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }

        versions.Sort((a, b) => a.DocumentId != b.DocumentId ? a.DocumentId.CompareTo(b.DocumentId) : a.Version.CompareTo(b.Version));
        return Task.FromResult<IReadOnlyList<IndexedDocumentVersion>>(versions);
    }

    /// <summary>Folds the log into a new snapshot (unless it is empty), then closes the files and releases the directory.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _writer.Wait();
        try
        {
            if (_disposed)
            {
                return;
            }

            if (_writeFailure is null && _log.RecordBytes > 0)
            {
                TryCompact();
            }

            Close();
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>Releases the files the way a killed process would: no snapshot, nothing flushed beyond what is already on disk.</summary>
    internal void SimulateCrash()
    {
        _writer.Wait();
        try
        {
            Close();
        }
        finally
        {
            _writer.Release();
        }
    }

    private ScoredChunk[] Search(ReadOnlySpan<float> query, SearchFilter filter, int limit, CancellationToken cancellationToken)
    {
        var count = _table.Count;
        if (limit == 0 || count == 0)
        {
            return [];
        }

        var dimensions = _table.Dimensions;
        if (query.Length != dimensions)
        {
            throw new RagValidationException(
                "query",
                $"the query vector has {query.Length} dimensions but the vector index at {_directory} holds {dimensions}-d vectors: the query was embedded by another model than the chunks. " +
                "Configure the model the index was built with, or re-index into a fresh data directory.");
        }

        var normalized = new float[dimensions];
        if (!VectorMath.TryNormalize(query, normalized))
        {
            throw new RagValidationException("query", "the query vector is all zeros or holds NaN or infinity, so nothing can be compared with it; check the embedding model");
        }

        if (CompiledFilter.Compile(filter, _table) is not { } compiled)
        {
            return [];
        }

        // Cores that other searches are not already scanning on: splitting one scan across threads cuts its
        // latency when it runs alone, but under concurrent searches it only adds hand-offs.
        var concurrent = Interlocked.Increment(ref _searching);
        ScoredRow[] rows;
        try
        {
            var threads = Math.Max(1, _options.MaxSearchParallelism - (concurrent - 1));
            rows = VectorScanner.Search(_table, normalized, compiled, limit, threads, _options, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _searching);
        }

        var hits = new ScoredChunk[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            var row = rows[i].Row;
            hits[i] = new ScoredChunk(_table.ChunkIds[row], _table.DocumentIds[row], _table.Versions[row], rows[i].Score);
        }

        // Equal scores in chunk-id order, so that the same query gives the same list whatever the row layout.
        Array.Sort(hits, static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : string.CompareOrdinal(a.ChunkId, b.ChunkId));
        return hits;
    }

    private void CheckCapacity(PreparedBatch batch)
    {
        var dimensions = batch.Dimensions;
        var max = VectorTable.MaxRows(dimensions);
        if (batch.Upserts.Length > 0 && (long)_table.Count + batch.Upserts.Length > max)
        {
            throw new InvalidOperationException(
                $"The embedded vector index at {_directory} holds at most {max} vectors of {dimensions} dimensions in memory, and this batch would go past it. " +
                "Use the distributed deployment (Qdrant) for a collection this large.");
        }
    }

    /// <summary>
    /// Writes a snapshot of generation + 1 and empties the log. The batch that triggered it is already
    /// durable, so a failure here is logged, not thrown: the log simply keeps growing until a later try works.
    /// </summary>
    private void TryCompact()
    {
        var started = Stopwatch.GetTimestamp();
        var generation = _log.Generation + 1;
        _lock.EnterWriteLock();
        try
        {
            _table.Compact();
        }
        finally
        {
            _lock.ExitWriteLock();
        }

        try
        {
            _snapshotBytes = SnapshotFile.Write(_directory, _table, generation);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogError(ex, "Could not write a snapshot of the vector index {Directory}; its log keeps every batch and compaction will be tried again", _directory);
            return;
        }

        try
        {
            _log.Reset(generation);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The new snapshot holds every batch; the log still continues the old generation, so batches
            // appended to it now would be ignored at the next open. Refuse them instead.
            _writeFailure = $"The vector index log in {_directory} could not be emptied after a snapshot ({ex.Message}); no more batches are accepted. Dispose the index and open it again.";
            _logger.LogError(ex, "Could not empty the vector index log {Directory} after writing snapshot generation {Generation}; writes are refused until the index is opened again", _directory, generation);
            return;
        }

        _logger.LogInformation(
            "Wrote vector index snapshot generation {Generation} of {Directory}: {Rows} vectors, {Bytes} bytes, in {ElapsedMs} ms",
            generation,
            _directory,
            _table.Count,
            _snapshotBytes,
            (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private void Close()
    {
        if (_disposed)
        {
            return;
        }

        // Waits for searches in flight.
        _lock.EnterWriteLock();
        _disposed = true;
        _lock.ExitWriteLock();
        _lock.Dispose();
        _log.Dispose();
        _lockFile.Dispose();
    }

    private static FileStream AcquireLock(string directory)
    {
        try
        {
            return new FileStream(Path.Combine(directory, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException($"the vector index at {directory} is in use by another process; stop it or use another data directory", ex);
        }
    }

    private static void Validate(VectorIndexOptions options)
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            var first = results[0];
            throw new RagValidationException($"VectorIndexOptions.{first.MemberNames.FirstOrDefault()}", first.ErrorMessage ?? "is out of range");
        }

        if (options.MinUngroupedRows < 1)
        {
            throw new RagValidationException("VectorIndexOptions.MinUngroupedRows", "must be at least 1");
        }

        if (options.MinCodesPerPartition < 1)
        {
            throw new RagValidationException("VectorIndexOptions.MinCodesPerPartition", "must be at least 1");
        }
    }
}
