namespace RagPlatform.Storage.Vectors.Internal;

/// <summary>
/// Passes reads or writes through to another stream and keeps the CRC-32C of every byte that went by,
/// so that a snapshot section is checked while it is streamed, without a second pass or a copy in memory.
/// </summary>
internal sealed class ChecksumStream(Stream inner) : Stream
{
    public uint Crc { get; private set; }

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Starts a new section.</summary>
    public void ResetCrc() => Crc = 0;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer);
        Crc = Crc32C.Append(Crc, buffer[..read]);
        return read;
    }

    // BinaryReader and BinaryWriter move 7-bit lengths a byte at a time; Stream's defaults would allocate an array per byte.
    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    public override void WriteByte(byte value) => Write([value]);

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Crc = Crc32C.Append(Crc, buffer);
        inner.Write(buffer);
    }

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
