using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace RagPlatform.Storage.Vectors.Internal;

/// <summary>
/// Search over a <see cref="VectorTable"/>: every row is tested against the filter inside the scan and
/// only rows that pass are scored, so a caller gets <c>limit</c> results whenever that many rows pass,
/// however selective the filter. The scan reads the int8 copy of the rows, a quarter of the bytes of
/// the float vectors (a scan is bound by memory bandwidth), and the rows it keeps are scored again in
/// 32-bit floats. It reads only the runs of the access groups the filter permits, and the table's
/// unsorted tail (<see cref="VectorTable"/>'s remarks): rows of other tenants and of ACLs that grant the
/// caller nothing cost nothing. Large scans are cut into pieces scanned in parallel.
/// </summary>
/// <remarks>
/// <para>
/// Exact search (<see cref="VectorQuantization.None"/>) gives exactly the rows and float scores that
/// scoring every permitted row in floats would, without reading every float. For a row <c>v</c> with
/// int8 copy <c>v' = scale * codes</c> and a query <c>q</c> with copy <c>q'</c>,
/// <c>v·q - v'·q' = (v - v')·q + v'·(q - q')</c>, so by Cauchy–Schwarz the int8 score is within
/// <c>|v - v'| |q| + |v'| |q - q'|</c> of the exact one (<see cref="Int8Query.Bound"/>).
/// The scan keeps the <c>limit</c> best lower bounds; the <c>limit</c>-th of them, L, is a score that at
/// least <c>limit</c> rows reach, so a row whose upper bound is below L cannot be among the best, and
/// only rows at or above it are scored in floats. With 384-d embeddings the bound is about 0.02 of
/// cosine, and a few hundred rows are rescored instead of tens of thousands. Should the bounds be
/// loose for some data (many near-identical rows), more rows are rescored: slower, never wrong.
/// </para>
/// <para>
/// <see cref="VectorQuantization.Int8"/> rescores a fixed number of the best int8 scores instead
/// (<c>limit * RescoreFactor</c>), whatever the bounds say: its cost never depends on the data, and a row
/// just outside that budget may be missed.
/// </para>
/// </remarks>
internal static class VectorScanner
{
    /// <summary>
    /// More partitions than threads, so that a core slowed by other work hands its share to the others
    /// (the machines we target share 2 cores with builds and other services).
    /// </summary>
    private const int PartitionsPerThread = 4;

    /// <summary>
    /// Below every score a row can have (rows and queries are unit vectors, so scores and their bounds lie
    /// within about [-1.1, 1.1]); a row pushed under it by <see cref="CompiledFilter.Penalties"/> never gets in.
    /// </summary>
    private const float NoScore = -2f;

    /// <summary>
    /// The share of the tail's rows passing tenant and ACL from which a scan scores every tail row and drops
    /// the others by arithmetic rather than by a branch (runs need neither: all their rows pass). Skipping rows
    /// costs a mispredicted branch at each change between passing and failing rows and breaks the hardware
    /// prefetcher's stream: at 72% passing (100,000 unsorted rows of 384-d) scoring all of them took 2.0 ms
    /// against 2.6 ms for skipping.
    /// </summary>
    private const double DenseShare = 0.5;

    /// <summary>The best <paramref name="limit"/> rows for the normalised <paramref name="query"/>, best first, with their float scores, scanned on up to <paramref name="threads"/> threads.</summary>
    public static ScoredRow[] Search(
        VectorTable table,
        float[] query,
        CompiledFilter filter,
        int limit,
        int threads,
        VectorIndexOptions options,
        CancellationToken cancellationToken)
    {
        var count = table.Count;
        limit = Math.Min(limit, count);
        if (limit == 0)
        {
            return [];
        }

        var prepared = new Int8Query(query);
        var ranges = Ranges(table, filter);
        if (options.Quantization == VectorQuantization.Int8)
        {
            var budget = (int)Math.Min((long)limit * options.RescoreFactor, count);
            var best = ScanPartitions(table, prepared, filter, ranges, budget, exact: false, threads, options, cancellationToken);
            var approximate = best.SelectMany(p => p.Best.Items.ToArray()).ToArray();
            Array.Sort(approximate, static (a, b) => b.Score.CompareTo(a.Score));
            return Rescore(table, query, approximate.Take(budget), limit);
        }

        var partitions = ScanPartitions(table, prepared, filter, ranges, limit, exact: true, threads, options, cancellationToken);
        var floor = KthLowerBound(partitions, limit);
        return Rescore(table, query, partitions.SelectMany(p => p.Candidates!).Where(c => c.Score >= floor), limit);
    }

    /// <summary>
    /// The rows to read, in slab order: the run of every access group the filter permits, whose rows all pass
    /// tenant and ACL, and the tail, whose rows are tested one by one (or scored all and dropped by
    /// arithmetic, when most pass: <see cref="DenseShare"/>).
    /// </summary>
    private static List<ScanRange> Ranges(VectorTable table, CompiledFilter filter)
    {
        var ranges = new List<ScanRange>();
        var permitted = filter.PermittedGroups;
        for (var group = 0; group < permitted.Length; group++)
        {
            var (start, length) = table.Run(group);
            if (permitted[group] && length > 0)
            {
                ranges.Add(new ScanRange(start, start + length, Dense: !filter.HasMore));
            }
        }

        var (tail, end) = (table.GroupedEnd, table.End);
        if (end > tail)
        {
            ranges.Add(new ScanRange(tail, end, Dense: !filter.HasMore && filter.PermittedShare(table, tail, end) >= DenseShare));
        }

        return ranges;
    }

    /// <summary>
    /// The <paramref name="limit"/>-th best lower bound over all partitions: at least that many rows score
    /// at least this. Minus infinity when fewer rows passed the filter (then every one is a candidate).
    /// </summary>
    private static float KthLowerBound(Partition[] partitions, int limit)
    {
        var lower = partitions.SelectMany(p => p.Best.Items.ToArray()).Select(r => r.Score).ToArray();
        if (lower.Length < limit)
        {
            return float.NegativeInfinity;
        }

        Array.Sort(lower);
        return lower[^limit];
    }

    /// <summary>
    /// The float score of each candidate; the best <paramref name="limit"/>, best first. Equal scores go
    /// in chunk-id order, so that which of several equal rows make the cut does not depend on the row
    /// layout (exact search has every row that ties with the last one kept among its candidates).
    /// </summary>
    private static ScoredRow[] Rescore(VectorTable table, ReadOnlySpan<float> query, IEnumerable<ScoredRow> candidates, int limit)
    {
        var exact = new List<ScoredRow>();
        foreach (var candidate in candidates)
        {
            var row = candidate.Row;
            exact.Add(new ScoredRow(TensorPrimitives.Dot(table.Vector(row), query), row));
        }

        var chunkIds = table.ChunkIds;
        exact.Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : string.CompareOrdinal(chunkIds[a.Row], chunkIds[b.Row]));
        return exact.Count > limit ? [.. exact[..limit]] : [.. exact];
    }

    private static Partition[] ScanPartitions(VectorTable table, Int8Query query, CompiledFilter filter, List<ScanRange> ranges, int capacity, bool exact, int threads, VectorIndexOptions options, CancellationToken cancellationToken)
    {
        var rows = ranges.Sum(r => (long)(r.End - r.Start));
        var work = rows * table.Dimensions;
        var partitions = threads == 1 ? 1 : (int)Math.Clamp(work / options.MinCodesPerPartition, 1, threads * PartitionsPerThread);
        var results = new Partition[partitions];
        if (partitions == 1)
        {
            results[0] = new Partition(capacity, exact);
            foreach (var range in ranges)
            {
                Scan(table, query, filter, range, results[0]);
            }

            return results;
        }

        var pieces = Split(ranges, rows, partitions);
        Parallel.For(
            0,
            partitions,
            new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken },
            p =>
            {
                var partition = new Partition(capacity, exact);
                foreach (var range in pieces[p])
                {
                    Scan(table, query, filter, range, partition);
                }

                results[p] = partition;
            });
        return results;
    }

    /// <summary>The ranges cut into <paramref name="parts"/> lists of about equal rows, in order.</summary>
    private static List<ScanRange>[] Split(List<ScanRange> ranges, long rows, int parts)
    {
        var size = (rows + parts - 1) / parts;
        var pieces = new List<ScanRange>[parts];
        var part = 0;
        long room = size;
        pieces[0] = [];
        foreach (var range in ranges)
        {
            var start = range.Start;
            while (start < range.End)
            {
                if (room == 0)
                {
                    pieces[++part] = [];
                    room = size;
                }

                var end = (int)Math.Min(range.End, start + room);
                pieces[part].Add(range with { Start = start, End = end });
                room -= end - start;
                start = end;
            }
        }

        for (var p = part + 1; p < parts; p++)
        {
            pieces[p] = [];
        }

        return pieces;
    }

    /// <summary>
    /// Keeps the best lower bounds of the partition's rows, and for exact search, as candidates, every row
    /// whose upper bound reaches the worst of them so far (which only rises, so no row that can reach the
    /// final one is left out). The int8 mode has no bounds: its lower and upper bounds are the int8 score.
    /// </summary>
    private static void Scan(VectorTable table, Int8Query query, CompiledFilter filter, ScanRange range, Partition partition)
    {
        var (start, end, dense) = range;
        var codes = table.Quantized;
        var scales = table.Scales;
        var residuals = table.Residuals;
        var codeNorms = table.CodeNorms;
        var groups = table.AccessGroupIds;
        var permitted = filter.PermittedGroups;
        var penalties = filter.Penalties;
        var more = filter.HasMore;
        var d = query.Codes.Length;
        var wholeBlocks = Int8Dot.HasWholeBlocks(d);
        ref var codesStart = ref MemoryMarshal.GetArrayDataReference(codes);
        ref var queryStart = ref MemoryMarshal.GetArrayDataReference(query.Codes);
        var best = partition.Best;
        var candidates = partition.Candidates;
        var threshold = MathF.Max(best.Threshold, NoScore);
        for (var row = start; row < end; row++)
        {
            float penalty;
            if (dense)
            {
                penalty = penalties[groups[row]];
            }
            else if (!permitted[groups[row]] || (more && !filter.MatchesMore(row)))
            {
                continue;
            }
            else
            {
                penalty = 0;
            }

            var dot = wholeBlocks ? Int8Dot.DotWholeBlocks(ref codesStart, row, ref queryStart, d) : Int8Dot.Dot(new ReadOnlySpan<sbyte>(codes, row * d, d), query.Codes);
            var score = dot * (scales[row] * query.Scale);
            var bound = candidates is null ? 0f : query.Bound(residuals[row], codeNorms[row]);
            var upper = score + bound - penalty;
            if (upper < threshold)
            {
                continue;
            }

            candidates?.Add(new ScoredRow(upper, row));
            var lower = score - bound - penalty;
            if (lower > threshold)
            {
                best.Add(lower, row);
                threshold = MathF.Max(best.Threshold, NoScore);
            }
        }
    }

    /// <summary>Rows <c>[Start, End)</c> of the slab; dense: scored all, with rows that fail tenant or ACL dropped by a penalty.</summary>
    private readonly record struct ScanRange(int Start, int End, bool Dense);

    /// <summary>What one partition's scan keeps: the best scores (int8 scores, or lower bounds), and for exact search the candidates with their upper bounds.</summary>
    private sealed class Partition(int capacity, bool exact)
    {
        public TopK Best { get; } = new(capacity);

        public List<ScoredRow>? Candidates { get; } = exact ? [] : null;
    }
}
