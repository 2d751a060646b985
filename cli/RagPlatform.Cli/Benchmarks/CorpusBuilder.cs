using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Cli.Hosting;
using RagPlatform.Core.Indexing;
using RagPlatform.Core.Metadata;
using RagPlatform.Ingestion.Pipeline;

namespace RagPlatform.Cli.Benchmarks;

/// <summary>What a built corpus holds; written next to it so that a later run can reuse it.</summary>
internal sealed record CorpusSummary
{
    public required int FormatVersion { get; init; }

    public required int Chunks { get; init; }

    public required int Documents { get; init; }

    /// <summary>Chunks per tenant.</summary>
    public required IReadOnlyDictionary<string, int> Tenants { get; init; }

    /// <summary>Chunks the benchmark's caller may see (its tenant, granted by the ACL).</summary>
    public required int VisibleToCaller { get; init; }

    public required int Dimensions { get; init; }

    public required string Embedder { get; init; }

    public required string TextSource { get; init; }

    public required double BuildSeconds { get; init; }
}

/// <summary>
/// Builds the synthetic corpus into a data directory through the write path's own <see cref="DocumentCommitter"/>
/// (metadata store, keyword index and vector index, with the same crash-safe protocol as ingestion), in large
/// batches: the next batch is generated and embedded while the previous one is staged and committed. Parsing
/// and chunking are skipped: the documents are generated already cut into chunks.
/// </summary>
internal static class CorpusBuilder
{
    public const string SummaryFile = "bench-corpus.json";

    // Written first and removed last: a directory holding it is a build that did not finish, safe to wipe.
    private const string BuildingFile = "bench-corpus.building";

    private const int BatchChunks = 5000;

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    /// <summary>The summary of the corpus in <paramref name="directory"/> when it is a complete one of this size and format.</summary>
    public static CorpusSummary? TryReuse(string directory, int chunks)
    {
        var path = Path.Combine(directory, SummaryFile);
        if (!File.Exists(path) || File.Exists(Path.Combine(directory, BuildingFile)))
        {
            return null;
        }

        try
        {
            var summary = JsonSerializer.Deserialize<CorpusSummary>(File.ReadAllText(path), Json);
            return summary is { FormatVersion: SyntheticCorpus.FormatVersion } && summary.Chunks == chunks && summary.Embedder == SyntheticEmbedder.ModelId ? summary : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Reuses the corpus in <paramref name="directory"/>, or builds it there (wiping an unfinished or outdated build).</summary>
    public static async Task<(CorpusSummary Summary, bool Reused)> EnsureAsync(
        string directory, int chunks, TextPool pool, SyntheticEmbedder embedder, TextWriter log, CancellationToken cancellationToken)
    {
        if (TryReuse(directory, chunks) is { } existing)
        {
            return (existing, true);
        }

        PrepareDirectory(directory);
        var summary = await BuildAsync(directory, chunks, pool, embedder, log, cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, SummaryFile), JsonSerializer.Serialize(summary, Json), cancellationToken);
        File.Delete(Path.Combine(directory, BuildingFile));
        return (summary, false);
    }

    private static void PrepareDirectory(string directory)
    {
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
        {
            var ours = File.Exists(Path.Combine(directory, BuildingFile)) || File.Exists(Path.Combine(directory, SummaryFile));
            if (!ours)
            {
                throw new IOException(
                    $"{directory} is not empty and holds no benchmark corpus ({SummaryFile}); rag bench query only writes into an empty directory " +
                    "or one it built. Pass --data with a new directory, or leave it out to use artifacts/bench-query-N.");
            }

            // An interrupted build, or one of another size or format: nothing in it is worth keeping.
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, BuildingFile), "a benchmark corpus is being built here; an interrupted build is wiped by the next run\n");
    }

    private static async Task<CorpusSummary> BuildAsync(string directory, int chunks, TextPool pool, SyntheticEmbedder embedder, TextWriter log, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var configuration = CliHost.BuildConfiguration(directory, new Dictionary<string, string?>
        {
            // The corpus brings its own embeddings; no model is loaded for building it.
            ["Rag:Embeddings:ModelDirectory"] = string.Empty,
            ["Rag:Embeddings:Endpoint"] = null,
        });
        await using var services = CliHost.Build(configuration);
        var metadata = services.GetRequiredService<IMetadataStore>();
        var committer = services.GetRequiredService<DocumentCommitter>();
        await metadata.MigrateAsync(cancellationToken);
        var sources = new Dictionary<string, Guid>(StringComparer.Ordinal);
        foreach (var tenant in new[] { SyntheticCorpus.Tenant, SyntheticCorpus.OtherTenant })
        {
            sources[tenant] = (await metadata.EnsureSourceAsync(tenant, "bench-corpus", SourceKind.Push, cancellationToken)).Id;
        }

        var stats = new Stats();

        // The producer stops too when committing fails, instead of waiting forever on a full channel.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var batches = Channel.CreateBounded<(WriteBatch Batch, List<IndexedChunk> Upserts)>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
        var producer = Task.Run(
            async () =>
            {
                try
                {
                    foreach (var batch in Batches(SyntheticCorpus.Generate(pool, chunks), sources, embedder, stats))
                    {
                        await batches.Writer.WriteAsync(batch, stop.Token);
                    }

                    batches.Writer.Complete();
                }
                catch (Exception ex)
                {
                    batches.Writer.Complete(ex);
                    throw;
                }
            },
            stop.Token);

        try
        {
            await CommitAllAsync(batches.Reader, committer, chunks, clock, log, cancellationToken);
        }
        catch
        {
            await stop.CancelAsync();
            throw;
        }

        await producer;
        return new CorpusSummary
        {
            FormatVersion = SyntheticCorpus.FormatVersion,
            Chunks = stats.Chunks,
            Documents = stats.Documents,
            Tenants = stats.Tenants,
            VisibleToCaller = stats.Visible,
            Dimensions = SyntheticEmbedder.Dimensions,
            Embedder = SyntheticEmbedder.ModelId,
            TextSource = pool.Origin,
            BuildSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1),
        };
    }

    private static async Task CommitAllAsync(
        ChannelReader<(WriteBatch Batch, List<IndexedChunk> Upserts)> batches, DocumentCommitter committer, int chunks, Stopwatch clock, TextWriter log, CancellationToken cancellationToken)
    {
        Task? completing = null;
        var committed = 0;
        var lastReport = Stopwatch.StartNew();
        await foreach (var (batch, upserts) in batches.ReadAllAsync(cancellationToken))
        {
            // Staging the next batch while the previous one completes, as the ingestion pipeline does:
            // no document is in two batches, so their steps never interleave on one document.
            await committer.StageAsync(batch, cancellationToken);
            if (completing is not null)
            {
                await completing;
            }

            committed += upserts.Count;
            completing = committer.CompleteAsync(batch, upserts);
            if (lastReport.Elapsed > TimeSpan.FromSeconds(5))
            {
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench: {committed:N0} of {chunks:N0} chunks written ({clock.Elapsed.TotalSeconds:0} s)"));
                lastReport.Restart();
            }
        }

        if (completing is not null)
        {
            await completing;
        }
    }

    private static IEnumerable<(WriteBatch Batch, List<IndexedChunk> Upserts)> Batches(
        IEnumerable<CorpusDocument> documents, Dictionary<string, Guid> sources, SyntheticEmbedder embedder, Stats stats)
    {
        var batch = new WriteBatch();
        var upserts = new List<IndexedChunk>(BatchChunks + 20);
        foreach (var doc in documents)
        {
            AddDocument(doc, sources[doc.Tenant], embedder, batch, upserts);
            stats.Add(doc);
            if (upserts.Count >= BatchChunks)
            {
                yield return (batch, upserts);
                batch = new WriteBatch();
                upserts = new List<IndexedChunk>(BatchChunks + 20);
            }
        }

        if (upserts.Count > 0)
        {
            yield return (batch, upserts);
        }
    }

    private static void AddDocument(CorpusDocument doc, Guid sourceId, SyntheticEmbedder embedder, WriteBatch batch, List<IndexedChunk> upserts)
    {
        const int version = 1;
        var acl = doc.Acl.ToString();
        var aclStrings = doc.Acl.ToStrings();
        var header = new DocumentHeader
        {
            Id = doc.Id,
            Tenant = doc.Tenant,
            SourceId = sourceId,
            ExternalKey = doc.ExternalKey,
            Title = doc.Title,
            Uri = doc.Uri,
            Acl = acl,
            MetadataJson = JsonSerializer.Serialize(doc.Metadata),
            ChangedAt = doc.ChangedAt,
            ContentType = "text/plain",
            SizeBytes = Encoding.UTF8.GetByteCount(doc.Text),
        };

        var records = new List<ChunkRecord>(doc.Chunks.Count);
        var byteStart = 0;
        var previousEnd = 0;
        for (var ordinal = 0; ordinal < doc.Chunks.Count; ordinal++)
        {
            var (start, end) = doc.Chunks[ordinal];
            var text = doc.Text[start..end];
            byteStart += Encoding.UTF8.GetByteCount(doc.Text.AsSpan(previousEnd, start - previousEnd));
            var byteEnd = byteStart + Encoding.UTF8.GetByteCount(text);
            var chunkId = ChunkIds.Create(doc.Id, version, ordinal);
            records.Add(new ChunkRecord
            {
                ChunkId = chunkId,
                Ordinal = ordinal,
                Text = text,
                Start = start,
                End = end,
                ByteStart = byteStart,
                ByteEnd = byteEnd,
                PageStart = doc.Paged ? (ordinal / 2) + 1 : null,
                PageEnd = doc.Paged ? (ordinal / 2) + 1 : null,
                HeadingPath = [string.Create(CultureInfo.InvariantCulture, $"Part {(ordinal / 4) + 1}")],
                TokenCount = text.Length / 4,
                ContentHash = Sha256(text),
            });
            upserts.Add(new IndexedChunk
            {
                ChunkId = chunkId,
                DocumentId = doc.Id,
                Version = version,
                Tenant = doc.Tenant,
                SourceId = sourceId,
                Acl = aclStrings,
                Title = doc.Title,
                Text = text,
                Metadata = doc.Metadata,
                ChangedAt = doc.ChangedAt,
                Embedding = embedder.Embed(text),
            });
            byteStart = byteEnd;
            previousEnd = end;
        }

        batch.Versions.Add(new NewVersion
        {
            Document = header,
            Version = version,
            ContentHash = Sha256(doc.Text),
            PipelineFingerprint = "bench-query-synthetic",
            Format = "text",
            Text = doc.Text,
            PageCount = doc.Paged ? ((doc.Chunks.Count - 1) / 2) + 1 : null,
            Chunks = records,
        });
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private sealed class Stats
    {
        public int Chunks { get; private set; }

        public int Documents { get; private set; }

        public int Visible { get; private set; }

        public Dictionary<string, int> Tenants { get; } = new(StringComparer.Ordinal);

        public void Add(CorpusDocument doc)
        {
            Documents++;
            Chunks += doc.Chunks.Count;
            Tenants[doc.Tenant] = Tenants.GetValueOrDefault(doc.Tenant) + doc.Chunks.Count;
            if (doc.Tenant == SyntheticCorpus.Tenant && doc.Acl.Permits(SyntheticCorpus.Caller))
            {
                Visible += doc.Chunks.Count;
            }
        }
    }
}
