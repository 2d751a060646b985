using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Cli.Evaluation;
using RagPlatform.Cli.Hosting;
using RagPlatform.Core.Metadata;
using RagPlatform.Core.Security;
using RagPlatform.Inference;
using RagPlatform.Inference.Embeddings;
using RagPlatform.Ingestion.Pipeline;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag bench ingest</c>: SciFact (one document per abstract) through the whole write path into a
/// fresh data directory, keyword-only; then, with a MiniLM-shaped model, the pipeline's embedding
/// throughput against the raw model's on the same chunks, measured in the same run.
/// </summary>
internal static class BenchIngestCommand
{
    public static Command Create()
    {
        var dataset = new Option<string?>("--dataset") { Description = "BEIR dataset directory (default: ../shared/datasets/scifact)", HelpName = "DIR" };
        var model = new Option<string?>("--model") { Description = "Model directory for the embedding part (default: the synthetic MiniLM-shaped model, generated once under artifacts/)", HelpName = "DIR" };
        var modelDocs = new Option<int>("--model-docs") { Description = "Documents for the embedding part (a MiniLM model embeds ~100 chunks/s on 2 cores)", DefaultValueFactory = _ => 400 };
        var skipModel = new Option<bool>("--keyword-only") { Description = "Only the keyword-only run" };
        var json = CommonOptions.Json();
        var command = new Command("ingest", "Ingest throughput: documents/s, chunks/s, time per stage; embedding throughput vs the raw model")
        {
            dataset, model, modelDocs, skipModel, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var beir = new BeirDataset(parse.GetValue(dataset) ?? SharedLocations.SciFact);
            var asJson = parse.GetValue(json);
            var report = new Dictionary<string, object?>(StringComparer.Ordinal) { ["dataset"] = beir.Directory, ["cores"] = Environment.ProcessorCount };

            var keywordOnly = await RunPipelineAsync(beir, limit: null, modelDirectory: null, ct);
            report["keyword_only"] = keywordOnly.Figures;
            if (!asJson)
            {
                Console.WriteLine("keyword-only ingest of the whole corpus");
                PrintFigures(keywordOnly.Figures);
            }

            if (!parse.GetValue(skipModel))
            {
                var modelDir = parse.GetValue(model) ?? SyntheticModels.EnsureMiniLmShaped(Console.Error);
                if (modelDir is null)
                {
                    report["with_model"] = null;
                }
                else
                {
                    var withModel = await RunPipelineAsync(beir, parse.GetValue(modelDocs), modelDir, ct);
                    report["with_model"] = withModel.Figures;
                    if (!asJson)
                    {
                        Console.WriteLine($"\ningest of {parse.GetValue(modelDocs)} documents with the model at {modelDir}");
                        PrintFigures(withModel.Figures);
                    }
                }
            }

            if (asJson)
            {
                Console.WriteLine(JsonSerializer.Serialize(report));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<(Dictionary<string, object?> Figures, IngestionResult Result)> RunPipelineAsync(BeirDataset beir, int? limit, string? modelDirectory, CancellationToken ct)
    {
        var data = Path.Combine(Path.GetTempPath(), $"rag-bench-ingest-{Guid.NewGuid():N}");
        try
        {
            var items = beir.CorpusItems(limit);
            var clock = Stopwatch.StartNew();
            var configuration = CliHost.BuildConfiguration(data, new Dictionary<string, string?> { ["Rag:Embeddings:ModelDirectory"] = modelDirectory ?? string.Empty, ["Rag:Embeddings:Endpoint"] = null });
            await using var services = CliHost.Build(configuration);
            var metadata = services.GetRequiredService<IMetadataStore>();
            await metadata.MigrateAsync(ct);
            var source = await metadata.EnsureSourceAsync("bench", "corpus", SourceKind.Push, ct);
            var result = await services.GetRequiredService<IngestionPipeline>().RunAsync(
                new IngestionRequest { Source = source, Items = items, DefaultAcl = AccessControlList.PublicOnly, Trigger = "bench" },
                progress: null,
                ct);
            var elapsed = clock.Elapsed;
            var figures = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["documents"] = result.Added,
                ["failed"] = result.Failed,
                ["chunks"] = result.Chunks,
                ["elapsed_s"] = Math.Round(elapsed.TotalSeconds, 3),
                ["pipeline_s"] = Math.Round(result.Elapsed.TotalSeconds, 3),
                ["documents_per_s"] = Math.Round(result.Added / elapsed.TotalSeconds, 1),
                ["chunks_per_s"] = Math.Round(result.Chunks / elapsed.TotalSeconds, 1),
                ["stage_cpu_s"] = result.StageTimes.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value.TotalSeconds, 3)),
            };

            if (modelDirectory is not null && services.GetRequiredService<InferenceModels>().Embedder is OnnxEmbeddingGenerator onnx)
            {
                var pipelinePerSecond = result.EmbeddedChunks / result.Elapsed.TotalSeconds;
                var raw = await RawThroughputAsync(services, onnx, source.Id, ct);
                figures["embedded_chunks"] = result.EmbeddedChunks;
                figures["pipeline_chunks_per_s"] = Math.Round(pipelinePerSecond, 1);
                figures["raw_model_chunks_per_s"] = Math.Round(raw, 1);
                figures["pipeline_to_raw"] = Math.Round(pipelinePerSecond / raw, 3);
                figures["model"] = onnx.ModelId;
            }

            return (figures, result);
        }
        finally
        {
            TryDelete(data);
        }
    }

    /// <summary>
    /// The raw model on the very chunks the pipeline embedded: same token lengths, same batch size,
    /// padded per batch after sorting by length (so the raw figure, if anything, pads less).
    /// </summary>
    private static async Task<double> RawThroughputAsync(IServiceProvider services, OnnxEmbeddingGenerator onnx, Guid sourceId, CancellationToken ct)
    {
        var metadata = services.GetRequiredService<IMetadataStore>();
        var docs = await metadata.ListDocumentsAsync(sourceId, ct);
        var chunks = await metadata.GetActiveChunksAsync(docs.Select(d => d.Id).ToList(), ct);
        var counter = services.GetRequiredService<InferenceModels>().TokenCounter;
        var lengths = chunks.Select(c => Math.Min(onnx.MaxTokens, counter.CountTokens(c.Text) + 2)).Order().ToArray();
        var clock = Stopwatch.StartNew();
        foreach (var batch in lengths.Chunk(onnx.BatchSize))
        {
            ct.ThrowIfCancellationRequested();
            onnx.RunRawBatch(batch.Length, batch[^1]);
        }

        return lengths.Length / clock.Elapsed.TotalSeconds;
    }

    private static void PrintFigures(Dictionary<string, object?> figures)
    {
        foreach (var (key, value) in figures)
        {
            var text = value is Dictionary<string, double> stages
                ? string.Join(", ", stages.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key} {s.Value:0.000}")))
                : Convert.ToString(value, CultureInfo.InvariantCulture);
            Console.WriteLine($"  {key,-24} {text}");
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
        }
    }
}
