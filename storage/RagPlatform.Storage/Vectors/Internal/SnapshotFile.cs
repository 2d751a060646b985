using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using RagPlatform.Core.Indexing;

namespace RagPlatform.Storage.Vectors.Internal;

/// <summary>
/// The snapshot: every row of the table at one generation, in one file written to a temporary name,
/// flushed to disk and renamed over the previous one, so a crash leaves either the old or the new
/// snapshot whole. Layout (little-endian): a 36-byte header (magic, format, dimensions, rows, generation,
/// CRC), the row section (tenants, principals, access groups, rows) with its CRC-32C, the vector slab as raw floats with
/// its CRC-32C, and a trailer.
/// </summary>
internal static class SnapshotFile
{
    public const string FileName = "vectors.snapshot";
    public const string TempFileName = "vectors.snapshot.tmp";
    private const int FormatVersion = 1;
    private const int HeaderSize = 36;
    private const int BufferSize = 1 << 20;
    private static readonly byte[] Magic = "RAGVSNP1"u8.ToArray();
    private static readonly byte[] Trailer = "RAGVEND1"u8.ToArray();

    /// <summary>Loads the snapshot into the empty <paramref name="table"/>; generation 0 and size 0 when there is none yet.</summary>
    public static (ulong Generation, long Size) Load(string directory, VectorTable table)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return (0, 0);
        }

        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan);
        try
        {
            Span<byte> header = stackalloc byte[HeaderSize];
            file.ReadExactly(header);
            if (!header[..8].SequenceEqual(Magic))
            {
                throw new InvalidDataException("it is not a vector index snapshot");
            }

            if (BinaryPrimitives.ReadUInt32LittleEndian(header[32..]) != Crc32C.Compute(header[..32]))
            {
                throw new InvalidDataException("its header checksum does not match");
            }

            var format = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
            if (format != FormatVersion)
            {
                throw new InvalidDataException($"it has format {format}, and this version reads format {FormatVersion}");
            }

            var dimensions = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
            var rows = BinaryPrimitives.ReadInt32LittleEndian(header[16..]);
            var generation = BinaryPrimitives.ReadUInt64LittleEndian(header[24..]);
            if (dimensions is < 0 or > PreparedBatch.MaxDimensions || rows < 0 || (rows > 0 && (dimensions == 0 || rows > VectorTable.MaxRows(dimensions))))
            {
                throw new InvalidDataException($"its header holds {rows} rows of {dimensions} dimensions");
            }

            var checksummed = new ChecksumStream(file);
            using (var reader = new BinaryReader(checksummed, Encoding.UTF8, leaveOpen: true))
            {
                var limit = file.Length;
                var tenants = ReadInterned(reader, table.Access.Tenants, limit);
                var principals = ReadInterned(reader, table.Access.Principals, limit);
                var groups = ReadBounded(reader, limit);
                for (var group = 0; group < groups; group++)
                {
                    var tenant = ReadId(reader, tenants);
                    var acl = new int[ReadBounded(reader, principals)];
                    for (var i = 0; i < acl.Length; i++)
                    {
                        acl[i] = ReadId(reader, principals);
                    }

                    if (table.Access.Intern(tenant, acl) != group)
                    {
                        throw new InvalidDataException("an access group appears twice");
                    }
                }

                table.BeginLoad(dimensions, rows);
                for (var row = 0; row < rows; row++)
                {
                    var chunkId = reader.ReadString();
                    var documentId = BatchCodec.ReadGuid(reader);
                    var version = reader.ReadInt32();
                    var group = ReadId(reader, groups);
                    var sourceId = BatchCodec.ReadGuid(reader);
                    var changedAt = reader.ReadInt64();
                    var metadata = BatchCodec.ReadMetadata(reader);
                    table.SetLoadedRow(row, chunkId, documentId, version, group, sourceId, changedAt, metadata);
                }
            }

            ExpectCrc(file, checksummed.Crc, "row section");
            checksummed.ResetCrc();
            checksummed.ReadExactly(MemoryMarshal.AsBytes(table.Vectors.AsSpan(0, rows * dimensions)));
            ExpectCrc(file, checksummed.Crc, "vector section");
            Span<byte> trailer = stackalloc byte[Trailer.Length];
            file.ReadExactly(trailer);
            if (!trailer.SequenceEqual(Trailer) || file.Position != file.Length)
            {
                throw new InvalidDataException("it does not end where its header says");
            }

            table.EndLoad();
            return (generation, file.Length);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new InvalidDataException(
                $"The vector index snapshot {path} is damaged: {ex.Message}. It was written whole and flushed, so the disk or another program changed it. " +
                $"Restore the directory from a backup, or delete {directory} and re-index.",
                ex);
        }
    }

    /// <summary>
    /// Writes <paramref name="table"/> as generation <paramref name="generation"/>: to a temporary file,
    /// flushed to disk, renamed over the snapshot, and the rename made durable. Returns the file's size.
    /// </summary>
    public static long Write(string directory, VectorTable table, ulong generation)
    {
        if (table.End != table.Count)
        {
            throw new InvalidOperationException("a snapshot is written from a dense table; compact it first");
        }

        var temp = Path.Combine(directory, TempFileName);
        var rows = table.Count;
        var dimensions = rows == 0 ? 0 : table.Dimensions;
        long size;
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, BufferSize))
        {
            Span<byte> header = stackalloc byte[HeaderSize];
            header.Clear();
            Magic.CopyTo(header);
            BinaryPrimitives.WriteInt32LittleEndian(header[8..], FormatVersion);
            BinaryPrimitives.WriteInt32LittleEndian(header[12..], dimensions);
            BinaryPrimitives.WriteInt32LittleEndian(header[16..], rows);
            BinaryPrimitives.WriteUInt64LittleEndian(header[24..], generation);
            BinaryPrimitives.WriteUInt32LittleEndian(header[32..], Crc32C.Compute(header[..32]));
            file.Write(header);

            var checksummed = new ChecksumStream(file);
            using (var writer = new BinaryWriter(checksummed, Encoding.UTF8, leaveOpen: true))
            {
                // Written as they are: compaction collects unused tenants, principals and groups first.
                var access = table.Access;
                WriteStrings(writer, access.Tenants);
                WriteStrings(writer, access.Principals);
                writer.Write7BitEncodedInt(access.Count);
                for (var group = 0; group < access.Count; group++)
                {
                    writer.Write7BitEncodedInt(access.TenantOf(group));
                    var acl = access.PrincipalsOf(group);
                    writer.Write7BitEncodedInt(acl.Length);
                    foreach (var id in acl)
                    {
                        writer.Write7BitEncodedInt(id);
                    }
                }

                for (var row = 0; row < rows; row++)
                {
                    writer.Write(table.ChunkIds[row]);
                    writer.Write(table.DocumentIds[row].ToByteArray());
                    writer.Write(table.Versions[row]);
                    writer.Write7BitEncodedInt(table.AccessGroupIds[row]);
                    writer.Write(table.SourceIds[row].ToByteArray());
                    writer.Write(table.ChangedAtUtcTicks[row]);
                    BatchCodec.WriteMetadata(writer, table.Metadata[row]);
                }
            }

            WriteCrc(file, checksummed.Crc);
            checksummed.ResetCrc();
            checksummed.Write(MemoryMarshal.AsBytes(table.Vectors.AsSpan(0, rows * dimensions)));
            WriteCrc(file, checksummed.Crc);
            file.Write(Trailer);
            file.Flush(flushToDisk: true);
            size = file.Length;
        }

        File.Move(temp, Path.Combine(directory, FileName), overwrite: true);
        DirectorySync.Flush(directory);
        return size;
    }

    private static void WriteCrc(Stream file, uint crc)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, crc);
        file.Write(bytes);
    }

    private static void ExpectCrc(Stream file, uint actual, string section)
    {
        Span<byte> bytes = stackalloc byte[4];
        file.ReadExactly(bytes);
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes) != actual)
        {
            throw new InvalidDataException($"the checksum of its {section} does not match");
        }
    }

    private static void WriteStrings(BinaryWriter writer, StringInterner interner)
    {
        writer.Write7BitEncodedInt(interner.Count);
        for (var id = 0; id < interner.Count; id++)
        {
            writer.Write(interner[id]);
        }
    }

    /// <summary>Reads a string table into a fresh interner; returns how many strings it holds.</summary>
    private static int ReadInterned(BinaryReader reader, StringInterner interner, long limit)
    {
        var count = ReadBounded(reader, limit);
        for (var i = 0; i < count; i++)
        {
            if (interner.Intern(reader.ReadString()) != i)
            {
                throw new InvalidDataException("a string table holds a string twice");
            }
        }

        return count;
    }

    private static int ReadId(BinaryReader reader, int count)
    {
        var id = reader.Read7BitEncodedInt();
        return id >= 0 && id < count ? id : throw new InvalidDataException($"an id {id} is out of its table of {count}");
    }

    private static int ReadBounded(BinaryReader reader, long limit)
    {
        var count = reader.Read7BitEncodedInt();
        return count >= 0 && count <= limit ? count : throw new InvalidDataException($"a count of {count} is out of range");
    }
}
