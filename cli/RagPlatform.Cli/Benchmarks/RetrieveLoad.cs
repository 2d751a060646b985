using System.Diagnostics;
using Grpc.Core;
using RagPlatform.Contracts.V1;

namespace RagPlatform.Cli.Benchmarks;

/// <summary>What a series of <c>Retrieve</c> calls measured: latencies seen by the client, and the server's own stage times.</summary>
internal sealed class LoadResult
{
    public required int Callers { get; init; }

    public required int Calls { get; init; }

    public required TimeSpan Elapsed { get; init; }

    /// <summary>CPU time of the whole process (server, client and embedding endpoint) during the run.</summary>
    public required TimeSpan Cpu { get; init; }

    /// <summary>Round trips as the client saw them, in microseconds, sorted.</summary>
    public required long[] LatencyMicros { get; init; }

    /// <summary>Round trips minus the server's query embedding (which the targets exclude), sorted.</summary>
    public required long[] LatencyWithoutEmbeddingMicros { get; init; }

    /// <summary>Each stage's times from the responses' <c>timings_us</c>, sorted.</summary>
    public required IReadOnlyDictionary<string, long[]> StageMicros { get; init; }

    /// <summary>Calls that returned fewer hits than asked for.</summary>
    public required int ShortAnswers { get; init; }

    public double CallsPerSecond => Calls / Elapsed.TotalSeconds;

    /// <summary>
    /// CPU per call, client and server together: steadier than latency on a machine shared with other work, and
    /// the ceiling of throughput on idle cores is cores / this.
    /// </summary>
    public double CpuMicrosPerCall => Calls == 0 ? 0 : Cpu.TotalMicroseconds / Calls;

    /// <summary>Nearest-rank percentile of sorted values; 0 when there are none.</summary>
    public static long Percentile(long[] sorted, double percentile)
    {
        if (sorted.Length == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(percentile / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}

/// <summary>
/// Drives <c>rag.v1.RetrievalService/Retrieve</c> from one or more concurrent callers over one channel, each
/// call a realistic query (the dataset's queries in a fixed shuffled order), and collects the figures.
/// </summary>
internal sealed class RetrieveLoad(RetrievalService.RetrievalServiceClient client, IReadOnlyList<string> queries, string tenant, Principal principal, int topK)
{
    private int _nextQuery;

    /// <summary>
    /// Runs <paramref name="callers"/> callers until <paramref name="calls"/> calls are done or <paramref name="duration"/>
    /// has passed, whichever comes first. Fails when the server does not run the mode asked for.
    /// </summary>
    public async Task<LoadResult> RunAsync(RetrievalMode mode, int callers, int calls, TimeSpan duration, CancellationToken cancellationToken)
    {
        var perCaller = new List<Sample>[callers];
        var issued = 0;
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var tasks = new Task[callers];
        for (var c = 0; c < callers; c++)
        {
            var samples = perCaller[c] = [];
            tasks[c] = Task.Run(
                async () =>
                {
                    while (clock.Elapsed < duration && Interlocked.Increment(ref issued) <= calls)
                    {
                        samples.Add(await CallAsync(mode, cancellationToken));
                    }
                },
                cancellationToken);
        }

        await Task.WhenAll(tasks);
        var elapsed = clock.Elapsed;
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var all = perCaller.SelectMany(s => s).ToList();
        var stages = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        foreach (var sample in all)
        {
            foreach (var (stage, micros) in sample.Timings)
            {
                if (!stages.TryGetValue(stage, out var list))
                {
                    stages[stage] = list = [];
                }

                list.Add(micros);
            }
        }

        return new LoadResult
        {
            Callers = callers,
            Calls = all.Count,
            Elapsed = elapsed,
            Cpu = cpu,
            LatencyMicros = Sorted(all.Select(s => s.LatencyMicros)),
            LatencyWithoutEmbeddingMicros = Sorted(all.Select(s => s.LatencyMicros - s.Timings.GetValueOrDefault("embed_query"))),
            StageMicros = stages.ToDictionary(kv => kv.Key, kv => Sorted(kv.Value), StringComparer.Ordinal),
            ShortAnswers = all.Count(s => s.Hits < topK),
        };
    }

    private async Task<Sample> CallAsync(RetrievalMode mode, CancellationToken cancellationToken)
    {
        var text = queries[(int)((uint)Interlocked.Increment(ref _nextQuery) % (uint)queries.Count)];
        var request = new RetrieveRequest { Tenant = tenant, Principal = principal, Query = text, TopK = topK, Mode = mode };
        var started = Stopwatch.GetTimestamp();
        var response = await client.RetrieveAsync(request, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancellationToken);
        var latency = (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        if (response.ModeUsed != mode)
        {
            throw new RpcException(new Status(
                StatusCode.FailedPrecondition,
                $"asked for {mode} but the server ran {response.ModeUsed} ({string.Join("; ", response.Skipped.Select(s => $"{s.Stage}: {s.Reason}"))}); the benchmark's embedder is not wired in"));
        }

        return new Sample(latency, response.Hits.Count, new Dictionary<string, long>(response.TimingsUs, StringComparer.Ordinal));
    }

    private static long[] Sorted(IEnumerable<long> values)
    {
        var array = values.ToArray();
        Array.Sort(array);
        return array;
    }

    private sealed record Sample(long LatencyMicros, int Hits, Dictionary<string, long> Timings);
}
