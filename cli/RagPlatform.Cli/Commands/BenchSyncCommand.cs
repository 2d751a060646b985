using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Cli.Hosting;
using RagPlatform.Core.Metadata;
using RagPlatform.Core.Security;
using RagPlatform.IndexerJobs.Sources;
using RagPlatform.IndexerJobs.Sync;
using RagPlatform.Ingestion.Pipeline;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag bench sync</c>: a folder source of N generated files (kept under <c>artifacts/</c> and reused)
/// synced into a fresh data directory three ways: a first full sync, a sync with nothing changed
/// (listing and diff only; the target is at most 3 s for 10,000 files), and a sync after 1% of the
/// files changed, which must process exactly those.
/// </summary>
internal static class BenchSyncCommand
{
    /// <summary>The issue's target for a sync of 10,000 unchanged files.</summary>
    private static readonly TimeSpan NoChangeTarget = TimeSpan.FromSeconds(3);

    // Files per generated folder: a tree like a real document share, not one flat folder.
    private const int FilesPerFolder = 200;

    // Varied text: a few KB of sentences from a vocabulary, with headings in the Markdown files.
    private static readonly string[] Vocabulary =
    [
        "retrieval", "index", "document", "version", "chunk", "embedding", "latency", "freshness", "tenant", "source",
        "policy", "review", "quarterly", "budget", "customer", "contract", "renewal", "incident", "postmortem", "deploy",
        "cluster", "replica", "backup", "restore", "migration", "schema", "query", "planner", "cache", "throughput",
        "the", "a", "of", "and", "to", "in", "for", "with", "on", "after", "before", "during", "because", "while",
        "team", "owner", "deadline", "estimate", "risk", "mitigation", "alert", "threshold", "dashboard", "metric",
        "heron", "otter", "granite", "harbour", "lantern", "meadow", "orchard", "quarry", "saffron", "tundra",
    ];

    public static Command Create()
    {
        var files = new Option<int>("--files") { Description = "Files in the generated folder", DefaultValueFactory = _ => 10_000, HelpName = "N" };
        var model = new Option<string?>("--model") { Description = "Embedding model directory (default: none, keyword-only; listing and diff do not depend on it)", HelpName = "DIR" };
        var repeat = new Option<int>("--repeat") { Description = "Syncs with no changes to time (the median is reported)", DefaultValueFactory = _ => 3 };
        var json = CommonOptions.Json();
        var command = new Command("sync", "Sync speed of a folder source: first sync, a sync with no changes (listing and diff only), a sync with 1% of the files changed")
        {
            files, model, repeat, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(files) is < 100 or > 1_000_000 || parse.GetValue(repeat) is < 1 or > 20)
            {
                Console.Error.WriteLine("rag: --files must be between 100 and 1,000,000 and --repeat between 1 and 20");
                return ExitCodes.Usage;
            }

            var asJson = parse.GetValue(json);
            var report = await RunAsync(parse.GetValue(files), parse.GetValue(model), parse.GetValue(repeat), asJson ? null : Console.Out, ct);
            if (asJson)
            {
                Console.WriteLine(JsonSerializer.Serialize(report.Figures));
            }

            if (!report.Correct)
            {
                Console.Error.WriteLine("rag: the sync after the change did not process exactly the changed files; see the figures above");
                return ExitCodes.Failed;
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<(Dictionary<string, object?> Figures, bool Correct)> RunAsync(int count, string? modelDirectory, int repeat, TextWriter? text, CancellationToken ct)
    {
        var figures = new Dictionary<string, object?>(StringComparer.Ordinal) { ["files"] = count, ["cores"] = Environment.ProcessorCount };
        var clock = Stopwatch.StartNew();
        var (folder, generated) = EnsureCorpus(count);
        figures["folder"] = folder;
        figures["corpus_bytes"] = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        figures["corpus_generated_s"] = generated ? Seconds(clock.Elapsed) : null;
        text?.WriteLine($"folder: {folder} ({count} files, {(generated ? "generated now" : "reused")})");

        var data = Path.Combine(Path.GetTempPath(), $"rag-bench-sync-{Guid.NewGuid():N}");
        try
        {
            var configuration = CliHost.BuildConfiguration(data, new Dictionary<string, string?> { ["Rag:Embeddings:ModelDirectory"] = modelDirectory ?? string.Empty, ["Rag:Embeddings:Endpoint"] = null });
            await using var services = CliHost.Build(configuration);
            var metadata = services.GetRequiredService<IMetadataStore>();
            await metadata.MigrateAsync(ct);
            var source = await services.GetRequiredService<SourceCatalog>().CreateAsync(
                "bench",
                "files",
                new SourceSpecification { Kind = SourceKind.Folder, Folder = new FolderSettings { Path = folder }, Acl = AccessControlList.PublicOnly },
                ct);
            var sync = services.GetRequiredService<SourceSyncService>();
            var lister = services.GetServices<ISourceLister>().Single(l => l.Kind == SourceKind.Folder);

            var first = await TimedSyncAsync(sync, source, ct);
            figures["first_sync"] = Describe(first.Result, first.Elapsed, count);
            text?.WriteLine($"first sync:        {Seconds(first.Elapsed),8:0.000} s  {first.Result.Added / first.Elapsed.TotalSeconds,8:0.0} documents/s  ({first.Result.Added} added, {first.Result.Failed} failed, {first.Result.Chunks} chunks{(first.Result.KeywordOnlyReason is null ? string.Empty : ", keyword-only")})");

            // What a sync with nothing to do costs, in parts: the listing, the metadata snapshot, the whole sync.
            var quiet = new List<Dictionary<string, object?>>();
            for (var i = 0; i < repeat; i++)
            {
                var sw = Stopwatch.StartNew();
                var known = (await metadata.ListDocumentsAsync(source.Id, ct)).ToDictionary(d => d.ExternalKey, StringComparer.Ordinal);
                var snapshot = sw.Elapsed;
                sw.Restart();
                var listing = await lister.ListAsync(source, known, ct);
                var listed = sw.Elapsed;
                var run = await TimedSyncAsync(sync, source, ct);
                var figure = Describe(run.Result, run.Elapsed, count);
                figure["listing_s"] = Seconds(listed);
                figure["listed_items"] = listing.Items.Count;
                figure["metadata_snapshot_s"] = Seconds(snapshot);
                quiet.Add(figure);
                text?.WriteLine($"no-change sync {i + 1}:  {Seconds(run.Elapsed),8:0.000} s  (listing {Seconds(listed):0.000} s, metadata snapshot {Seconds(snapshot):0.000} s; {run.Result.Unchanged} unchanged, {run.Result.Updated + run.Result.Added} processed)");
            }

            var median = quiet.OrderBy(q => (double)q["elapsed_s"]!).ElementAt(quiet.Count / 2);
            var medianSeconds = (double)median["elapsed_s"]!;
            figures["no_change_sync"] = median;
            figures["no_change_runs_s"] = quiet.Select(q => q["elapsed_s"]).ToList();
            figures["no_change_target_s"] = NoChangeTarget.TotalSeconds;
            figures["no_change_target_met"] = medianSeconds <= NoChangeTarget.TotalSeconds;
            text?.WriteLine($"no-change median:  {medianSeconds,8:0.000} s  (target at most {NoChangeTarget.TotalSeconds:0} s for 10,000 files: {(medianSeconds <= NoChangeTarget.TotalSeconds ? "met" : "MISSED")})");

            var changed = ChangeOnePercent(folder, count);
            var after = await TimedSyncAsync(sync, source, ct);
            var processed = after.Result.Outcomes.Where(o => o.Outcome != DocumentOutcome.Unchanged).Select(o => o.ExternalKey).ToHashSet(StringComparer.Ordinal);
            var exactly = processed.SetEquals(changed) && after.Result.Updated == changed.Count && after.Result.Unchanged == count - changed.Count
                && after.Result.Added + after.Result.Deleted + after.Result.Failed == 0;
            var figure1 = Describe(after.Result, after.Elapsed, count);
            figure1["changed_files"] = changed.Count;
            figure1["processed_exactly_the_changed_files"] = exactly;
            figures["one_percent_sync"] = figure1;
            text?.WriteLine($"1% changed sync:   {Seconds(after.Elapsed),8:0.000} s  ({changed.Count} files changed: {after.Result.Updated} updated, {after.Result.Unchanged} unchanged, {after.Result.Added} added, {after.Result.Deleted} deleted, {after.Result.Failed} failed; exactly the changed files: {(exactly ? "yes" : "NO")})");
            return (figures, exactly);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TryDelete(data);
        }
    }

    private static async Task<(IngestionResult Result, TimeSpan Elapsed)> TimedSyncAsync(SourceSyncService sync, SourceInfo source, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var result = await sync.SyncAsync(source.Id, "bench", jobId: null, force: false, ct)
            ?? throw new InvalidOperationException($"Source '{source.Name}' was not synced.");
        return (result, clock.Elapsed);
    }

    private static Dictionary<string, object?> Describe(IngestionResult result, TimeSpan elapsed, int files) => new(StringComparer.Ordinal)
    {
        ["elapsed_s"] = Seconds(elapsed),
        ["pipeline_s"] = Seconds(result.Elapsed),
        ["documents_per_s"] = Math.Round(files / elapsed.TotalSeconds, 1),
        ["added"] = result.Added,
        ["updated"] = result.Updated,
        ["unchanged"] = result.Unchanged,
        ["deleted"] = result.Deleted,
        ["failed"] = result.Failed,
        ["chunks"] = result.Chunks,
        ["stage_s"] = result.StageTimes.ToDictionary(kv => kv.Key, kv => Seconds(kv.Value)),
    };

    /// <summary>
    /// The generated folder for <paramref name="count"/> files under <c>artifacts/bench-sync/</c>; it is
    /// written once (a marker says it is complete) and reused, as generating it costs more than syncing it.
    /// </summary>
    private static (string Folder, bool Generated) EnsureCorpus(int count)
    {
        var folder = Path.Combine(SharedLocations.Artifacts, "bench-sync", string.Create(CultureInfo.InvariantCulture, $"files-{count}"));
        var complete = Path.Combine(folder, ".complete");
        if (File.Exists(complete))
        {
            return (folder, false);
        }

        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        var rng = new Random(20260412);
        for (var i = 0; i < count; i++)
        {
            var path = FilePath(folder, i);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, GenerateDocument(i, rng));
        }

        File.WriteAllText(complete, count.ToString(CultureInfo.InvariantCulture));
        return (folder, true);
    }

    private static string FilePath(string folder, int i)
        => Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"d{i / FilesPerFolder:D3}"), string.Create(CultureInfo.InvariantCulture, $"note-{i:D6}.{(i % 3 == 0 ? "txt" : "md")}"));

    /// <summary>Every 100th file gets a new paragraph (new content, new modification time). Returns their paths.</summary>
    private static HashSet<string> ChangeOnePercent(string folder, int count)
    {
        var changed = new HashSet<string>(StringComparer.Ordinal);
        var stamp = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        for (var i = 0; i < count; i += 100)
        {
            var path = FilePath(folder, i);
            File.AppendAllText(path, $"\n\nEdited for the sync benchmark at {stamp}: the figures above were revised after review.\n");
            changed.Add(path);
        }

        return changed;
    }

    private static string GenerateDocument(int i, Random rng)
    {
        var text = new StringBuilder();
        var markdown = i % 3 != 0;
        if (markdown)
        {
            text.Append("# Note ").Append(i.ToString(CultureInfo.InvariantCulture)).Append("\n\n");
        }

        var sections = 2 + rng.Next(4);
        for (var s = 0; s < sections; s++)
        {
            if (markdown && s > 0)
            {
                text.Append("## Section ").Append(s.ToString(CultureInfo.InvariantCulture)).Append("\n\n");
            }

            for (var p = 0; p < 2 + rng.Next(3); p++)
            {
                for (var sentence = 0; sentence < 3 + rng.Next(5); sentence++)
                {
                    var words = 6 + rng.Next(14);
                    for (var w = 0; w < words; w++)
                    {
                        var word = Vocabulary[rng.Next(Vocabulary.Length)];
                        text.Append(w == 0 ? char.ToUpperInvariant(word[0]) + word[1..] : word).Append(w == words - 1 ? ". " : " ");
                    }
                }

                text.Append("\n\n");
            }
        }

        text.Append("Reference ").Append(i.ToString(CultureInfo.InvariantCulture)).Append('-').Append(rng.Next(1_000_000).ToString(CultureInfo.InvariantCulture)).Append(".\n");
        return text.ToString();
    }

    private static double Seconds(TimeSpan t) => Math.Round(t.TotalSeconds, 3);

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
