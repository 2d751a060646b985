using System.Buffers;

namespace RagPlatform.Inference.Onnx;

/// <summary>
/// The int64 <c>[batch, seq]</c> inputs of one model call, over pooled arrays so that a call
/// allocates no tensors on the managed heap. Every cell is written by <see cref="WriteRow"/>, so
/// rented arrays need no clearing.
/// </summary>
internal sealed class TokenBatch : IDisposable
{
    private long[]? _inputIds;
    private long[]? _attentionMask;
    private long[]? _tokenTypeIds;

    private TokenBatch(int count, int sequenceLength)
    {
        Count = count;
        SequenceLength = sequenceLength;
        var cells = count * sequenceLength;
        _inputIds = ArrayPool<long>.Shared.Rent(cells);
        _attentionMask = ArrayPool<long>.Shared.Rent(cells);
        _tokenTypeIds = ArrayPool<long>.Shared.Rent(cells);
    }

    public int Count { get; }

    public int SequenceLength { get; }

    public Memory<long> InputIds => Slice(_inputIds);

    public Memory<long> AttentionMask => Slice(_attentionMask);

    public Memory<long> TokenTypeIds => Slice(_tokenTypeIds);

    public static TokenBatch Rent(int count, int sequenceLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sequenceLength, 1);
        return new TokenBatch(count, sequenceLength);
    }

    /// <summary>
    /// Writes <c>[CLS] first [SEP]</c>, or <c>[CLS] first [SEP] second [SEP]</c> with token type 1
    /// on the second segment, then pads the row. Returns the number of real tokens.
    /// </summary>
    public int WriteRow(int row, in SpecialTokens special, IReadOnlyList<int> first, int firstCount, IReadOnlyList<int>? second = null, int secondCount = 0)
    {
        var offset = row * SequenceLength;
        var ids = _inputIds.AsSpan(offset, SequenceLength);
        var mask = _attentionMask.AsSpan(offset, SequenceLength);
        var types = _tokenTypeIds.AsSpan(offset, SequenceLength);

        var n = 0;
        ids[n++] = special.Cls;
        for (var i = 0; i < firstCount; i++)
        {
            ids[n++] = first[i];
        }

        ids[n++] = special.Sep;
        var firstSegment = n;
        if (second is not null)
        {
            for (var i = 0; i < secondCount; i++)
            {
                ids[n++] = second[i];
            }

            ids[n++] = special.Sep;
        }

        mask[..n].Fill(1);
        types[..firstSegment].Clear();
        types[firstSegment..n].Fill(1);
        ids[n..].Fill(special.Pad);
        mask[n..].Clear();
        types[n..].Clear();
        return n;
    }

    public void Dispose()
    {
        Return(ref _inputIds);
        Return(ref _attentionMask);
        Return(ref _tokenTypeIds);
    }

    private static void Return(ref long[]? array)
    {
        if (array is not null)
        {
            ArrayPool<long>.Shared.Return(array);
            array = null;
        }
    }

    private Memory<long> Slice(long[]? array)
    {
        ObjectDisposedException.ThrowIf(array is null, this);
        return array.AsMemory(0, Count * SequenceLength);
    }
}

/// <summary>The ids of the BERT special tokens in the model's vocabulary.</summary>
internal readonly record struct SpecialTokens(int Cls, int Sep, int Pad);
