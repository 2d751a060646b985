using System.Runtime.InteropServices;
using RagPlatform.Core.Indexing;

namespace RagPlatform.Storage.Vectors.Internal;

/// <summary>
/// The binary form of a <see cref="PreparedBatch"/> in the log: little-endian, strings as UTF-8 with a
/// 7-bit length, vectors as raw floats. Framing and checksums are the log's business.
/// </summary>
internal static class BatchCodec
{
    private const byte BatchRecord = 1;

    public static byte[] Encode(PreparedBatch batch)
    {
        using var buffer = new MemoryStream(64 + (batch.Upserts.Length * ((batch.Dimensions * sizeof(float)) + 128)));
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(BatchRecord);
            writer.Write7BitEncodedInt(batch.Deletions.Length);
            foreach (var deletion in batch.Deletions)
            {
                writer.Write(deletion.DocumentId.ToByteArray());
                writer.Write(deletion.KeepVersion.HasValue);
                writer.Write(deletion.KeepVersion ?? 0);
            }

            writer.Write7BitEncodedInt(batch.Dimensions);
            writer.Write7BitEncodedInt(batch.Upserts.Length);
            foreach (var row in batch.Upserts)
            {
                writer.Write(row.ChunkId);
                writer.Write(row.DocumentId.ToByteArray());
                writer.Write(row.Version);
                writer.Write(row.Tenant);
                writer.Write(row.SourceId.ToByteArray());
                WriteStrings(writer, row.Acl);
                writer.Write(row.ChangedAtUtcTicks);
                WriteMetadata(writer, row.Metadata);
                writer.Write(MemoryMarshal.AsBytes(row.Vector.AsSpan()));
            }

            writer.Write7BitEncodedInt(batch.AccessUpdates.Length);
            foreach (var update in batch.AccessUpdates)
            {
                writer.Write(update.DocumentId.ToByteArray());
                WriteStrings(writer, update.Acl);
            }
        }

        return buffer.ToArray();
    }

    /// <summary>Decodes a record whose checksum has been verified; throws <see cref="InvalidDataException"/> if it still does not parse.</summary>
    public static PreparedBatch Decode(byte[] payload)
    {
        using var reader = new BinaryReader(new MemoryStream(payload, writable: false), System.Text.Encoding.UTF8);
        try
        {
            if (reader.ReadByte() != BatchRecord)
            {
                throw new InvalidDataException("unknown record type");
            }

            var deletions = new DocumentDeletion[ReadCount(reader)];
            for (var i = 0; i < deletions.Length; i++)
            {
                var documentId = ReadGuid(reader);
                var hasKeep = reader.ReadBoolean();
                var keep = reader.ReadInt32();
                deletions[i] = new DocumentDeletion(documentId, hasKeep ? keep : null);
            }

            var dimensions = ReadCount(reader);
            var upserts = new PreparedRow[ReadCount(reader)];
            for (var i = 0; i < upserts.Length; i++)
            {
                var chunkId = reader.ReadString();
                var documentId = ReadGuid(reader);
                var version = reader.ReadInt32();
                var tenant = reader.ReadString();
                var sourceId = ReadGuid(reader);
                var acl = ReadStrings(reader);
                var changedAt = reader.ReadInt64();
                var metadata = ReadMetadata(reader);
                var vector = new float[dimensions];
                reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(vector.AsSpan()));
                upserts[i] = new PreparedRow(chunkId, documentId, version, tenant, sourceId, acl, changedAt, metadata, vector);
            }

            var access = new PreparedAccessUpdate[ReadCount(reader)];
            for (var i = 0; i < access.Length; i++)
            {
                access[i] = new PreparedAccessUpdate(ReadGuid(reader), ReadStrings(reader));
            }

            if (reader.BaseStream.Position != payload.Length)
            {
                throw new InvalidDataException("trailing bytes after the batch");
            }

            return new PreparedBatch(deletions, upserts, access, dimensions);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException("the batch record ends early", ex);
        }
    }

    internal static void WriteStrings(BinaryWriter writer, IReadOnlyCollection<string> values)
    {
        writer.Write7BitEncodedInt(values.Count);
        foreach (var value in values)
        {
            writer.Write(value);
        }
    }

    internal static string[] ReadStrings(BinaryReader reader)
    {
        var values = new string[ReadCount(reader)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = reader.ReadString();
        }

        return values;
    }

    internal static void WriteMetadata(BinaryWriter writer, IReadOnlyDictionary<string, string> metadata)
    {
        writer.Write7BitEncodedInt(metadata.Count);
        foreach (var (key, value) in metadata)
        {
            writer.Write(key);
            writer.Write(value);
        }
    }

    internal static IReadOnlyDictionary<string, string> ReadMetadata(BinaryReader reader)
    {
        var count = ReadCount(reader);
        if (count == 0)
        {
            return IndexedChunk.EmptyMetadata;
        }

        // Not presized beyond a little: in a damaged file the count may be huge, and reading fails soon enough.
        var metadata = new Dictionary<string, string>(Math.Min(count, 64), StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            metadata[reader.ReadString()] = reader.ReadString();
        }

        return metadata;
    }

    internal static Guid ReadGuid(BinaryReader reader)
    {
        Span<byte> bytes = stackalloc byte[16];
        reader.BaseStream.ReadExactly(bytes);
        return new Guid(bytes);
    }

    /// <summary>A count that cannot exceed what is left of the stream, so damaged data fails fast instead of allocating gigabytes.</summary>
    internal static int ReadCount(BinaryReader reader)
    {
        var count = reader.Read7BitEncodedInt();
        var stream = reader.BaseStream;
        if (count < 0 || (stream.CanSeek && count > stream.Length - stream.Position))
        {
            throw new InvalidDataException($"a count of {count} does not fit the data");
        }

        return count;
    }
}
