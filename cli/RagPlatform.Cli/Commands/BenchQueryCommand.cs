using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RagPlatform.Cli.Benchmarks;
using RagPlatform.Cli.Hosting;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag bench query [--chunks N] [--large] [--quantization none|int8] [--json]</c>: Retrieve latency and
/// throughput over gRPC on loopback against a synthetic corpus (see <see cref="QueryBenchmark"/>).
/// </summary>
internal static class BenchQueryCommand
{
    public const int DefaultChunks = 100_000;

    public const int LargeChunks = 1_000_000;

    public static Command Create()
    {
        var chunks = new Option<int?>("--chunks") { Description = $"Chunks in the synthetic corpus (default {DefaultChunks:N0})", HelpName = "N" };
        var large = new Option<bool>("--large") { Description = $"A corpus of {LargeChunks:N0} chunks" };
        var quantization = new Option<string>("--quantization") { Description = "How the vector index scores: none (exact f32) or int8 (int8 scan, exact rescoring)", DefaultValueFactory = _ => "none" };
        quantization.AcceptOnlyFromAmong("none", "int8");
        var data = new Option<string?>("--data") { Description = "Where to build or reuse the corpus (default: artifacts/bench-query-N)", HelpName = "DIR" };
        var dataset = new Option<string?>("--dataset") { Description = "BEIR dataset whose sentences and queries are used (default: ../shared/datasets/scifact)", HelpName = "DIR" };
        var calls = new Option<int>("--calls") { Description = "Measured single-caller calls per mode", DefaultValueFactory = _ => 1000 };
        var seconds = new Option<double>("--seconds") { Description = "Length of each point of the concurrency sweep, in seconds", DefaultValueFactory = _ => 5 };
        var warmup = new Option<double>("--warmup") { Description = "Warm-up per mode, in seconds", DefaultValueFactory = _ => 3 };
        var vectorThreads = new Option<int?>("--vector-threads") { Description = "Threads one vector search may use (default: Rag:Vectors:MaxSearchParallelism, 1)", HelpName = "N" };
        var modes = new Option<string[]>("--modes") { Description = "Modes to measure", DefaultValueFactory = _ => ["keyword", "vector", "hybrid"], AllowMultipleArgumentsPerToken = true };
        modes.AcceptOnlyFromAmong("keyword", "vector", "hybrid");
        var json = CommonOptions.Json();
        var command = new Command("query", "Retrieve latency (p50/p95/p99) and throughput per mode over gRPC, on a synthetic corpus")
        {
            chunks, large, quantization, data, dataset, calls, seconds, warmup, vectorThreads, modes, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(large) && parse.GetValue(chunks) is not null)
            {
                Console.Error.WriteLine("rag bench query: give --chunks N or --large, not both");
                return ExitCodes.Usage;
            }

            var size = parse.GetValue(large) ? LargeChunks : parse.GetValue(chunks) ?? DefaultChunks;
            if (size < 1 || parse.GetValue(calls) < 1 || parse.GetValue(seconds) <= 0 || parse.GetValue(warmup) < 0 || parse.GetValue(vectorThreads) is < 1)
            {
                Console.Error.WriteLine("rag bench query: --chunks, --calls, --seconds and --vector-threads must be positive, --warmup at least 0");
                return ExitCodes.Usage;
            }

            var settings = new QueryBenchmarkSettings
            {
                Chunks = size,
                Directory = Path.GetFullPath(parse.GetValue(data) ?? Path.Combine(SharedLocations.Artifacts, string.Create(CultureInfo.InvariantCulture, $"bench-query-{size}"))),
                Dataset = parse.GetValue(dataset) ?? SharedLocations.SciFact,
                Quantization = parse.GetValue(quantization) == "int8" ? "Int8" : "None",
                VectorThreads = parse.GetValue(vectorThreads),
                Calls = parse.GetValue(calls),
                SweepPoint = TimeSpan.FromSeconds(parse.GetValue(seconds)),
                Warmup = TimeSpan.FromSeconds(parse.GetValue(warmup)),
                Modes = [.. QueryBenchmark.AllModes.Where(m => parse.GetValue(modes)!.Contains(m.ToString(), StringComparer.OrdinalIgnoreCase))],
            };
            try
            {
                var result = await QueryBenchmark.RunAsync(settings, Console.Error, ct);
                Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(QueryBenchReport.Json(result)) : QueryBenchReport.Text(result));
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException)
            {
                Console.Error.WriteLine($"rag bench query: {ex.Message}");
                return ExitCodes.Failed;
            }
        });
        return command;
    }
}
