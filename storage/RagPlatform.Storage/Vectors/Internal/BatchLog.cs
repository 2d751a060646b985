using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace RagPlatform.Storage.Vectors.Internal;

/// <summary>
/// The append-only log of batches applied since the snapshot. A 20-byte header (magic, the snapshot
/// generation the log continues, CRC-32C) is followed by records: a magic number, the payload length,
/// the CRC-32C of length and payload, and the payload. Each record is flushed to disk before its batch is
/// applied, so after a crash the log holds every acknowledged batch; only the last record can be torn,
/// and it is cut off when the log is opened. The record magic lets that check tell a torn end from damage
/// in the middle, which would silently drop acknowledged batches if it were cut off too.
/// </summary>
internal sealed class BatchLog : IDisposable
{
    public const string FileName = "vectors.log";
    public const int HeaderSize = 20;
    public const int RecordHeaderSize = 12;
    private const uint RecordMagic = 0x5247_5652; // "RVGR" when read as little-endian bytes
    private const int ScanChunk = 1 << 20;
    private static readonly byte[] Magic = "RAGVLOG1"u8.ToArray();

    private readonly SafeFileHandle _handle;
    private readonly string _path;

    private BatchLog(SafeFileHandle handle, string path)
    {
        _handle = handle;
        _path = path;
    }

    /// <summary>Bytes in the file, header included.</summary>
    public long Length { get; private set; }

    /// <summary>Bytes of records, the part a snapshot would fold away.</summary>
    public long RecordBytes => Length - HeaderSize;

    /// <summary>True when a failed append could not be undone: nothing more may be appended until the log is opened again.</summary>
    public bool IsBroken { get; private set; }

    /// <summary>The snapshot generation this log continues.</summary>
    public ulong Generation { get; private set; }

    /// <summary>
    /// Opens the log of <paramref name="directory"/> and hands each intact record to <paramref name="apply"/>,
    /// in order. A log left from before the current snapshot is emptied; a torn or corrupt last record is cut off.
    /// </summary>
    public static BatchLog Open(string directory, ulong snapshotGeneration, Action<byte[]> apply, ILogger logger)
    {
        var path = Path.Combine(directory, FileName);
        var log = new BatchLog(File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read), path);
        try
        {
            log.Replay(directory, snapshotGeneration, apply, logger);
            return log;
        }
        catch
        {
            log.Dispose();
            throw;
        }
    }

    /// <summary>Appends one record and flushes it to disk. On failure the log is cut back, so that no partial record stays in the middle.</summary>
    public void Append(byte[] payload)
    {
        var header = new byte[RecordHeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, RecordMagic);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), Checksum(header.AsSpan(4, 4), payload));
        try
        {
            RandomAccess.Write(_handle, [header, payload], Length);

            // fsync, as FileStream.Flush(true) would: the batch is acknowledged only once it is on disk.
            RandomAccess.FlushToDisk(_handle);
        }
        catch
        {
            try
            {
                RandomAccess.SetLength(_handle, Length);
                RandomAccess.FlushToDisk(_handle);
            }
            catch (Exception)
            {
                // A partial record may now sit at the end; appending after it would bury it in the middle.
                // Opening the log again cuts it off, so the index refuses writes until then.
                IsBroken = true;
            }

            throw;
        }

        Length += RecordHeaderSize + payload.Length;
    }

    /// <summary>Empties the log and starts it over for snapshot <paramref name="generation"/>.</summary>
    public void Reset(ulong generation)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], generation);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], Crc32C.Compute(header[..16]));
        RandomAccess.SetLength(_handle, 0);
        RandomAccess.Write(_handle, header, 0);
        RandomAccess.FlushToDisk(_handle);
        Length = HeaderSize;
        Generation = generation;
    }

    public void Dispose() => _handle.Dispose();

    private void Replay(string directory, ulong snapshotGeneration, Action<byte[]> apply, ILogger logger)
    {
        var length = RandomAccess.GetLength(_handle);
        if (!TryReadHeader(length, out var generation))
        {
            if (length > HeaderSize)
            {
                throw Damaged(directory, "its header is damaged");
            }

            // New, or torn while being reset: records are only ever written after a complete header.
            // A new file's name reaches the disk only with its directory; batches in a file whose name
            // was lost would be lost with it.
            Reset(snapshotGeneration);
            DirectorySync.Flush(directory);
            return;
        }

        if (generation < snapshotGeneration)
        {
            // The process stopped after a new snapshot was in place but before the log was emptied:
            // the snapshot already holds every batch of this log.
            logger.LogInformation("Emptied the vector index log {Path}: it continues snapshot generation {LogGeneration}, and the snapshot (generation {SnapshotGeneration}) already holds its batches", _path, generation, snapshotGeneration);
            Reset(snapshotGeneration);
            return;
        }

        if (generation > snapshotGeneration)
        {
            throw Damaged(directory, $"it continues snapshot generation {generation}, but the snapshot is at generation {snapshotGeneration}, so the snapshot was replaced or lost");
        }

        Generation = generation;
        long position = HeaderSize;
        var records = 0;
        while (position < length && TryReadRecord(position, length, out var payload, out var next))
        {
            try
            {
                apply(payload);
            }
            catch (InvalidDataException ex)
            {
                throw Damaged(directory, $"record {records + 1} at offset {position} has a valid checksum but does not parse ({ex.Message})");
            }

            position = next;
            records++;
        }

        if (position < length)
        {
            if (FindRecordAfter(position, length) is { } later)
            {
                throw Damaged(directory, $"record {records + 1} at offset {position} is damaged, yet an intact record follows at offset {later}, so this is not a write cut short by a crash");
            }

            logger.LogWarning(
                "Cut {Bytes} bytes off the end of the vector index log {Path} at offset {Offset}: the last batch was being written when the process stopped, and was never acknowledged",
                length - position,
                _path,
                position);
            RandomAccess.SetLength(_handle, position);
            RandomAccess.FlushToDisk(_handle);
        }

        Length = position;
    }

    private bool TryReadHeader(long length, out ulong generation)
    {
        generation = 0;
        if (length < HeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        RandomAccess.Read(_handle, header, 0);
        if (!header[..8].SequenceEqual(Magic) || BinaryPrimitives.ReadUInt32LittleEndian(header[16..]) != Crc32C.Compute(header[..16]))
        {
            return false;
        }

        generation = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
        return true;
    }

    private bool TryReadRecord(long position, long length, out byte[] payload, out long next)
    {
        payload = [];
        next = position;
        Span<byte> header = stackalloc byte[RecordHeaderSize];
        if (length - position < RecordHeaderSize || ReadFully(header, position) < RecordHeaderSize)
        {
            return false;
        }

        var size = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != RecordMagic || size <= 0 || size > length - position - RecordHeaderSize)
        {
            return false;
        }

        var bytes = GC.AllocateUninitializedArray<byte>(size);
        if (ReadFully(bytes, position + RecordHeaderSize) < size || Checksum(header.Slice(4, 4), bytes) != BinaryPrimitives.ReadUInt32LittleEndian(header[8..]))
        {
            return false;
        }

        payload = bytes;
        next = position + RecordHeaderSize + size;
        return true;
    }

    /// <summary>The offset of an intact record after the damaged one at <paramref name="position"/>, or null.</summary>
    private long? FindRecordAfter(long position, long length)
    {
        Span<byte> magic = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(magic, RecordMagic);
        var buffer = new byte[ScanChunk];
        for (var start = position + 1; start < length; start += ScanChunk - (magic.Length - 1))
        {
            var read = ReadFully(buffer, start);
            var window = buffer.AsSpan(0, read);
            var offset = 0;
            while (true)
            {
                var hit = window[offset..].IndexOf(magic);
                if (hit < 0)
                {
                    break;
                }

                var candidate = start + offset + hit;
                if (TryReadRecord(candidate, length, out _, out _))
                {
                    return candidate;
                }

                offset += hit + 1;
            }

            if (start + read >= length)
            {
                break;
            }
        }

        return null;
    }

    private int ReadFully(Span<byte> buffer, long offset)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = RandomAccess.Read(_handle, buffer[total..], offset + total);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    private static uint Checksum(ReadOnlySpan<byte> length, ReadOnlySpan<byte> payload)
        => Crc32C.Append(Crc32C.Compute(length), payload);

    private InvalidDataException Damaged(string directory, string reason)
        => new($"The vector index log {_path} is damaged: {reason}. Restore the directory from a backup, or delete {directory} and re-index.");
}
