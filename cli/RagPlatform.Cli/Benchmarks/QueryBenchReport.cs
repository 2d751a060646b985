using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using RagPlatform.Contracts.V1;

namespace RagPlatform.Cli.Benchmarks;

/// <summary>One target of issue 3 and whether this run met it.</summary>
internal sealed record TargetCheck(string Name, string Measured, double Value, double Limit, bool AtMost)
{
    public bool Met => AtMost ? Value <= Limit : Value >= Limit;
}

/// <summary>Prints a <see cref="QueryBenchmarkResult"/> as a table, or as one JSON object.</summary>
internal static class QueryBenchReport
{
    /// <summary>Server stages in the order a request goes through them.</summary>
    private static readonly string[] StageOrder = ["embed_query", "keyword", "vector", "fusion", "hydrate", "rerank", "mmr", "citations", "total"];

    /// <summary>The targets at 100,000 chunks on a 2-core machine.</summary>
    public static IReadOnlyList<TargetCheck> Targets(QueryBenchmarkResult result)
    {
        var keyword = Mode(result, RetrievalMode.Keyword);
        var vector = Mode(result, RetrievalMode.Vector);
        var hybrid = Mode(result, RetrievalMode.Hybrid);
        var int8 = string.Equals(result.Settings.Quantization, "Int8", StringComparison.OrdinalIgnoreCase);
        var checks = new List<TargetCheck>();
        if (keyword is not null)
        {
            checks.Add(new("keyword p95 (ms)", "round trip, one caller", Ms(LoadResult.Percentile(keyword.Single.LatencyMicros, 95)), 5, true));
        }

        if (vector is not null)
        {
            var search = vector.Single.StageMicros.GetValueOrDefault("vector") ?? [];
            checks.Add(new(int8 ? "vector search p95, int8 (ms)" : "vector search p95, f32 (ms)", "server's vector stage, one caller", Ms(LoadResult.Percentile(search, 95)), int8 ? 2 : 8, true));
        }

        if (hybrid is not null)
        {
            checks.Add(new("hybrid p95 without query embedding (ms)", "round trip minus embed_query, one caller", Ms(LoadResult.Percentile(hybrid.Single.LatencyWithoutEmbeddingMicros, 95)), 15, true));
            if (hybrid.Sweep.FirstOrDefault(s => s.Callers == 4) is { } four)
            {
                checks.Add(new("hybrid calls/s with 4 callers", "throughput", Math.Round(four.CallsPerSecond, 0), 300, false));
            }
        }

        return checks;
    }

    public static string Text(QueryBenchmarkResult result)
    {
        var s = result.Settings;
        var c = result.Corpus;
        var text = new StringBuilder();
        void Line(FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));

        Line($"rag bench query: Retrieve over gRPC on loopback, server and client in one process");
        Line($"machine   {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, {TieredPgo()}, load average {result.LoadBefore ?? "n/a"} before, {result.LoadAfter ?? "n/a"} after");
        Line($"corpus    {c.Chunks:N0} chunks, {c.Documents:N0} documents, {c.Dimensions}-d {c.Embedder} embeddings, vectors {s.Quantization.ToLowerInvariant()}{(s.VectorThreads is { } t ? $" ({t} search threads)" : string.Empty)}");
        Line($"          tenants {string.Join(", ", c.Tenants.Select(kv => $"{kv.Key} {kv.Value:N0}"))}; {c.VisibleToCaller:N0} chunks visible to the caller ({SyntheticCorpus.CallerUser}, {string.Join(", ", SyntheticCorpus.CallerGroups)})");
        Line($"          {(result.CorpusReused ? "reused" : "built")} in {s.Directory} (build took {c.BuildSeconds:0.0} s); text from {c.TextSource}");
        Line($"queries   {result.Queries:N0} dataset queries in a fixed shuffled order, top_k {s.TopK}, snippets on; query embedding is a cheap synthetic one, served over HTTP on loopback");
        text.AppendLine();

        Line($"one caller, {s.Calls} calls per mode after a warm-up of every query once and {s.Warmup.TotalSeconds:0} s more (ms)");
        Line($"  {"mode",-8} {"p50",7} {"p95",7} {"p99",7} {"mean",7} {"p95 w/o embed",14} {"cpu/call",9} {"short",6}");
        foreach (var m in result.Modes)
        {
            var r = m.Single;
            Line($"  {Name(m.Mode),-8} {Ms(LoadResult.Percentile(r.LatencyMicros, 50)),7:0.00} {Ms(LoadResult.Percentile(r.LatencyMicros, 95)),7:0.00} {Ms(LoadResult.Percentile(r.LatencyMicros, 99)),7:0.00} {Ms((long)r.LatencyMicros.DefaultIfEmpty().Average()),7:0.00} {Ms(LoadResult.Percentile(r.LatencyWithoutEmbeddingMicros, 95)),14:0.00} {r.CpuMicrosPerCall / 1000,9:0.00} {r.ShortAnswers,6}");
        }

        text.AppendLine();
        Line($"server time per stage, one caller: mean µs (p95 µs); 'outside' is the round trip minus the server's total");
        var stages = StageOrder.Where(st => result.Modes.Any(m => m.Single.StageMicros.ContainsKey(st))).ToList();
        Line($"  {"mode",-8} {string.Join(" ", stages.Append("outside").Select(st => $"{st,16}"))}");
        foreach (var m in result.Modes)
        {
            var cells = stages.Select(st => m.Single.StageMicros.TryGetValue(st, out var v) ? Inv($"{Mean(v),7:0} ({LoadResult.Percentile(v, 95),6})") : "-").ToList();
            var outside = Outside(m.Single);
            cells.Add(Inv($"{outside,7:0}"));
            Line($"  {Name(m.Mode),-8} {string.Join(" ", cells.Select(cell => $"{cell,16}"))}");
        }

        text.AppendLine();
        Line($"concurrent callers, {s.SweepPoint.TotalSeconds:0} s each (calls/s, p95 ms, process CPU ms per call)");
        Line($"  {"mode",-8} {string.Join(" ", s.Concurrency.Select(n => $"{n + (n == 1 ? " caller" : " callers"),20}"))}");
        foreach (var m in result.Modes)
        {
            Line($"  {Name(m.Mode),-8} {string.Join(" ", m.Sweep.Select(r => $"{Inv($"{r.CallsPerSecond:0}/s {Ms(LoadResult.Percentile(r.LatencyMicros, 95)):0.0} {r.CpuMicrosPerCall / 1000:0.00}"),20}"))}");
        }

        text.AppendLine();
        if (result.Corpus.Chunks == Commands.BenchQueryCommand.DefaultChunks)
        {
            Line($"targets (at 100,000 chunks on 2 cores)");
        }
        else
        {
            Line($"targets (set for 100,000 chunks on 2 cores; this corpus has {result.Corpus.Chunks:N0}, so they are shown for comparison only)");
        }

        foreach (var target in Targets(result))
        {
            Line($"  {target.Name,-42} {target.Value,8:0.00}  {(target.AtMost ? "<=" : ">=")} {target.Limit,-5} {(target.Met ? "met" : "NOT met"),-8} ({target.Measured})");
        }

        return text.ToString();
    }

    public static object Json(QueryBenchmarkResult result)
    {
        var s = result.Settings;
        return new
        {
            machine = new
            {
                cores = Environment.ProcessorCount,
                os = RuntimeInformation.OSDescription,
                runtime = Environment.Version.ToString(),
                tiered_pgo = TieredPgo(),
                load_average_before = result.LoadBefore,
                load_average_after = result.LoadAfter,
            },
            corpus = new
            {
                chunks = result.Corpus.Chunks,
                documents = result.Corpus.Documents,
                tenants = result.Corpus.Tenants,
                visible_to_caller = result.Corpus.VisibleToCaller,
                dimensions = result.Corpus.Dimensions,
                embedder = result.Corpus.Embedder,
                quantization = s.Quantization.ToLowerInvariant(),
                vector_threads = s.VectorThreads,
                directory = s.Directory,
                reused = result.CorpusReused,
                build_s = result.Corpus.BuildSeconds,
            },
            queries = result.Queries,
            top_k = s.TopK,
            single_caller = result.Modes.ToDictionary(m => Name(m.Mode), m => new
            {
                calls = m.Single.Calls,
                p50_ms = Ms(LoadResult.Percentile(m.Single.LatencyMicros, 50)),
                p95_ms = Ms(LoadResult.Percentile(m.Single.LatencyMicros, 95)),
                p99_ms = Ms(LoadResult.Percentile(m.Single.LatencyMicros, 99)),
                p95_without_embedding_ms = Ms(LoadResult.Percentile(m.Single.LatencyWithoutEmbeddingMicros, 95)),
                cpu_ms_per_call = Math.Round(m.Single.CpuMicrosPerCall / 1000, 3),
                short_answers = m.Single.ShortAnswers,
                stages_mean_us = m.Single.StageMicros.ToDictionary(kv => kv.Key, kv => Math.Round(Mean(kv.Value), 0)),
                stages_p95_us = m.Single.StageMicros.ToDictionary(kv => kv.Key, kv => LoadResult.Percentile(kv.Value, 95)),
                outside_server_mean_us = Math.Round(Outside(m.Single), 0),
            }),
            concurrency = result.Modes.ToDictionary(m => Name(m.Mode), m => m.Sweep.Select(r => new
            {
                callers = r.Callers,
                calls = r.Calls,
                calls_per_s = Math.Round(r.CallsPerSecond, 1),
                p50_ms = Ms(LoadResult.Percentile(r.LatencyMicros, 50)),
                p95_ms = Ms(LoadResult.Percentile(r.LatencyMicros, 95)),
                cpu_ms_per_call = Math.Round(r.CpuMicrosPerCall / 1000, 3),
            })),
            targets = Targets(result).Select(t => new { name = t.Name, measured = t.Measured, value = t.Value, limit = t.Limit, met = t.Met }),
        };
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static ModeFigures? Mode(QueryBenchmarkResult result, RetrievalMode mode) => result.Modes.FirstOrDefault(m => m.Mode == mode);

    private static string Name(RetrievalMode mode) => mode.ToString().ToLowerInvariant();

    private static double Ms(long micros) => Math.Round(micros / 1000.0, 3);

    private static double Mean(long[] values) => values.Length == 0 ? 0 : values.Average();

    private static double Outside(LoadResult r)
        => r.StageMicros.TryGetValue("total", out var total) && total.Length > 0 ? Mean(r.LatencyMicros) - Mean(total) : 0;

    /// <summary>TieredPGO as this process runs it: the CLI turns it off in its runtimeconfig; <c>DOTNET_TieredPGO</c> overrides that.</summary>
    private static string TieredPgo()
    {
        var env = Environment.GetEnvironmentVariable("DOTNET_TieredPGO");
        var config = AppContext.GetData("System.Runtime.TieredPGO");
        var on = env is { Length: > 0 } ? env != "0" : !string.Equals(Convert.ToString(config, CultureInfo.InvariantCulture), "false", StringComparison.OrdinalIgnoreCase);
        return $"TieredPGO {(on ? "on" : "off")} (DOTNET_TieredPGO={(env is { Length: > 0 } ? env : "unset")})";
    }
}
