using System.Buffers.Binary;
using System.Text;

namespace RagPlatform.Ingestion.Parsing.Internal;

/// <summary>
/// The central directory of a ZIP archive, read straight from the bytes: enough to tell a DOCX from
/// other ZIP-based formats and to see how large the archive claims to expand, without copying the
/// file or decompressing anything.
/// </summary>
internal sealed class ZipDirectory
{
    private const uint EndOfDirectorySignature = 0x06054b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const uint Zip64EndSignature = 0x06064b50;
    private const uint EntrySignature = 0x02014b50;

    /// <summary>More entries than any real office document has (a large DOCX has a few hundred).</summary>
    private const int MaxEntries = 100_000;

    private readonly HashSet<string> _names;

    private ZipDirectory(HashSet<string> names, long totalUncompressed)
    {
        _names = names;
        TotalUncompressedBytes = totalUncompressed;
    }

    public int Count => _names.Count;

    /// <summary>The sum of the sizes the entries declare once decompressed.</summary>
    public long TotalUncompressedBytes { get; }

    public bool Contains(string name) => _names.Contains(name);

    public bool Any(Func<string, bool> predicate) => _names.Any(predicate);

    public static bool HasZipSignature(ReadOnlySpan<byte> content)
        => content.Length >= 4 && content[0] == (byte)'P' && content[1] == (byte)'K'
           && ((content[2] == 3 && content[3] == 4) || (content[2] == 5 && content[3] == 6) || (content[2] == 7 && content[3] == 8));

    /// <summary>Reads the directory; null when the archive is truncated or damaged.</summary>
    public static ZipDirectory? TryRead(ReadOnlySpan<byte> content)
    {
        // The end record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
        var searchStart = Math.Max(0, content.Length - (22 + ushort.MaxValue));
        var eocd = -1;
        for (var i = content.Length - 22; i >= searchStart; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(content[i..]) == EndOfDirectorySignature)
            {
                eocd = i;
                break;
            }
        }

        if (eocd < 0)
        {
            return null;
        }

        long entryCount = BinaryPrimitives.ReadUInt16LittleEndian(content[(eocd + 10)..]);
        long directorySize = BinaryPrimitives.ReadUInt32LittleEndian(content[(eocd + 12)..]);
        long directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(content[(eocd + 16)..]);
        if ((entryCount == ushort.MaxValue || directorySize == uint.MaxValue || directoryOffset == uint.MaxValue) && eocd >= 20
            && BinaryPrimitives.ReadUInt32LittleEndian(content[(eocd - 20)..]) == Zip64LocatorSignature)
        {
            var zip64End = BinaryPrimitives.ReadInt64LittleEndian(content[(eocd - 12)..]);
            if (zip64End < 0 || zip64End > content.Length - 56
                || BinaryPrimitives.ReadUInt32LittleEndian(content[(int)zip64End..]) != Zip64EndSignature)
            {
                return null;
            }

            entryCount = BinaryPrimitives.ReadInt64LittleEndian(content[((int)zip64End + 32)..]);
            directorySize = BinaryPrimitives.ReadInt64LittleEndian(content[((int)zip64End + 40)..]);
            directoryOffset = BinaryPrimitives.ReadInt64LittleEndian(content[((int)zip64End + 48)..]);
        }

        if (entryCount < 0 || entryCount > MaxEntries || directoryOffset < 0 || directorySize < 0
            || directoryOffset + directorySize > content.Length)
        {
            return null;
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        long total = 0;
        var position = (int)directoryOffset;
        for (long n = 0; n < entryCount; n++)
        {
            if (position > content.Length - 46 || BinaryPrimitives.ReadUInt32LittleEndian(content[position..]) != EntrySignature)
            {
                return null;
            }

            long uncompressed = BinaryPrimitives.ReadUInt32LittleEndian(content[(position + 24)..]);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(content[(position + 28)..]);
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(content[(position + 30)..]);
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(content[(position + 32)..]);
            var next = (long)position + 46 + nameLength + extraLength + commentLength;
            if (next > content.Length)
            {
                return null;
            }

            var name = Encoding.UTF8.GetString(content.Slice(position + 46, nameLength));
            if (uncompressed == uint.MaxValue)
            {
                uncompressed = ReadZip64Size(content.Slice(position + 46 + nameLength, extraLength));
            }

            names.Add(name.Replace('\\', '/'));
            uncompressed = Math.Max(0, uncompressed);
            total = uncompressed > long.MaxValue - total ? long.MaxValue : total + uncompressed;
            position = (int)next;
        }

        return new ZipDirectory(names, total);
    }

    private static long ReadZip64Size(ReadOnlySpan<byte> extra)
    {
        while (extra.Length >= 4)
        {
            var id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
            var size = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            if (size > extra.Length - 4)
            {
                break;
            }

            if (id == 0x0001 && size >= 8)
            {
                // The uncompressed size comes first in the ZIP64 extra field.
                return BinaryPrimitives.ReadInt64LittleEndian(extra[4..]);
            }

            extra = extra[(4 + size)..];
        }

        return long.MaxValue / 2;
    }
}
