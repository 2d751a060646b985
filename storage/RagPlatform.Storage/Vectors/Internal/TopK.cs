namespace RagPlatform.Storage.Vectors.Internal;

/// <summary>A scored row of the table.</summary>
internal readonly record struct ScoredRow(float Score, int Row);

/// <summary>
/// The best <c>capacity</c> rows seen so far: a min-heap on score, so the worst kept row is at the root
/// and each candidate costs one comparison unless it gets in.
/// </summary>
internal sealed class TopK
{
    private readonly ScoredRow[] _items;
    private int _count;

    public TopK(int capacity)
    {
        _items = new ScoredRow[Math.Max(1, capacity)];
    }

    public int Count => _count;

    /// <summary>The score a candidate must beat to get in: the worst kept one once full, minus infinity before.</summary>
    public float Threshold => _count == _items.Length ? _items[0].Score : float.NegativeInfinity;

    public ReadOnlySpan<ScoredRow> Items => _items.AsSpan(0, _count);

    public void Add(float score, int row)
    {
        if (_count < _items.Length)
        {
            var i = _count++;
            while (i > 0)
            {
                var parent = (i - 1) >> 1;
                if (_items[parent].Score <= score)
                {
                    break;
                }

                _items[i] = _items[parent];
                i = parent;
            }

            _items[i] = new ScoredRow(score, row);
            return;
        }

        if (score <= _items[0].Score)
        {
            return;
        }

        SiftDownFromRoot(new ScoredRow(score, row));
    }

    private void SiftDownFromRoot(ScoredRow item)
    {
        var i = 0;
        while (true)
        {
            var child = (2 * i) + 1;
            if (child >= _count)
            {
                break;
            }

            if (child + 1 < _count && _items[child + 1].Score < _items[child].Score)
            {
                child++;
            }

            if (item.Score <= _items[child].Score)
            {
                break;
            }

            _items[i] = _items[child];
            i = child;
        }

        _items[i] = item;
    }
}
