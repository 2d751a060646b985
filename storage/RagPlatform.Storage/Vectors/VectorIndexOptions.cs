using System.ComponentModel.DataAnnotations;
using RagPlatform.Storage.Vectors.Internal;

namespace RagPlatform.Storage.Vectors;

/// <summary>How the embedded vector index scores candidates.</summary>
public enum VectorQuantization
{
    /// <summary>
    /// Exact: the rows and 32-bit float scores that scoring every permitted row in floats gives. The scan
    /// reads an 8-bit integer copy of the rows (4x less memory to stream) and scores in floats only the
    /// rows that the copy's error bounds cannot rule out of the top (see the scanner's remarks).
    /// </summary>
    None,

    /// <summary>
    /// Approximate: the same int8 scan, and the best <c>limit * RescoreFactor</c> int8 scores are rescored
    /// in floats whatever the error bounds say, so the cost never depends on the data and a row just
    /// outside that budget may be missed.
    /// </summary>
    Int8,
}

/// <summary>Settings of <see cref="EmbeddedVectorIndex"/>.</summary>
public sealed class VectorIndexOptions
{
    public VectorQuantization Quantization { get; init; } = VectorQuantization.None;

    /// <summary>
    /// With <see cref="VectorQuantization.Int8"/>, how many times <c>limit</c> candidates are rescored exactly.
    /// 4 keeps recall@10 at or above 0.99 against exact search for 384-d embeddings.
    /// </summary>
    [Range(1, 64)]
    public int RescoreFactor { get; init; } = 4;

    /// <summary>
    /// The log is folded into a new snapshot once it is larger than this and larger than half the snapshot,
    /// so that replay on start-up stays short and a snapshot is rewritten at most once per half its size of new data.
    /// </summary>
    [Range(1, long.MaxValue)]
    public long LogCompactionBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// Threads one search may use when it runs alone (each search running beside it takes one away). The
    /// default is 1: the int8 scan reads memory about as fast as the memory delivers it, so on our 2-core
    /// machines a second thread only adds hand-offs (`rag bench query`'s 100,000 chunks, exact search for 100
    /// hits: mean 1.29-1.38 ms on one thread, 1.48-1.70 ms on two). Raise it where memory bandwidth grows
    /// with the cores used (large servers with many memory channels).
    /// </summary>
    [Range(1, 1024)]
    public int MaxSearchParallelism { get; init; } = 1;

    /// <summary>
    /// Work (rows times dimensions) below which a search scans on the calling thread only: about 1 M int8
    /// codes (1 MB) take some tens of microseconds, the order of what handing work to other threads costs.
    /// </summary>
    internal long MinCodesPerPartition { get; init; } = 1L << 20;

    /// <summary>
    /// Rows that may sit outside the per-access-group runs (new rows, rows whose access changed, and the gaps
    /// deletions leave) before the table is regrouped, whatever its size; beyond it, an eighth of the rows.
    /// Tests set it low to regroup after nearly every batch.
    /// </summary>
    internal int MinUngroupedRows { get; init; } = VectorTable.DefaultMinUngroupedRows;
}
