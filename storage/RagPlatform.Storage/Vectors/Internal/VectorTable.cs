using RagPlatform.Core.Indexing;

namespace RagPlatform.Storage.Vectors.Internal;

/// <summary>
/// The rows of the index in a layout made for scanning: one contiguous slab of <see cref="Dimensions"/>
/// floats per row, its int8 copy (a slab of sbytes, with per row the scale and the bounds of the copy's
/// error that let an int8 scan decide which rows can be in an exact top k), and per-row arrays of
/// the filterable fields, with tenant and ACL together interned as one int (<see cref="AccessGroups"/>).
/// A dictionary maps chunk ids to rows and documents to their chunk ids. Not thread-safe: the index
/// serialises writers and keeps readers out while a batch is applied.
/// </summary>
/// <remarks>
/// <para>
/// Rows are laid out so that a search reads only the rows its caller may see. The slab starts with the
/// grouped region, <c>[0, GroupedEnd)</c>: one contiguous run of rows per access group (<see cref="Run"/>),
/// so that a scan visits the runs of the groups its filter permits and never touches the others' bytes
/// (a scan is bound by memory bandwidth). After it comes the tail, <c>[GroupedEnd, End)</c>, where new rows
/// are appended and rows whose access group changed are moved, in no order.
/// </para>
/// <para>
/// Invariant: every live row is either in the tail or inside the run of its current access group. A row
/// deleted from a run is filled with the run's last row and the run shrinks, leaving a gap after it (a gap
/// has no chunk id and no run or tail covers it, so no scan reads it). Once the tail and the gaps together
/// pass an eighth of the rows, <see cref="SortRows"/> sorts the tail into runs and closes the gaps, in place.
/// </para>
/// </remarks>
internal sealed class VectorTable(int minUngroupedRows = VectorTable.DefaultMinUngroupedRows)
{
    /// <summary>Rows the tail and the gaps may hold together, whatever the table's size, before a regroup.</summary>
    public const int DefaultMinUngroupedRows = 1024;

    private const int MinCapacity = 64;

    /// <summary>A regroup is due once the tail and the gaps hold more than this share of the rows.</summary>
    private const int UngroupedDivisor = 8;

    private readonly Dictionary<string, int> _rowsByChunk = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, HashSet<string>> _chunksByDocument = [];

    private float[] _vectors = [];
    private sbyte[] _quantized = [];
    private float[] _scales = [];
    private float[] _residuals = [];
    private float[] _codeNorms = [];
    private string[] _chunkIds = [];
    private Guid[] _documentIds = [];
    private int[] _versions = [];
    private int[] _access = [];
    private Guid[] _sources = [];
    private long[] _changedAt = [];
    private IReadOnlyDictionary<string, string>[] _metadata = [];
    private int[] _runStart = [];
    private int[] _runLength = [];
    private int _capacity;
    private int _count;
    private int _end;
    private int _groupedEnd;

    /// <summary>The (tenant, ACL) pairs that <see cref="AccessGroupIds"/> refer to.</summary>
    public AccessGroups Access { get; private set; } = new();

    /// <summary>Dimensions of every row; 0 while the table is empty (the next vector fixes them again).</summary>
    public int Dimensions { get; private set; }

    /// <summary>Live rows.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Rows of the slab in use: the grouped region with its gaps, then the tail.</summary>
    public int End => _end;

    /// <summary>Where the tail starts: rows below are in runs per access group (or gaps).</summary>
    public int GroupedEnd => _groupedEnd;

    /// <summary>The rows of the grouped region that hold <paramref name="group"/>'s rows, all of them live: <c>[Start, Start + Length)</c>.</summary>
    public (int Start, int Length) Run(int group)
        => group < _runLength.Length ? (_runStart[group], _runLength[group]) : (0, 0);

    public float[] Vectors => _vectors;

    public sbyte[] Quantized => _quantized;

    /// <summary>Per row: <c>vector ≈ Quantized * scale</c>.</summary>
    public float[] Scales => _scales;

    /// <summary>Per row: the L2 norm of <c>vector - Quantized * scale</c>, rounded up.</summary>
    public float[] Residuals => _residuals;

    /// <summary>Per row: the L2 norm of <c>Quantized * scale</c>, rounded up.</summary>
    public float[] CodeNorms => _codeNorms;

    /// <summary>Each row's chunk id; null for a gap and for rows at or past <see cref="End"/>.</summary>
    public string[] ChunkIds => _chunkIds;

    public Guid[] DocumentIds => _documentIds;

    public int[] Versions => _versions;

    /// <summary>Each row's (tenant, ACL) pair in <see cref="Access"/>.</summary>
    public int[] AccessGroupIds => _access;

    public Guid[] SourceIds => _sources;

    /// <summary>UTC ticks of each row's change time, or <see cref="PreparedBatch.NoChangeTime"/>.</summary>
    public long[] ChangedAtUtcTicks => _changedAt;

    public IReadOnlyDictionary<string, string>[] Metadata => _metadata;

    public IReadOnlyDictionary<Guid, HashSet<string>> ChunksByDocument => _chunksByDocument;

    /// <summary>Rows of <paramref name="dimensions"/> that fit in one slab (a .NET array holds at most <see cref="Array.MaxLength"/> elements).</summary>
    public static int MaxRows(int dimensions) => Array.MaxLength / Math.Max(1, dimensions);

    public bool TryGetRow(string chunkId, out int row) => _rowsByChunk.TryGetValue(chunkId, out row);

    public ReadOnlySpan<float> Vector(int row) => _vectors.AsSpan(row * Dimensions, Dimensions);

    /// <summary>
    /// Applies a validated batch in the documented order: deletions, then upserts, then access updates; then
    /// regroups if the tail and the gaps have grown past their share.
    /// </summary>
    public void Apply(PreparedBatch batch)
    {
        foreach (var deletion in batch.Deletions)
        {
            DeleteDocument(deletion.DocumentId, deletion.KeepVersion);
        }

        if (batch.Upserts.Length > 0)
        {
            if (_count == 0 && Dimensions != batch.Dimensions)
            {
                // Nothing live is left, only gaps of the old size: start over.
                Clear();
                Dimensions = batch.Dimensions;
                Allocate(Math.Max(MinCapacity, batch.Upserts.Length));
            }
            else if (Dimensions != batch.Dimensions)
            {
                // Validation rules this out for new batches; a log record that says otherwise must not be
                // copied into the slab with the wrong stride.
                throw new InvalidDataException($"a batch of {batch.Dimensions}-d vectors cannot go into a table of {Dimensions}-d vectors");
            }

            foreach (var row in batch.Upserts)
            {
                Upsert(row);
            }
        }

        foreach (var update in batch.AccessUpdates)
        {
            SetAcl(update.DocumentId, update.Acl);
        }

        if (_count == 0)
        {
            Clear();
        }
        else if (Ungrouped > Math.Max(minUngroupedRows, _count / UngroupedDivisor))
        {
            Regroup();
        }
    }

    /// <summary>Rows outside every run: the tail, and the gaps that deletions and moves left in the grouped region.</summary>
    private int Ungrouped => _end - _count + (_end - _groupedEnd);

    /// <summary>
    /// Regroups, so that the rows are dense (<see cref="End"/> is <see cref="Count"/>), then drops the tenants,
    /// principals and (tenant, ACL) pairs that no row uses any more, which ACL changes and deletions leave
    /// behind; run when the log is compacted, so that the snapshot can be written straight from the slab and
    /// filters compile in time proportional to what the index holds.
    /// </summary>
    public void Compact()
    {
        SortRows();
        Access = Access.Collect(_access.AsSpan(0, _count));
        FindRuns();
    }

    private void Regroup()
    {
        if (SortRows())
        {
            FindRuns();
        }
    }

    /// <summary>
    /// Sorts the live rows into one run per access group (each group's rows keep their order) and closes
    /// the gaps, moving rows in place: each array is permuted along the permutation's cycles, so no second
    /// copy of the slabs is ever held. Linear in the rows; it runs under the index's writer lock, so searches
    /// wait for it (0.13 s for 100,000 rows of 384-d, measured), once per eighth of the table's rows changed.
    /// </summary>
    /// <remarks>Leaves the runs to the caller (<see cref="FindRuns"/>); false when the rows were grouped and dense already.</remarks>
    private bool SortRows()
    {
        if (_end == _groupedEnd && _end == _count)
        {
            return false;
        }

        // A counting sort by group of the live rows in slab order, then the gaps, so that the order is a
        // permutation of [0, End): source[new position] = old position.
        var starts = new int[Access.Count + 1];
        for (var row = 0; row < _end; row++)
        {
            if (_chunkIds[row] is not null)
            {
                starts[_access[row] + 1]++;
            }
        }

        for (var group = 1; group < starts.Length; group++)
        {
            starts[group] += starts[group - 1];
        }

        var source = new int[_end];
        var nextGap = _count;
        for (var row = 0; row < _end; row++)
        {
            source[_chunkIds[row] is null ? nextGap++ : starts[_access[row]]++] = row;
        }

        var d = Dimensions;
        var moved = new bool[_end];
        Permute(_vectors, source, d, moved);
        Permute(_quantized, source, d, moved);
        Permute(_scales, source, 1, moved);
        Permute(_residuals, source, 1, moved);
        Permute(_codeNorms, source, 1, moved);
        Permute(_chunkIds, source, 1, moved);
        Permute(_documentIds, source, 1, moved);
        Permute(_versions, source, 1, moved);
        Permute(_access, source, 1, moved);
        Permute(_sources, source, 1, moved);
        Permute(_changedAt, source, 1, moved);
        Permute(_metadata, source, 1, moved);
        for (var row = 0; row < _count; row++)
        {
            _rowsByChunk[_chunkIds[row]] = row;
        }

        _end = _groupedEnd = _count;
        return true;
    }

    /// <summary>Rearranges rows of <paramref name="stride"/> elements so that new row i is old row <c>source[i]</c>, following each cycle with one row held aside.</summary>
    private static void Permute<T>(T[] array, int[] source, int stride, bool[] moved)
    {
        Array.Clear(moved);
        var held = new T[stride];
        for (var start = 0; start < source.Length; start++)
        {
            if (moved[start] || source[start] == start)
            {
                continue;
            }

            Array.Copy(array, (long)start * stride, held, 0, stride);
            var to = start;
            while (true)
            {
                moved[to] = true;
                var from = source[to];
                if (from == start)
                {
                    Array.Copy(held, 0, array, (long)to * stride, stride);
                    break;
                }

                Array.Copy(array, (long)from * stride, array, (long)to * stride, stride);
                to = from;
            }
        }
    }

    /// <summary>Finds the runs of a dense, grouped slab (<see cref="End"/> = <see cref="GroupedEnd"/> = <see cref="Count"/>).</summary>
    private void FindRuns()
    {
        _runStart = new int[Access.Count];
        _runLength = new int[Access.Count];
        for (var row = 0; row < _count; row++)
        {
            var group = _access[row];
            if (_runLength[group]++ == 0)
            {
                _runStart[group] = row;
            }
        }
    }

    private void Clear()
    {
        Dimensions = 0;
        _end = _groupedEnd = 0;
        _runStart = [];
        _runLength = [];
    }

    /// <summary>Makes room for exactly <paramref name="rows"/> rows of <paramref name="dimensions"/>, to be filled by <see cref="SetLoadedRow"/>.</summary>
    public void BeginLoad(int dimensions, int rows)
    {
        Dimensions = dimensions;
        _count = _end = _groupedEnd = 0;
        Allocate(Math.Max(MinCapacity, rows));
        _count = _end = rows;
    }

    /// <summary>Fills row <paramref name="row"/> while loading; its vector is read into <see cref="Vectors"/> directly.</summary>
    public void SetLoadedRow(int row, string chunkId, Guid documentId, int version, int accessGroup, Guid sourceId, long changedAtUtcTicks, IReadOnlyDictionary<string, string> metadata)
    {
        if (!_rowsByChunk.TryAdd(chunkId, row))
        {
            throw new InvalidDataException($"chunk {chunkId} appears twice");
        }

        AddToDocument(documentId, chunkId);
        _chunkIds[row] = chunkId;
        _documentIds[row] = documentId;
        _versions[row] = version;
        _access[row] = accessGroup;
        _sources[row] = sourceId;
        _changedAt[row] = changedAtUtcTicks;
        _metadata[row] = metadata.Count == 0 ? IndexedChunk.EmptyMetadata : metadata;
    }

    /// <summary>Derives the int8 copies once every loaded vector is in place, and groups the rows (a snapshot holds them grouped already).</summary>
    public void EndLoad()
    {
        for (var row = 0; row < _count; row++)
        {
            Quantize(row);
        }

        if (_count == 0)
        {
            Clear();
        }
        else
        {
            Regroup();
        }
    }

    private void DeleteDocument(Guid documentId, int? keepVersion)
    {
        if (!_chunksByDocument.TryGetValue(documentId, out var chunkIds))
        {
            return;
        }

        List<string>? doomed = null;
        foreach (var chunkId in chunkIds)
        {
            if (keepVersion is not { } keep || _versions[_rowsByChunk[chunkId]] != keep)
            {
                (doomed ??= []).Add(chunkId);
            }
        }

        if (doomed is null)
        {
            return;
        }

        foreach (var chunkId in doomed)
        {
            RemoveRow(_rowsByChunk[chunkId]);
            _rowsByChunk.Remove(chunkId);
            chunkIds.Remove(chunkId);
        }

        if (chunkIds.Count == 0)
        {
            _chunksByDocument.Remove(documentId);
        }
    }

    private void Upsert(PreparedRow chunk)
    {
        var group = Access.Intern(chunk.Tenant, chunk.Acl);
        if (_rowsByChunk.TryGetValue(chunk.ChunkId, out var row))
        {
            if (_documentIds[row] != chunk.DocumentId)
            {
                RemoveFromDocument(_documentIds[row], chunk.ChunkId);
                AddToDocument(chunk.DocumentId, chunk.ChunkId);
            }

            row = WithGroup(row, group);
        }
        else
        {
            row = AppendRow();
            _rowsByChunk.Add(chunk.ChunkId, row);
            AddToDocument(chunk.DocumentId, chunk.ChunkId);
            _chunkIds[row] = chunk.ChunkId;
            Volatile.Write(ref _count, _count + 1);
        }

        _documentIds[row] = chunk.DocumentId;
        _versions[row] = chunk.Version;
        _access[row] = group;
        _sources[row] = chunk.SourceId;
        _changedAt[row] = chunk.ChangedAtUtcTicks;
        _metadata[row] = chunk.Metadata;
        var vector = _vectors.AsSpan(row * Dimensions, Dimensions);
        chunk.Vector.CopyTo(vector);
        Quantize(row);
    }

    private void Quantize(int row)
    {
        var vector = Vector(row);
        var codes = _quantized.AsSpan(row * Dimensions, Dimensions);
        var scale = VectorMath.QuantizeInt8(vector, codes);
        _scales[row] = scale;
        (_residuals[row], _codeNorms[row]) = VectorMath.QuantizationError(vector, codes, scale);
    }

    private void SetAcl(Guid documentId, string[] acl)
    {
        if (!_chunksByDocument.TryGetValue(documentId, out var chunkIds))
        {
            return;
        }

        // The document's rows keep their tenant (normally one for all) and take the new ACL.
        var replaced = new Dictionary<int, int>();
        foreach (var chunkId in chunkIds)
        {
            var row = _rowsByChunk[chunkId];
            var old = _access[row];
            if (!replaced.TryGetValue(old, out var group))
            {
                group = Access.Intern(Access.Tenants[Access.TenantOf(old)], acl);
                replaced.Add(old, group);
            }

            row = WithGroup(row, group);
            _access[row] = group;
        }
    }

    /// <summary>
    /// Where <paramref name="row"/> can take <paramref name="group"/>: the same row when it is in the tail or the
    /// group is unchanged, else a copy at the end of the tail (its run may only hold rows of its old group).
    /// </summary>
    private int WithGroup(int row, int group)
    {
        if (row >= _groupedEnd || _access[row] == group)
        {
            return row;
        }

        var to = AppendRow();
        CopyRow(row, to);
        _rowsByChunk[_chunkIds[to]] = to;
        VacateRunRow(row);
        return to;
    }

    /// <summary>A free row at the end of the tail, growing the slabs when they are full.</summary>
    private int AppendRow()
    {
        if (_end == _capacity)
        {
            Allocate(Math.Max(MinCapacity, _capacity * 2));
        }

        return _end++;
    }

    /// <summary>Removes a live row: in the tail it is filled with the tail's last row, in a run with the run's last row.</summary>
    private void RemoveRow(int row)
    {
        if (row >= _groupedEnd)
        {
            var last = _end - 1;
            MoveRow(last, row);
            _end = last;
        }
        else
        {
            VacateRunRow(row);
        }

        Volatile.Write(ref _count, _count - 1);
    }

    /// <summary>Fills <paramref name="row"/> of a run with the run's last row and shrinks the run, leaving a gap after it.</summary>
    private void VacateRunRow(int row)
    {
        var group = _access[row];
        var last = _runStart[group] + _runLength[group] - 1;
        MoveRow(last, row);
        _runLength[group]--;
    }

    /// <summary>Moves row <paramref name="from"/> to <paramref name="to"/> (unless they are the same) and leaves <paramref name="from"/> empty.</summary>
    private void MoveRow(int from, int to)
    {
        if (from != to)
        {
            CopyRow(from, to);
            _rowsByChunk[_chunkIds[to]] = to;
        }

        // Drop references so that removed chunks can be collected; a null chunk id marks the row as empty.
        _chunkIds[from] = null!;
        _metadata[from] = null!;
    }

    private void CopyRow(int from, int to)
    {
        var d = Dimensions;
        Array.Copy(_vectors, (long)from * d, _vectors, (long)to * d, d);
        Array.Copy(_quantized, (long)from * d, _quantized, (long)to * d, d);
        _scales[to] = _scales[from];
        _residuals[to] = _residuals[from];
        _codeNorms[to] = _codeNorms[from];
        _chunkIds[to] = _chunkIds[from];
        _documentIds[to] = _documentIds[from];
        _versions[to] = _versions[from];
        _access[to] = _access[from];
        _sources[to] = _sources[from];
        _changedAt[to] = _changedAt[from];
        _metadata[to] = _metadata[from];
    }

    private void AddToDocument(Guid documentId, string chunkId)
    {
        if (!_chunksByDocument.TryGetValue(documentId, out var set))
        {
            set = new HashSet<string>(StringComparer.Ordinal);
            _chunksByDocument.Add(documentId, set);
        }

        set.Add(chunkId);
    }

    private void RemoveFromDocument(Guid documentId, string chunkId)
    {
        if (_chunksByDocument.TryGetValue(documentId, out var set) && set.Remove(chunkId) && set.Count == 0)
        {
            _chunksByDocument.Remove(documentId);
        }
    }

    /// <summary>Grows (or first allocates) every per-row array to <paramref name="capacity"/> rows, keeping the rows held.</summary>
    private void Allocate(int capacity)
    {
        var d = Dimensions;
        capacity = Math.Min(capacity, MaxRows(d));
        // Huge pages for the slabs before their pages are first touched (HugePages: scans spend far less on page walks).
        var vectors = GC.AllocateUninitializedArray<float>(capacity * d);
        HugePages.Advise(vectors);
        _vectors.AsSpan(0, _end * d).CopyTo(vectors);
        _vectors = vectors;
        var quantized = GC.AllocateUninitializedArray<sbyte>(capacity * d);
        HugePages.Advise(quantized);
        _quantized.AsSpan(0, _end * d).CopyTo(quantized);
        _quantized = quantized;
        Array.Resize(ref _scales, capacity);
        Array.Resize(ref _residuals, capacity);
        Array.Resize(ref _codeNorms, capacity);

        Array.Resize(ref _chunkIds, capacity);
        Array.Resize(ref _documentIds, capacity);
        Array.Resize(ref _versions, capacity);
        Array.Resize(ref _access, capacity);
        Array.Resize(ref _sources, capacity);
        Array.Resize(ref _changedAt, capacity);
        Array.Resize(ref _metadata, capacity);
        _capacity = capacity;
    }
}
