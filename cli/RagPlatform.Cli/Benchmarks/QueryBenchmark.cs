using System.Globalization;
using System.Runtime.InteropServices;
using Grpc.Net.Client;
using RagPlatform.Cli.Hosting;
using RagPlatform.Contracts.V1;

namespace RagPlatform.Cli.Benchmarks;

/// <summary>Settings of one <c>rag bench query</c> run.</summary>
internal sealed record QueryBenchmarkSettings
{
    public required int Chunks { get; init; }

    /// <summary>Where the corpus is built or reused.</summary>
    public required string Directory { get; init; }

    /// <summary>The BEIR dataset whose sentences, titles and queries are used.</summary>
    public required string Dataset { get; init; }

    /// <summary><c>None</c> or <c>Int8</c> (<c>Rag:Vectors:Quantization</c>).</summary>
    public required string Quantization { get; init; }

    /// <summary>Threads one vector search may use (<c>Rag:Vectors:MaxSearchParallelism</c>); null for the default.</summary>
    public int? VectorThreads { get; init; }

    /// <summary>Measured single-caller calls per mode.</summary>
    public int Calls { get; init; } = 1000;

    /// <summary>Length of each point of the concurrency sweep.</summary>
    public TimeSpan SweepPoint { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);

    public IReadOnlyList<int> Concurrency { get; init; } = [1, 2, 4, 8];

    public int TopK { get; init; } = 10;

    public IReadOnlyList<RetrievalMode> Modes { get; init; } = QueryBenchmark.AllModes;
}

/// <summary>Figures of one mode.</summary>
internal sealed record ModeFigures(RetrievalMode Mode, LoadResult Single, IReadOnlyList<LoadResult> Sweep);

/// <summary>Everything a run measured.</summary>
internal sealed record QueryBenchmarkResult
{
    public required QueryBenchmarkSettings Settings { get; init; }

    public required CorpusSummary Corpus { get; init; }

    public required bool CorpusReused { get; init; }

    public required int Queries { get; init; }

    public required IReadOnlyList<ModeFigures> Modes { get; init; }

    public required string? LoadBefore { get; init; }

    public required string? LoadAfter { get; init; }
}

/// <summary>
/// <c>rag bench query</c>: builds or reuses the synthetic corpus, starts the real gRPC server in this process on
/// loopback (with the synthetic embedder behind an OpenAI-compatible endpoint), and measures <c>Retrieve</c> in
/// every mode: one caller, then a sweep of concurrent callers. Client and server share the machine's cores.
/// </summary>
internal static class QueryBenchmark
{
    public static readonly RetrievalMode[] AllModes = [RetrievalMode.Keyword, RetrievalMode.Vector, RetrievalMode.Hybrid];

    public static async Task<QueryBenchmarkResult> RunAsync(QueryBenchmarkSettings settings, TextWriter log, CancellationToken cancellationToken)
    {
        var pool = TextPool.FromBeir(settings.Dataset);
        var embedder = new SyntheticEmbedder();
        log.WriteLine($"bench: corpus of {settings.Chunks:N0} chunks in {settings.Directory}");
        var (corpus, reused) = await CorpusBuilder.EnsureAsync(settings.Directory, settings.Chunks, pool, embedder, log, cancellationToken);
        log.WriteLine(reused ? "bench: reusing the corpus built earlier" : string.Create(CultureInfo.InvariantCulture, $"bench: corpus built in {corpus.BuildSeconds:0.0} s"));

        await using var endpoint = await SyntheticEmbeddingEndpoint.StartAsync(embedder, cancellationToken);
        var overrides = new Dictionary<string, string?>
        {
            ["Rag:Embeddings:ModelDirectory"] = string.Empty,
            ["Rag:Embeddings:Endpoint"] = endpoint.BaseUrl.ToString(),
            ["Rag:Embeddings:EndpointModel"] = SyntheticEmbedder.ModelId,
            ["Rag:Reranker:ModelDirectory"] = string.Empty,
            ["Rag:Vectors:Quantization"] = settings.Quantization,
        };
        if (settings.VectorThreads is { } threads)
        {
            overrides["Rag:Vectors:MaxSearchParallelism"] = threads.ToString(CultureInfo.InvariantCulture);
        }

        await using var app = RagServer.Build(CliHost.BuildConfiguration(settings.Directory, overrides), "http://127.0.0.1:0");
        await RagServer.PrepareAsync(app.Services, cancellationToken);
        await app.StartAsync(cancellationToken);
        var url = app.Urls.First();
        log.WriteLine($"bench: server on {url}");

        using var channel = GrpcChannel.ForAddress(url);
        var principal = new Principal { User = SyntheticCorpus.CallerUser };
        principal.Groups.AddRange(SyntheticCorpus.CallerGroups);

        // A fixed shuffle: consecutive calls are unrelated queries, as from independent users.
        var queries = pool.Queries.ToArray();
        new Random(5).Shuffle(queries);
        var load = new RetrieveLoad(new RetrievalService.RetrievalServiceClient(channel), queries, SyntheticCorpus.Tenant, principal, settings.TopK);

        var loadBefore = LoadAverage();
        var modes = new List<ModeFigures>();
        foreach (var mode in settings.Modes)
        {
            log.WriteLine($"bench: {mode}: warming up, then {settings.Calls} calls from one caller");

            // Every query once, so that the keyword index has read the postings of their terms into its cache as a
            // server has after its first queries (the first query to use a term pays for that); then two callers so
            // that the concurrent paths are compiled and tiered up too.
            await load.RunAsync(mode, 2, queries.Length, TimeSpan.FromMinutes(10), cancellationToken);
            await load.RunAsync(mode, 2, int.MaxValue, settings.Warmup, cancellationToken);
            var single = await load.RunAsync(mode, 1, settings.Calls, TimeSpan.FromMinutes(10), cancellationToken);
            var sweep = new List<LoadResult>();
            foreach (var callers in settings.Concurrency)
            {
                sweep.Add(await load.RunAsync(mode, callers, int.MaxValue, settings.SweepPoint, cancellationToken));
            }

            modes.Add(new ModeFigures(mode, single, sweep));
        }

        var loadAfter = LoadAverage();
        await app.StopAsync(cancellationToken);
        return new QueryBenchmarkResult
        {
            Settings = settings,
            Corpus = corpus,
            CorpusReused = reused,
            Queries = queries.Length,
            Modes = modes,
            LoadBefore = loadBefore,
            LoadAfter = loadAfter,
        };
    }

    /// <summary>The 1, 5 and 15 minute load averages: the machines are shared, and other work skews the figures.</summary>
    private static string? LoadAverage()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux) || !File.Exists("/proc/loadavg"))
        {
            return null;
        }

        var parts = File.ReadAllText("/proc/loadavg").Split(' ');
        return parts.Length >= 3 ? string.Join(' ', parts[..3]) : null;
    }
}
