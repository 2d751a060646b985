using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Documents;
using RagPlatform.Core.Indexing;
using RagPlatform.Core.Inference;
using RagPlatform.Core.Metadata;
using RagPlatform.Core.Security;
using RagPlatform.Inference;
using RagPlatform.Ingestion.Chunking;
using RagPlatform.Ingestion.Parsing;

namespace RagPlatform.Ingestion.Pipeline;

/// <summary>
/// The write path: decides per item whether anything changed (cheap marker, then content hash),
/// parses, chunks, embeds (reusing cached embeddings) and commits each document version to every
/// store through <see cref="DocumentCommitter"/>. Three stages run concurrently: preparation
/// (parallel over the cores), embedding (batched across documents) and commit (batched).
/// Bad input never stops a run: each failure is recorded on its document and reported.
/// </summary>
public sealed class IngestionPipeline(
    IMetadataStore metadata,
    DocumentCommitter committer,
    Lazy<IVectorIndex> vectors,
    DocumentParser parser,
    InferenceModels models,
    IOptions<RagOptions> options,
    TimeProvider time,
    ILogger<IngestionPipeline> logger) : IDisposable
{
    /// <summary>Bump when parsing, normalisation or what is stored per chunk changes, so that documents are reprocessed (p2: UTF-8 byte offsets).</summary>
    internal const string ProcessingVersion = "p2";

    // Chunks gathered before one embedding-cache lookup and one model call sequence.
    private const int EmbeddingGroupChunks = 256;

    // A commit also closes when its chunks reach this many, to bound memory for huge documents.
    private const int CommitBatchChunks = 8192;

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false };

    // One run at a time in a process: each run first repairs the journal, which must never see
    // another run's batch in flight. The write path is CPU-bound, so runs in parallel would not be faster.
    private readonly SemaphoreSlim _oneRunAtATime = new(1, 1);

    public async Task<IngestionResult> RunAsync(IngestionRequest request, IProgress<IngestionProgress>? progress, CancellationToken cancellationToken)
    {
        await _oneRunAtATime.WaitAsync(cancellationToken);
        try
        {
            return await RunExclusiveAsync(request, progress, cancellationToken);
        }
        finally
        {
            _oneRunAtATime.Release();
        }
    }

    public void Dispose() => _oneRunAtATime.Dispose();

    /// <summary>
    /// Applies what indexer workers (or an interrupted run) staged, between runs of this process.
    /// Returns the number of journal entries closed.
    /// </summary>
    public async Task<int> ApplyJournalAsync(CancellationToken cancellationToken)
    {
        await _oneRunAtATime.WaitAsync(cancellationToken);
        try
        {
            return await committer.ApplyJournalAsync(cancellationToken);
        }
        finally
        {
            _oneRunAtATime.Release();
        }
    }

    private async Task<IngestionResult> RunExclusiveAsync(IngestionRequest request, IProgress<IngestionProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        if (options.Value.Role != PlatformRole.Indexer)
        {
            // Finish what an interrupted run (or an indexer worker) staged, before deciding anything.
            await committer.ApplyJournalAsync(cancellationToken);
        }

        var source = request.Source;
        var runId = await metadata.StartRunAsync(source.Tenant, source.Id, request.Trigger, time.GetUtcNow(), request.JobId, cancellationToken);
        var run = new RunState(request, BuildContext(request));
        try
        {
            var snapshots = (await metadata.ListDocumentsAsync(source.Id, cancellationToken))
                .ToDictionary(s => s.ExternalKey, StringComparer.Ordinal);
            var items = request.Items.DistinctBy(i => i.ExternalKey, StringComparer.Ordinal).ToList();
            run.Total = items.Count;

            var prepared = Channel.CreateBounded<PreparedDocument>(new BoundedChannelOptions(64) { SingleReader = true });
            var embedded = Channel.CreateBounded<PreparedDocument>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true });
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var ct = linked.Token;

            // A stage that fails stops the others at once: the stages before it would otherwise wait
            // forever for room in a bounded channel that nobody reads any more.
            var stages = Task.WhenAll(
                StopOthersOnFailure(PrepareAllAsync(items, snapshots, run, prepared.Writer, ct)),
                StopOthersOnFailure(EmbedAllAsync(prepared.Reader, embedded.Writer, run, ct)),
                StopOthersOnFailure(CommitAllAsync(embedded.Reader, run, progress, ct)));
            try
            {
                await stages;
            }
            catch
            {
                await linked.CancelAsync();

                // The failure that stopped the run, not the cancellations it caused in the other stages.
                if (stages.Exception?.InnerExceptions.FirstOrDefault(e => e is not OperationCanceledException) is { } cause)
                {
                    ExceptionDispatchInfo.Throw(cause);
                }

                throw;
            }

            async Task StopOthersOnFailure(Task stage)
            {
                try
                {
                    await stage;
                }
                catch
                {
                    await linked.CancelAsync();
                    throw;
                }
            }

            await DeleteMissingAsync(request, snapshots, items, run, cancellationToken);

            var result = run.ToResult(runId, clock.Elapsed);
            await metadata.FinishRunAsync(runId, Summary(result, result.Failed > 0 && result.Succeeded == 0 ? "failed" : "succeeded", error: null), CancellationToken.None);
            logger.LogInformation(
                "Ingested source {Source}: {Added} added, {Updated} updated, {Unchanged} unchanged, {Deleted} deleted, {Failed} failed, {Chunks} chunks in {ElapsedMs} ms",
                source.Name, result.Added, result.Updated, result.Unchanged, result.Deleted, result.Failed, result.Chunks, (long)result.Elapsed.TotalMilliseconds);
            return result;
        }
        catch (Exception ex)
        {
            var partial = run.ToResult(runId, clock.Elapsed);
            await metadata.FinishRunAsync(runId, Summary(partial, ex is OperationCanceledException ? "cancelled" : "failed", ex.Message), CancellationToken.None);
            throw;
        }
    }

    private RunSummary Summary(IngestionResult result, string status, string? error) => new()
    {
        Added = result.Added,
        Updated = result.Updated,
        Unchanged = result.Unchanged,
        Deleted = result.Deleted,
        Failed = result.Failed,
        Chunks = result.Chunks,
        FinishedAt = time.GetUtcNow(),
        Status = status,
        Error = error,
        Failures = result.Failures.Select(f => new RunFailure(f.ExternalKey, f.Kind, f.Reason)).ToList(),
    };

    private RunContext BuildContext(IngestionRequest request)
    {
        var opts = options.Value;
        var chunking = request.Chunking ?? new ChunkingOptions
        {
            MaxTokens = request.Source.ChunkTokens ?? opts.Chunking.MaxTokens,
            OverlapTokens = request.Source.OverlapTokens ?? opts.Chunking.OverlapTokens,
        };
        var embedder = models.Embedder;
        string? modelId = null;
        if (embedder is not null)
        {
            modelId = embedder.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId
                ?? throw new InvalidOperationException("The embedding generator does not name its model; the embedding cache needs a model id.");
        }

        var tokens = models.TokenCounter;
        var fingerprint = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{ProcessingVersion};chunks={chunking.MaxTokens}/{chunking.OverlapTokens};tok={tokens.Name};emb={modelId ?? "none"}");
        return new RunContext(new StructuredChunker(tokens), chunking, embedder, modelId, fingerprint, opts.Limits.MaxFileBytes, opts.Limits.CommitBatchSize, embedder is null ? models.Status : null, opts.Role != PlatformRole.Indexer);
    }

    private async Task PrepareAllAsync(List<IngestItem> items, Dictionary<string, DocumentSnapshot> snapshots, RunState run, ChannelWriter<PreparedDocument> writer, CancellationToken cancellationToken)
    {
        try
        {
            await Parallel.ForEachAsync(
                items,
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount), CancellationToken = cancellationToken },
                async (item, ct) =>
                {
                    snapshots.TryGetValue(item.ExternalKey, out var snapshot);
                    var prepared = await PrepareAsync(item, snapshot, run, ct);
                    await writer.WriteAsync(prepared, ct);
                });
            writer.Complete();
        }
        catch (Exception ex)
        {
            writer.Complete(ex);
            throw;
        }
    }

    private async Task<PreparedDocument> PrepareAsync(IngestItem item, DocumentSnapshot? snapshot, RunState run, CancellationToken cancellationToken)
    {
        var context = run.Context;
        var acl = item.Acl ?? run.Request.DefaultAcl;
        var aclText = acl.ToString();
        var fingerprint = context.Fingerprint + ";hdr=" + HeaderHash(item);
        var live = snapshot is { State: not DocumentState.Deleted, ActiveVersion: > 0 };
        var force = run.Request.Force;
        var header = Header(run.Request.Source, item, snapshot, aclText, title: item.Title ?? snapshot?.Title ?? FallbackTitle(item));

        var active = live ? snapshot!.ActiveVersion : 0;
        if (item.ListingFailure is { } listingFailure)
        {
            return Failed(header, listingFailure.Kind, listingFailure.Message, null, activeVersion: active);
        }

        // 1. The cheap marker: same stamp and same settings means the bytes need not be read.
        var stampSame = snapshot?.SourceStamp is { } stamp && item.SourceStamp is not null && string.Equals(stamp, item.SourceStamp, StringComparison.Ordinal);
        if (!force && stampSame && live && snapshot!.State == DocumentState.Indexed && snapshot.PipelineFingerprint == fingerprint)
        {
            return snapshot.Acl == aclText
                ? new UnchangedDocument(item.ExternalKey, snapshot.Id, snapshot.ActiveVersion, null)
                : new AccessOnlyChange(item.ExternalKey, new AccessChange(snapshot.Id, aclText, item.SourceStamp, item.ChangedAt), snapshot.ActiveVersion);
        }

        if (!force && stampSame && snapshot is { State: DocumentState.Failed } && !snapshot.FailureKind.IsTransient() && snapshot.FailedContentHash is not null)
        {
            return Failed(header, snapshot.FailureKind, $"unchanged since it failed: {FailureReason(snapshot)}", snapshot.FailedContentHash, persist: false, activeVersion: active);
        }

        // 2. Read, within the size limit.
        if (item.Size is { } size && size > context.MaxBytes)
        {
            return Failed(header, FailureKind.TooLarge, TooLarge(size, context.MaxBytes), null, activeVersion: active);
        }

        ReadOnlyMemory<byte> bytes;
        var sw = Stopwatch.StartNew();
        try
        {
            bytes = await item.ReadAsync(cancellationToken);
        }
        catch (DocumentRejectedException ex)
        {
            return Failed(header, ex.Kind, ex.Message, null, activeVersion: active);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Failed(header, FailureKind.Unreadable, $"could not be read: {ex.Message}", null, activeVersion: active);
        }
        finally
        {
            run.AddTime("read", sw.Elapsed);
        }

        if (bytes.Length > context.MaxBytes)
        {
            return Failed(header, FailureKind.TooLarge, TooLarge(bytes.Length, context.MaxBytes), null, activeVersion: active);
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes.Span));

        // 3. Same bytes: unchanged, or an ACL-only change, or a known permanent failure.
        if (!force && live && snapshot!.ContentHash == hash && snapshot.PipelineFingerprint == fingerprint)
        {
            if (snapshot.Acl != aclText && snapshot.PendingVersion == 0)
            {
                return new AccessOnlyChange(item.ExternalKey, new AccessChange(snapshot.Id, aclText, item.SourceStamp, item.ChangedAt), snapshot.ActiveVersion);
            }

            if (snapshot.State == DocumentState.Indexed)
            {
                return new UnchangedDocument(item.ExternalKey, snapshot.Id, snapshot.ActiveVersion, stampSame ? null : item.SourceStamp);
            }

            if (snapshot is { State: DocumentState.Failed, PendingVersion: 0 })
            {
                // It failed since (a timeout, a broken ACL file) and now reads as the active version again: no new version.
                return new UnchangedDocument(item.ExternalKey, snapshot.Id, snapshot.ActiveVersion, stampSame ? null : item.SourceStamp, Recovered: true);
            }
        }

        // Staged by an earlier run and waiting for the index owner: the same content needs no new version.
        if (!force && snapshot is { PendingVersion: > 0 } && snapshot.PendingContentHash == hash && snapshot.PendingFingerprint == fingerprint && snapshot.PendingAcl == aclText)
        {
            return new UnchangedDocument(item.ExternalKey, snapshot.Id, snapshot.PendingVersion, null);
        }

        if (!force && snapshot is { State: DocumentState.Failed } && snapshot.FailedContentHash == hash && !snapshot.FailureKind.IsTransient())
        {
            return Failed(header, snapshot.FailureKind, $"unchanged since it failed: {FailureReason(snapshot)}", hash, persist: !stampSame, activeVersion: active);
        }

        // 4. Parse and chunk.
        ParsedDocument parsed;
        sw.Restart();
        try
        {
            parsed = parser.Parse(bytes, item.FileName ?? item.ExternalKey, item.ContentType);
        }
        catch (DocumentRejectedException ex)
        {
            return Failed(header, ex.Kind, ex.Message, hash, activeVersion: active);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Parser failed on {Document}", item.ExternalKey);
            return Failed(header, FailureKind.Internal, $"the parser failed unexpectedly ({ex.GetType().Name}: {ex.Message}); please report this file", hash, activeVersion: active);
        }
        finally
        {
            run.AddTime("parse", sw.Elapsed);
        }

        sw.Restart();
        IReadOnlyList<TextChunk> chunks;
        try
        {
            chunks = context.Chunker.Chunk(parsed, context.Chunking);
        }
        finally
        {
            run.AddTime("chunk", sw.Elapsed);
        }

        if (chunks.Count == 0)
        {
            return Failed(header, FailureKind.Empty, "no text to index after parsing", hash, activeVersion: active);
        }

        var title = item.Title ?? (string.IsNullOrWhiteSpace(parsed.Title) ? FallbackTitle(item) : parsed.Title);
        var metadataJson = MergeMetadata(parsed.Metadata, item.Metadata);
        header = header with { Title = title, MetadataJson = metadataJson };
        var version = Math.Max(snapshot?.LatestVersion ?? 0, snapshot?.PendingVersion ?? 0) + 1;
        var byteOffsets = Utf8Offsets(parsed.Text, chunks);
        var newVersion = new NewVersion
        {
            Document = header,
            Version = version,
            ContentHash = hash,
            PipelineFingerprint = fingerprint,
            Format = parsed.Format,
            Text = parsed.Text,
            PageCount = parsed.PageCount,
            EmbeddingModel = context.ModelId,
            Chunks = chunks.Select(c => new ChunkRecord
            {
                ChunkId = ChunkIds.Create(header.Id, version, c.Ordinal),
                Ordinal = c.Ordinal,
                Text = c.Text,
                Start = c.Start,
                End = c.End,
                ByteStart = byteOffsets[c.Ordinal].Start,
                ByteEnd = byteOffsets[c.Ordinal].End,
                PageStart = c.PageStart,
                PageEnd = c.PageEnd,
                HeadingPath = c.HeadingPath,
                TokenCount = c.TokenCount,
                ContentHash = c.ContentHash,
            }).ToList(),
        };
        var metadataDict = ParseMetadata(metadataJson);
        var aclStrings = acl.ToStrings();
        var indexed = newVersion.Chunks.Select(c => new IndexedChunk
        {
            ChunkId = c.ChunkId,
            DocumentId = header.Id,
            Version = version,
            Tenant = header.Tenant,
            SourceId = header.SourceId,
            Acl = aclStrings,
            Title = title,
            Text = c.Text,
            Metadata = metadataDict,
            ChangedAt = header.ChangedAt,
        }).ToArray();
        return new VersionedDocument(item.ExternalKey, newVersion, indexed, PreviousVersion: active);
    }

    private async Task EmbedAllAsync(ChannelReader<PreparedDocument> reader, ChannelWriter<PreparedDocument> writer, RunState run, CancellationToken cancellationToken)
    {
        try
        {
            var group = new List<VersionedDocument>();
            var groupChunks = 0;
            await foreach (var doc in reader.ReadAllAsync(cancellationToken))
            {
                if (doc is not VersionedDocument versioned || run.Context.Embedder is null)
                {
                    await writer.WriteAsync(doc, cancellationToken);
                    continue;
                }

                group.Add(versioned);
                groupChunks += versioned.Chunks.Length;
                if (groupChunks >= EmbeddingGroupChunks)
                {
                    await EmbedGroupAsync(group, writer, run, cancellationToken);
                    group.Clear();
                    groupChunks = 0;
                }
            }

            if (group.Count > 0)
            {
                await EmbedGroupAsync(group, writer, run, cancellationToken);
            }

            writer.Complete();
        }
        catch (Exception ex)
        {
            writer.Complete(ex);
            throw;
        }
    }

    private async Task EmbedGroupAsync(List<VersionedDocument> group, ChannelWriter<PreparedDocument> writer, RunState run, CancellationToken cancellationToken)
    {
        var context = run.Context;
        var sw = Stopwatch.StartNew();
        var textsByHash = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var doc in group)
        {
            foreach (var chunk in doc.Version.Chunks)
            {
                textsByHash.TryAdd(chunk.ContentHash, chunk.Text);
            }
        }

        var vectorsByHash = new Dictionary<string, float[]>(await metadata.GetCachedEmbeddingsAsync(context.ModelId!, textsByHash.Keys, cancellationToken), StringComparer.Ordinal);
        var missing = textsByHash.Where(kv => !vectorsByHash.ContainsKey(kv.Key)).ToList();
        GeneratedEmbeddings<Embedding<float>>? generated = null;
        if (missing.Count > 0)
        {
            try
            {
                generated = await context.Embedder!.GenerateAsync(missing.Select(m => m.Value), options: null, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The model or its endpoint failed: these documents fail (transiently when it is the network), the run goes on.
                run.AddTime("embed", sw.Elapsed);
                var kind = ex is HttpRequestException or TimeoutException or OperationCanceledException ? FailureKind.Unavailable : FailureKind.Internal;
                foreach (var doc in group)
                {
                    await writer.WriteAsync(Failed(doc.Version.Document, kind, $"embedding failed: {ex.Message}", doc.Version.ContentHash, activeVersion: doc.PreviousVersion), cancellationToken);
                }

                return;
            }

            if (generated.Count != missing.Count)
            {
                throw new InvalidOperationException($"The embedding model {context.ModelId} returned {generated.Count} embeddings for {missing.Count} texts.");
            }

            var dims = generated[0].Vector.Length;
            if (run.Context.OwnsIndexes && vectors.Value.Dimensions is { } held && held != dims)
            {
                // Mixing two models' vectors would make vector search meaningless: stop the run.
                throw new InvalidOperationException(
                    $"The vector index holds {held}-dimensional vectors but the embedding model {context.ModelId} produces {dims}: the model changed. " +
                    "Ingest into a fresh data directory (--data) or remove the old vector index.");
            }

            for (var i = 0; i < missing.Count; i++)
            {
                vectorsByHash[missing[i].Key] = generated[i].Vector.ToArray();
            }
        }

        run.AddTime("embed", sw.Elapsed);
        run.AddEmbedded(missing.Count, textsByHash.Count - missing.Count);
        var newHashes = missing.Select(m => m.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var doc in group)
        {
            for (var i = 0; i < doc.Chunks.Length; i++)
            {
                var hash = doc.Version.Chunks[i].ContentHash;
                doc.Chunks[i] = doc.Chunks[i] with { Embedding = vectorsByHash[hash] };
                if (newHashes.Remove(hash))
                {
                    doc.NewEmbeddings.Add(new CachedEmbedding(context.ModelId!, hash, vectorsByHash[hash]));
                }
            }

            await writer.WriteAsync(doc, cancellationToken);
        }
    }

    private async Task CommitAllAsync(ChannelReader<PreparedDocument> reader, RunState run, IProgress<IngestionProgress>? progress, CancellationToken cancellationToken)
    {
        var pending = new PendingCommit();
        Task? completing = null;
        try
        {
            await foreach (var doc in reader.ReadAllAsync(cancellationToken))
            {
                pending.Add(doc, run);
                run.Done++;
                progress?.Report(new IngestionProgress(run.Done, run.Total, doc.ExternalKey));
                if (pending.Batch.Versions.Count + pending.Batch.AccessChanges.Count >= run.Context.CommitBatchSize || pending.Upserts.Count >= CommitBatchChunks)
                {
                    completing = await FlushAsync(pending, completing, run, cancellationToken);
                    pending = new PendingCommit();
                }
            }

            completing = await FlushAsync(pending, completing, run, cancellationToken);
        }
        finally
        {
            // A batch that was staged always completes, even when the run stops: it only moves the stores forward.
            if (completing is not null)
            {
                await completing;
            }
        }
    }

    /// <summary>
    /// Stages <paramref name="pending"/> while the previous batch completes (index writes, activation,
    /// clean-up), then starts completing this one; returns the task completing it.
    /// </summary>
    private async Task<Task> FlushAsync(PendingCommit pending, Task? previous, RunState run, CancellationToken cancellationToken)
    {
        var staged = await committer.StageAsync(pending.Batch, cancellationToken);
        if (previous is not null)
        {
            await previous;
        }

        run.AddCommit(staged, TimeSpan.Zero);
        return CompleteAsync(pending, run);
    }

    private async Task CompleteAsync(PendingCommit pending, RunState run)
    {
        // An indexer worker stops at staging: the index owner applies the journal.
        var timings = run.Context.OwnsIndexes ? await committer.CompleteAsync(pending.Batch, pending.Upserts) : new CommitTimings();
        run.Count(added: pending.Added, updated: pending.Updated, chunks: pending.Chunks);
        foreach (var outcome in pending.Outcomes)
        {
            run.Record(outcome);
        }

        var sw = Stopwatch.StartNew();
        await metadata.RecordFailuresAsync(pending.Failures, CancellationToken.None);
        await metadata.UpdateSourceStampsAsync(pending.Stamps, CancellationToken.None);
        await metadata.ClearFailuresAsync(pending.Recovered, CancellationToken.None);
        run.AddCommit(timings, sw.Elapsed);
    }

    private async Task DeleteMissingAsync(IngestionRequest request, Dictionary<string, DocumentSnapshot> snapshots, List<IngestItem> items, RunState run, CancellationToken cancellationToken)
    {
        var seen = items.Select(i => i.ExternalKey).ToHashSet(StringComparer.Ordinal);
        var explicitKeys = request.Deletions.ToHashSet(StringComparer.Ordinal);
        var doomed = snapshots.Values
            .Where(s => s.State != DocumentState.Deleted)
            .Where(s => explicitKeys.Contains(s.ExternalKey) || (request.DeletionScope is { } scope && !seen.Contains(s.ExternalKey) && scope(s.ExternalKey)))
            .ToList();
        if (doomed.Count == 0)
        {
            return;
        }

        foreach (var slice in doomed.Chunk(run.Context.CommitBatchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = new WriteBatch();
            batch.Deletions.AddRange(slice.Select(s => s.Id));
            run.AddCommit(
                run.Context.OwnsIndexes ? await committer.CommitAsync(batch, [], cancellationToken) : await committer.StageAsync(batch, cancellationToken),
                TimeSpan.Zero);
            run.Count(deleted: slice.Length);
            foreach (var doc in slice)
            {
                run.Record(new DocumentOutcomeRecord(doc.ExternalKey, doc.Id, DocumentOutcome.Deleted, 0));
            }
        }
    }

    private static string FailureReason(DocumentSnapshot snapshot) => snapshot.FailureReason ?? snapshot.FailureKind.ToWireName();

    private static FailedDocument Failed(DocumentHeader header, FailureKind kind, string reason, string? hash, bool persist = true, int activeVersion = 0)
        => new(header.ExternalKey, new DocumentFailureRecord(header, kind, reason, hash), persist, activeVersion);

    private static DocumentHeader Header(SourceInfo source, IngestItem item, DocumentSnapshot? snapshot, string acl, string title) => new()
    {
        Id = snapshot?.Id ?? Guid.CreateVersion7(),
        Tenant = source.Tenant,
        SourceId = source.Id,
        ExternalKey = item.ExternalKey,
        Title = title,
        Uri = item.Uri,
        Acl = acl,
        ChangedAt = item.ChangedAt,
        SourceStamp = item.SourceStamp,
        ContentType = item.ContentType,
        SizeBytes = item.Size,
    };

    /// <summary>Each chunk's range in bytes of the UTF-8 encoded text, counted once over the text.</summary>
    private static (int Start, int End)[] Utf8Offsets(string text, IReadOnlyList<TextChunk> chunks)
    {
        // Chunks overlap, so convert each boundary on its own, in text order, walking the text once.
        var boundaries = chunks.SelectMany(c => new[] { c.Start, c.End }).Distinct().Order().ToArray();
        var bytesAt = new Dictionary<int, int>(boundaries.Length);
        var position = 0;
        var bytes = 0;
        foreach (var boundary in boundaries)
        {
            bytes += Encoding.UTF8.GetByteCount(text.AsSpan(position, boundary - position));
            position = boundary;
            bytesAt[boundary] = bytes;
        }

        return chunks.Select(c => (bytesAt[c.Start], bytesAt[c.End])).ToArray();
    }

    private static string FallbackTitle(IngestItem item)
    {
        var name = item.FileName ?? item.ExternalKey;
        var file = Path.GetFileNameWithoutExtension(name);
        return string.IsNullOrWhiteSpace(file) ? name : file;
    }

    private static string TooLarge(long size, long max)
        => FormattableString.Invariant($"is {size / 1048576.0:0.0} MB, over the {max / 1048576.0:0.#} MB limit; raise Rag:Limits:MaxFileBytes or split the file");

    /// <summary>A caller-given title, URI or metadata changes the document like new content does.</summary>
    private static string HeaderHash(IngestItem item)
    {
        if (item.Title is null && item.Metadata is null)
        {
            return "-";
        }

        var text = new StringBuilder().Append(item.Title).Append('\u001F').Append(item.Uri);
        foreach (var kv in (item.Metadata ?? new Dictionary<string, string>()).OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            text.Append('\u001F').Append(kv.Key).Append('=').Append(kv.Value);
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }

    private static string MergeMetadata(IReadOnlyDictionary<string, string> parsed, IReadOnlyDictionary<string, string>? given)
    {
        var merged = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var kv in parsed)
        {
            merged[kv.Key] = kv.Value;
        }

        if (given is not null)
        {
            foreach (var kv in given)
            {
                merged[kv.Key] = kv.Value;
            }
        }

        return JsonSerializer.Serialize(merged, JsonOptions);
    }

    private static Dictionary<string, string> ParseMetadata(string json)
        => JsonSerializer.Deserialize<Dictionary<string, string>>(json, JsonOptions) ?? new Dictionary<string, string>(StringComparer.Ordinal);

    private sealed record RunContext(
        StructuredChunker Chunker,
        ChunkingOptions Chunking,
        IEmbeddingGenerator<string, Embedding<float>>? Embedder,
        string? ModelId,
        string Fingerprint,
        long MaxBytes,
        int CommitBatchSize,
        string? KeywordOnlyReason,
        bool OwnsIndexes);

    /// <summary>What the commit stage gathers until a batch is full.</summary>
    private sealed class PendingCommit
    {
        public WriteBatch Batch { get; } = new();

        public List<IndexedChunk> Upserts { get; } = [];

        public List<DocumentFailureRecord> Failures { get; } = [];

        public List<(Guid, string)> Stamps { get; } = [];

        public List<Guid> Recovered { get; } = [];

        public int Added { get; private set; }

        public int Updated { get; private set; }

        public int Chunks { get; private set; }

        public void Add(PreparedDocument doc, RunState run)
        {
            switch (doc)
            {
                case UnchangedDocument unchanged:
                    run.Count(unchanged: 1);
                    run.Record(new DocumentOutcomeRecord(unchanged.ExternalKey, unchanged.DocumentId, DocumentOutcome.Unchanged, unchanged.Version));
                    if (unchanged.NewStamp is { } stamp)
                    {
                        Stamps.Add((unchanged.DocumentId, stamp));
                    }

                    if (unchanged.Recovered)
                    {
                        Recovered.Add(unchanged.DocumentId);
                    }

                    break;
                case AccessOnlyChange access:
                    Batch.AccessChanges.Add(access.Change);
                    Outcomes.Add(new DocumentOutcomeRecord(access.ExternalKey, access.Change.DocumentId, DocumentOutcome.Updated, access.Version));
                    Updated++;
                    break;
                case VersionedDocument versioned:
                    Batch.Versions.Add(versioned.Version);
                    Batch.Embeddings.AddRange(versioned.NewEmbeddings);
                    Upserts.AddRange(versioned.Chunks);
                    Chunks += versioned.Chunks.Length;
                    Outcomes.Add(new DocumentOutcomeRecord(versioned.ExternalKey, versioned.Version.Document.Id, versioned.IsNew ? DocumentOutcome.Added : DocumentOutcome.Updated, versioned.Version.Version));
                    if (versioned.IsNew)
                    {
                        Added++;
                    }
                    else
                    {
                        Updated++;
                    }

                    break;
                case FailedDocument failed:
                    var failure = new IngestionFailure(failed.ExternalKey, failed.Failure.Kind, failed.Failure.Reason);
                    run.Fail(failure);
                    run.Record(new DocumentOutcomeRecord(failed.ExternalKey, failed.Failure.Document.Id, DocumentOutcome.Failed, failed.ActiveVersion, failure));
                    if (failed.Persist)
                    {
                        Failures.Add(failed.Failure);
                    }

                    break;
            }
        }

        /// <summary>Outcomes that count only once the batch is committed.</summary>
        public List<DocumentOutcomeRecord> Outcomes { get; } = [];
    }

    /// <summary>Counters of a run, shared by the stages.</summary>
    private sealed class RunState(IngestionRequest request, RunContext context)
    {
        private readonly Lock _gate = new();
        private readonly List<IngestionFailure> _failures = [];
        private readonly List<DocumentOutcomeRecord> _outcomes = [];
        private readonly Dictionary<string, TimeSpan> _times = new(StringComparer.Ordinal);
        private int _added;
        private int _updated;
        private int _unchanged;
        private int _deleted;
        private int _chunks;
        private int _embedded;
        private int _cached;

        public IngestionRequest Request => request;

        public RunContext Context => context;

        public int Total { get; set; }

        public int Done { get; set; }

        public void Count(int added = 0, int updated = 0, int unchanged = 0, int deleted = 0, int chunks = 0)
        {
            lock (_gate)
            {
                _added += added;
                _updated += updated;
                _unchanged += unchanged;
                _deleted += deleted;
                _chunks += chunks;
            }
        }

        public void Fail(IngestionFailure failure)
        {
            lock (_gate)
            {
                _failures.Add(failure);
            }
        }

        public void Record(DocumentOutcomeRecord outcome)
        {
            lock (_gate)
            {
                _outcomes.Add(outcome);
            }
        }

        public void AddEmbedded(int embedded, int cached)
        {
            lock (_gate)
            {
                _embedded += embedded;
                _cached += cached;
            }
        }

        public void AddCommit(CommitTimings timings, TimeSpan otherMetadata)
        {
            AddTime("commit_metadata", timings.Metadata + otherMetadata);
            AddTime("commit_keyword", timings.Keyword);
            AddTime("commit_vectors", timings.Vectors);
        }

        public void AddTime(string stage, TimeSpan elapsed)
        {
            lock (_gate)
            {
                _times[stage] = _times.GetValueOrDefault(stage) + elapsed;
            }
        }

        public IngestionResult ToResult(Guid runId, TimeSpan elapsed)
        {
            lock (_gate)
            {
                return new IngestionResult
                {
                    RunId = runId,
                    Added = _added,
                    Updated = _updated,
                    Unchanged = _unchanged,
                    Deleted = _deleted,
                    Failed = _failures.Count,
                    Chunks = _chunks,
                    Failures = _failures.OrderBy(f => f.ExternalKey, StringComparer.Ordinal).ToList(),
                    Outcomes = _outcomes.ToList(),
                    Elapsed = elapsed,
                    EmbeddedChunks = _embedded,
                    CachedEmbeddings = _cached,
                    KeywordOnlyReason = context.KeywordOnlyReason,
                    StageTimes = new Dictionary<string, TimeSpan>(_times, StringComparer.Ordinal),
                };
            }
        }
    }
}
