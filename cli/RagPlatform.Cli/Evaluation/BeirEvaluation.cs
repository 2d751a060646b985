using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RagPlatform.Cli.Hosting;
using RagPlatform.Core;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Metadata;
using RagPlatform.Core.Security;
using RagPlatform.Inference;
using RagPlatform.Ingestion.Pipeline;
using RagPlatform.Retrieval;

namespace RagPlatform.Cli.Evaluation;

/// <summary>How an evaluation runs; the defaults were chosen on SciFact's train split (see README.md here).</summary>
internal sealed record EvaluationSettings
{
    /// <summary>
    /// Chunk budget when the run is keyword-only: 1,024 tokens keeps all but 10 of SciFact's 5,183
    /// abstracts whole. Best of 256/384/512/1,024/8,192 on train (nDCG@10 0.6970/0.7039/0.7041/0.7043/0.7042).
    /// </summary>
    public const int KeywordChunkTokens = 1024;

    /// <summary>
    /// Chunks asked for first; a query whose chunks hold fewer than 100 documents asks again for
    /// twice as many (up to 1,000). On train, 200 to 1,000 gave identical figures at every chunk budget.
    /// </summary>
    public const int DefaultChunkDepth = 200;

    public string Split { get; init; } = "test";

    public RetrievalMode Mode { get; init; } = RetrievalMode.Hybrid;

    /// <summary>
    /// Chunk budget of the evaluated corpus. Null: <see cref="KeywordChunkTokens"/> when no embedding
    /// is involved (keyword mode, or no model configured); otherwise the platform's chunk budget,
    /// which the embedding model sees whole.
    /// </summary>
    public int? ChunkTokens { get; init; }

    public int ChunkDepth { get; init; } = DefaultChunkDepth;
}

/// <summary>Per-query <c>Retrieve</c> time, in microseconds (nearest-rank percentiles).</summary>
internal sealed record LatencySummary(long P50, long P95, long P99)
{
    public static LatencySummary From(IReadOnlyCollection<long> micros)
    {
        if (micros.Count == 0)
        {
            return new LatencySummary(0, 0, 0);
        }

        var sorted = micros.Order().ToArray();
        // Nearest rank, ceil(percent * n / 100), in integers so that 95 % of 200 is exactly rank 190.
        long At(int percent) => sorted[Math.Max(1, ((percent * sorted.Length) + 99) / 100) - 1];
        return new LatencySummary(At(50), At(95), At(99));
    }
}

/// <summary>What an evaluation measured, and how the corpus got into the stores.</summary>
internal sealed record EvaluationReport
{
    public required MetricsSummary Metrics { get; init; }

    public required LatencySummary Latency { get; init; }

    public required string Split { get; init; }

    public required RetrievalMode Mode { get; init; }

    /// <summary>The mode the retriever actually ran (hybrid runs as keyword without an embedding model).</summary>
    public required RetrievalMode ModeUsed { get; init; }

    public required IReadOnlyList<SkippedStage> Skipped { get; init; }

    public required IngestionResult Ingestion { get; init; }

    /// <summary>The chunk budget the corpus was ingested with.</summary>
    public int ChunkTokens { get; init; }

    /// <summary>Queries of the split that were run (those with at least one relevant document are scored).</summary>
    public required int QueriesRun { get; init; }

    /// <summary>Median time of each retrieval stage (keyword, vector, fusion, hydrate...), in microseconds.</summary>
    public required IReadOnlyDictionary<string, long> StageMedians { get; init; }

    /// <summary>Queries whose 100 documents could not be filled from the most chunks the retriever returns.</summary>
    public required int ShortRankings { get; init; }
}

/// <summary>
/// <c>rag eval</c>'s work: ingests a BEIR corpus through the real pipeline (public, tenant
/// <see cref="Tenant"/>, one source per dataset), runs every query of a split through the
/// <see cref="Retriever"/> as an anonymous caller, turns chunk hits into document rankings and
/// scores them with <see cref="RetrievalMetrics"/>.
/// </summary>
internal static class BeirEvaluation
{
    public const string Tenant = "eval";

    /// <summary>
    /// Evaluates <paramref name="dataset"/> in <paramref name="dataDirectory"/> (ingesting incrementally),
    /// or in a fresh temporary directory, deleted afterwards, when it is null.
    /// </summary>
    public static async Task<EvaluationReport> RunAsync(BeirDataset dataset, string? dataDirectory, EvaluationSettings settings, IProgress<IngestionProgress>? progress, CancellationToken cancellationToken)
    {
        Validate(settings);

        // Read everything before touching any store, so that a bad dataset fails fast and clearly.
        dataset.EnsureExists();
        var queries = dataset.ReadSplit(settings.Split);
        var corpus = dataset.CorpusItems();

        var fresh = dataDirectory is null;
        var data = dataDirectory ?? Path.Combine(Path.GetTempPath(), $"rag-eval-{Guid.NewGuid():N}");
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (fresh && settings.Mode == RetrievalMode.Keyword)
        {
            // Keyword mode never reads vectors, and a fresh directory is thrown away: embedding the
            // corpus would only cost time. A directory given with --data keeps its configuration, so
            // that evaluating it never re-ingests it without the embeddings it has.
            overrides["Rag:Embeddings:ModelDirectory"] = string.Empty;
            overrides["Rag:Embeddings:Endpoint"] = null;
        }

        try
        {
            await using var services = CliHost.Build(CliHost.BuildConfiguration(data, overrides));
            var metadata = services.GetRequiredService<IMetadataStore>();
            await metadata.MigrateAsync(cancellationToken);
            var source = await metadata.EnsureSourceAsync(Tenant, SourceName(dataset), SourceKind.Push, cancellationToken);
            var keywordOnly = settings.Mode == RetrievalMode.Keyword || services.GetRequiredService<InferenceModels>().Embedder is null;
            var chunking = services.GetRequiredService<IOptions<RagOptions>>().Value.Chunking;
            var chunkTokens = settings.ChunkTokens ?? (keywordOnly ? EvaluationSettings.KeywordChunkTokens : chunking.MaxTokens);
            var ingestion = await services.GetRequiredService<IngestionPipeline>().RunAsync(
                new IngestionRequest
                {
                    Source = source,
                    Items = corpus,
                    DefaultAcl = AccessControlList.PublicOnly,

                    // The listing is the whole corpus: a document dropped from corpus.jsonl is deleted.
                    DeletionScope = _ => true,
                    Chunking = new ChunkingOptions { MaxTokens = chunkTokens, OverlapTokens = Math.Min(chunking.OverlapTokens, chunkTokens / 4) },
                    Trigger = "eval",
                },
                progress,
                cancellationToken);

            var report = await RunQueriesAsync(services.GetRequiredService<Retriever>(), source.Id, queries, settings, ingestion, cancellationToken);
            return report with { ChunkTokens = chunkTokens };
        }
        finally
        {
            if (fresh)
            {
                TryDelete(data);
            }
        }
    }

    private static async Task<EvaluationReport> RunQueriesAsync(Retriever retriever, Guid sourceId, List<BeirQuery> queries, EvaluationSettings settings, IngestionResult ingestion, CancellationToken cancellationToken)
    {
        RetrievalQuery Query(BeirQuery q) => new()
        {
            Tenant = Tenant,
            Caller = CallerIdentity.Anonymous,
            Text = q.Text,
            TopK = settings.ChunkDepth,
            CandidateDepth = settings.ChunkDepth,
            Mode = settings.Mode,
            SourceIds = [sourceId],
            Snippets = false,
        };

        // Untimed warm-up, so that the percentiles measure retrieval rather than the JIT compiling it.
        foreach (var q in queries.Take(10))
        {
            await RankAsync(retriever, q.Id, Query(q), cancellationToken);
        }

        var scores = new List<QueryMetrics>(queries.Count);
        var latencies = new List<long>(queries.Count);
        var stages = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        var shortRankings = 0;
        RetrievalResult? last = null;
        foreach (var q in queries)
        {
            var clock = Stopwatch.StartNew();
            var (result, ranking) = await RankAsync(retriever, q.Id, Query(q), cancellationToken);
            latencies.Add((long)clock.Elapsed.TotalMicroseconds);
            last = result;
            if (ranking.Count < RetrievalMetrics.RecallDepth && result.Hits.Count == RetrievalOptions.MaxInternalTopK)
            {
                shortRankings++;
            }

            foreach (var (stage, micros) in result.TimingsMicroseconds)
            {
                (stages.TryGetValue(stage, out var list) ? list : stages[stage] = []).Add(micros);
            }

            if (RetrievalMetrics.Score(ranking, q.Judgements) is { } score)
            {
                scores.Add(score);
            }
        }

        return new EvaluationReport
        {
            Metrics = RetrievalMetrics.Average(scores),
            Latency = LatencySummary.From(latencies),
            StageMedians = stages.ToDictionary(s => s.Key, s => LatencySummary.From(s.Value).P50, StringComparer.Ordinal),
            ShortRankings = shortRankings,
            Split = settings.Split,
            Mode = settings.Mode,
            ModeUsed = last?.ModeUsed ?? settings.Mode,
            Skipped = last?.Skipped ?? [],
            Ingestion = ingestion,
            QueriesRun = queries.Count,
        };
    }

    /// <summary>
    /// One query's document ranking. When the chunks retrieved hold fewer than 100 documents but
    /// more chunks matched (the retriever returned all it was asked for), asks again for more, so
    /// that a document with many matching chunks cannot crowd others out of the top 100.
    /// </summary>
    private static async Task<(RetrievalResult Result, List<string> Ranking)> RankAsync(Retriever retriever, string queryId, RetrievalQuery query, CancellationToken cancellationToken)
    {
        while (true)
        {
            RetrievalResult result;
            try
            {
                result = await retriever.RetrieveAsync(query, cancellationToken);
            }
            catch (RagValidationException ex)
            {
                throw new RagValidationException("DATASET_DIR", $"query '{queryId}' cannot be run: {ex.Message}");
            }

            var ranking = RetrievalMetrics.RankDocuments(result.Hits.Select(h => (h.Chunk.ExternalKey, h.Scores.FinalScore)));
            if (ranking.Count >= RetrievalMetrics.RecallDepth || result.Hits.Count < query.TopK || query.TopK >= RetrievalOptions.MaxInternalTopK)
            {
                return (result, ranking);
            }

            var deeper = Math.Min(RetrievalOptions.MaxInternalTopK, query.TopK * 2);
            query = query with { TopK = deeper, CandidateDepth = deeper };
        }
    }

    /// <summary>One source per dataset folder, so that several datasets can share a data directory without mixing.</summary>
    internal static string SourceName(BeirDataset dataset)
        => "beir:" + Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataset.Directory)));

    private static void Validate(EvaluationSettings settings)
    {
        if (settings.ChunkDepth is < RetrievalMetrics.RecallDepth or > RetrievalOptions.MaxInternalTopK)
        {
            throw new RagValidationException("--depth", $"must be between {RetrievalMetrics.RecallDepth} (Recall@100 needs at least 100 hits) and {RetrievalOptions.MaxInternalTopK}, got {settings.ChunkDepth}");
        }

        if (settings.ChunkTokens is < 16 or > 8192)
        {
            throw new RagValidationException("--chunk-tokens", $"must be between 16 and 8192, got {settings.ChunkTokens}");
        }

        if (string.IsNullOrWhiteSpace(settings.Split) || settings.Split.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
        {
            throw new RagValidationException("--split", $"'{settings.Split}' is not a split name; use the name of a file in qrels/ without .tsv (test, train, dev)");
        }
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // A temp directory left behind is harmless; the evaluation's result is what matters.
        }
    }
}
