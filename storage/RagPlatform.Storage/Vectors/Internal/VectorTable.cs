using RagPlatform.Core.Indexing;

namespace RagPlatform.Storage.Vectors.Internal;

/// <summary>
/// The rows of the index in a layout made for scanning: one contiguous slab of <see cref="Dimensions"/>
/// floats per row, its int8 copy (a slab of sbytes, with per row the scale and the bounds of the copy's
/// error that let an int8 scan decide which rows can be in an exact top k), and per-row arrays of
/// the filterable fields, with tenant and ACL together interned as one int (<see cref="AccessGroups"/>).
/// A dictionary maps chunk ids to rows and documents to their chunk ids. Rows are dense: a deleted row is
/// filled with the last one, so a scan never meets a hole. Not thread-safe: the index serialises writers
/// and keeps readers out while a batch is applied.
/// </summary>
internal sealed class VectorTable
{
    private const int MinCapacity = 64;

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
    private int _capacity;
    private int _count;

    /// <summary>The (tenant, ACL) pairs that <see cref="AccessGroupIds"/> refer to.</summary>
    public AccessGroups Access { get; private set; } = new();

    /// <summary>Dimensions of every row; 0 while the table is empty (the next vector fixes them again).</summary>
    public int Dimensions { get; private set; }

    public int Count => Volatile.Read(ref _count);

    public float[] Vectors => _vectors;

    public sbyte[] Quantized => _quantized;

    /// <summary>Per row: <c>vector ≈ Quantized * scale</c>.</summary>
    public float[] Scales => _scales;

    /// <summary>Per row: the L2 norm of <c>vector - Quantized * scale</c>, rounded up.</summary>
    public float[] Residuals => _residuals;

    /// <summary>Per row: the L2 norm of <c>Quantized * scale</c>, rounded up.</summary>
    public float[] CodeNorms => _codeNorms;

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

    /// <summary>Applies a validated batch in the documented order: deletions, then upserts, then access updates.</summary>
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
            Dimensions = 0;
        }
    }

    /// <summary>
    /// Drops the tenants, principals and (tenant, ACL) pairs that no row uses any more, which ACL changes
    /// and deletions leave behind; run when the log is compacted, so that filters compile in time
    /// proportional to what the index holds.
    /// </summary>
    public void CollectAccessGroups() => Access = Access.Collect(_access.AsSpan(0, _count));

    /// <summary>Makes room for exactly <paramref name="rows"/> rows of <paramref name="dimensions"/>, to be filled by <see cref="SetLoadedRow"/>.</summary>
    public void BeginLoad(int dimensions, int rows)
    {
        Dimensions = dimensions;
        _count = 0;
        Allocate(Math.Max(MinCapacity, rows));
        _count = rows;
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

    /// <summary>Derives the int8 copies once every loaded vector is in place.</summary>
    public void EndLoad()
    {
        for (var row = 0; row < _count; row++)
        {
            Quantize(row);
        }

        if (_count == 0)
        {
            Dimensions = 0;
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
        if (_rowsByChunk.TryGetValue(chunk.ChunkId, out var row))
        {
            if (_documentIds[row] != chunk.DocumentId)
            {
                RemoveFromDocument(_documentIds[row], chunk.ChunkId);
                AddToDocument(chunk.DocumentId, chunk.ChunkId);
            }
        }
        else
        {
            if (_count == _capacity)
            {
                Allocate(Math.Max(MinCapacity, _capacity * 2));
            }

            row = _count;
            _rowsByChunk.Add(chunk.ChunkId, row);
            AddToDocument(chunk.DocumentId, chunk.ChunkId);
            _chunkIds[row] = chunk.ChunkId;
            Volatile.Write(ref _count, row + 1);
        }

        _documentIds[row] = chunk.DocumentId;
        _versions[row] = chunk.Version;
        _access[row] = Access.Intern(chunk.Tenant, chunk.Acl);
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

            _access[row] = group;
        }
    }

    /// <summary>Fills <paramref name="row"/> with the last row, so rows stay dense.</summary>
    private void RemoveRow(int row)
    {
        var last = _count - 1;
        if (row != last)
        {
            var d = Dimensions;
            Array.Copy(_vectors, last * d, _vectors, row * d, d);
            Array.Copy(_quantized, last * d, _quantized, row * d, d);
            _scales[row] = _scales[last];
            _residuals[row] = _residuals[last];
            _codeNorms[row] = _codeNorms[last];

            _chunkIds[row] = _chunkIds[last];
            _documentIds[row] = _documentIds[last];
            _versions[row] = _versions[last];
            _access[row] = _access[last];
            _sources[row] = _sources[last];
            _changedAt[row] = _changedAt[last];
            _metadata[row] = _metadata[last];
            _rowsByChunk[_chunkIds[row]] = row;
        }

        // Drop references so that removed chunks can be collected.
        _chunkIds[last] = null!;
        _metadata[last] = null!;
        Volatile.Write(ref _count, last);
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
        var vectors = GC.AllocateUninitializedArray<float>(capacity * d);
        _vectors.AsSpan(0, _count * d).CopyTo(vectors);
        _vectors = vectors;
        var quantized = GC.AllocateUninitializedArray<sbyte>(capacity * d);
        _quantized.AsSpan(0, _count * d).CopyTo(quantized);
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
