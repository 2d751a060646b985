using System.Numerics.Tensors;

namespace RagPlatform.Storage.Vectors.Internal;

/// <summary>
/// Exact search over a <see cref="VectorTable"/>: every row is tested against the filter inside the scan
/// and only rows that pass are scored, so a caller gets <c>limit</c> results whenever that many rows pass,
/// however selective the filter. Large tables are cut into contiguous partitions scanned in parallel,
/// each with its own bounded heap, and the heaps are merged.
/// </summary>
internal static class VectorScanner
{
    /// <summary>
    /// More partitions than threads, so that a core slowed by other work hands its share to the others
    /// (the machines we target share 2 cores with builds and other services).
    /// </summary>
    private const int PartitionsPerThread = 4;

    /// <summary>The best <paramref name="limit"/> rows for the normalised <paramref name="query"/>, best first, with exact cosine scores.</summary>
    public static ScoredRow[] Search(
        VectorTable table,
        float[] query,
        CompiledFilter filter,
        int limit,
        VectorIndexOptions options,
        CancellationToken cancellationToken)
    {
        var count = table.Count;
        limit = Math.Min(limit, count);
        if (limit == 0)
        {
            return [];
        }

        if (!table.HasInt8)
        {
            return Merge(ScanPartitions(table, count, limit, options, (start, end, heap) => ScanFloat(table, query, filter, start, end, heap), cancellationToken), limit);
        }

        var quantized = new sbyte[query.Length];
        VectorMath.QuantizeInt8(query, quantized);
        var wide = new short[query.Length];
        for (var i = 0; i < wide.Length; i++)
        {
            wide[i] = quantized[i];
        }

        var candidates = (int)Math.Min((long)limit * options.RescoreFactor, count);
        var approximate = Merge(ScanPartitions(table, count, candidates, options, (start, end, heap) => ScanInt8(table, wide, filter, start, end, heap), cancellationToken), candidates);
        return Rescore(table, query, approximate, limit);
    }

    /// <summary>The exact score of each candidate; the best <paramref name="limit"/>, best first.</summary>
    private static ScoredRow[] Rescore(VectorTable table, ReadOnlySpan<float> query, ScoredRow[] candidates, int limit)
    {
        var exact = new ScoredRow[candidates.Length];
        for (var i = 0; i < candidates.Length; i++)
        {
            var row = candidates[i].Row;
            exact[i] = new ScoredRow(TensorPrimitives.Dot(table.Vector(row), query), row);
        }

        Array.Sort(exact, (a, b) => b.Score.CompareTo(a.Score));
        return exact.Length > limit ? exact[..limit] : exact;
    }

    private static TopK[] ScanPartitions(VectorTable table, int count, int capacity, VectorIndexOptions options, Action<int, int, TopK> scan, CancellationToken cancellationToken)
    {
        var work = (long)count * table.Dimensions;
        var threads = Math.Max(1, options.MaxSearchParallelism);
        var partitions = threads == 1 ? 1 : (int)Math.Clamp(work / options.MinFloatsPerPartition, 1, threads * PartitionsPerThread);
        var heaps = new TopK[partitions];
        if (partitions == 1)
        {
            heaps[0] = new TopK(capacity);
            scan(0, count, heaps[0]);
            return heaps;
        }

        var size = (count + partitions - 1) / partitions;
        Parallel.For(
            0,
            partitions,
            new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken },
            p =>
            {
                var heap = new TopK(capacity);
                var start = p * size;
                scan(start, Math.Min(count, start + size), heap);
                heaps[p] = heap;
            });
        return heaps;
    }

    private static ScoredRow[] Merge(TopK[] heaps, int limit)
    {
        var total = 0;
        foreach (var heap in heaps)
        {
            total += heap.Count;
        }

        var all = new ScoredRow[total];
        var at = 0;
        foreach (var heap in heaps)
        {
            heap.Items.CopyTo(all.AsSpan(at));
            at += heap.Count;
        }

        Array.Sort(all, (a, b) => b.Score.CompareTo(a.Score));
        return all.Length > limit ? all[..limit] : all;
    }

    private static void ScanFloat(VectorTable table, float[] query, CompiledFilter filter, int start, int end, TopK heap)
    {
        var vectors = table.Vectors;
        var groups = table.AccessGroupIds;
        var permitted = filter.PermittedGroups;
        var more = filter.HasMore;
        var d = query.Length;
        var threshold = heap.Threshold;
        for (var row = start; row < end; row++)
        {
            if (!permitted[groups[row]] || (more && !filter.MatchesMore(row)))
            {
                continue;
            }

            var score = TensorPrimitives.Dot(new ReadOnlySpan<float>(vectors, row * d, d), query);
            if (score > threshold)
            {
                heap.Add(score, row);
                threshold = heap.Threshold;
            }
        }
    }

    private static void ScanInt8(VectorTable table, short[] query, CompiledFilter filter, int start, int end, TopK heap)
    {
        var quantized = table.Quantized;
        var scales = table.Scales;
        var groups = table.AccessGroupIds;
        var permitted = filter.PermittedGroups;
        var more = filter.HasMore;
        var d = query.Length;
        var threshold = heap.Threshold;
        for (var row = start; row < end; row++)
        {
            if (!permitted[groups[row]] || (more && !filter.MatchesMore(row)))
            {
                continue;
            }

            var score = Int8Dot.Dot(new ReadOnlySpan<sbyte>(quantized, row * d, d), query) * scales[row];
            if (score > threshold)
            {
                heap.Add(score, row);
                threshold = heap.Threshold;
            }
        }
    }
}
