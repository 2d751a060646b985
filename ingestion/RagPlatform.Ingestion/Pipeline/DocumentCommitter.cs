using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RagPlatform.Core.Indexing;
using RagPlatform.Core.Metadata;
using RagPlatform.Core.Security;

namespace RagPlatform.Ingestion.Pipeline;

/// <summary>
/// Commits a batch of document changes to the metadata store and both indexes so that the three
/// agree after a crash at any point:
/// <list type="number">
/// <item>stage: the new versions, ACL changes and deletions, with a journal entry each, in one transaction
///   (readers still see the old versions; deletions and narrowed ACLs take effect for readers here);</item>
/// <item>index: both indexes add the new chunks, apply the ACLs and drop deleted documents (each atomically);</item>
/// <item>activate: the new versions become the active ones (one transaction);</item>
/// <item>clean up: both indexes drop the superseded versions' chunks;</item>
/// <item>finish: superseded chunk rows go and the journal entries close.</item>
/// </list>
/// Old chunks leave the indexes only after the new ones are in every store, and readers only ever
/// serve chunks of a document's active version, so nothing is lost or doubled in between.
/// <see cref="ApplyJournalAsync"/> finishes an interrupted commit, or versions staged by indexer workers, from the journal.
/// </summary>
public sealed class DocumentCommitter(IMetadataStore metadata, Lazy<IKeywordIndex> keyword, Lazy<IVectorIndex> vectors, TimeProvider time, ILogger<DocumentCommitter> logger)
{
    /// <summary>
    /// Commits <paramref name="batch"/>; <paramref name="upserts"/> are the index entries of its new versions.
    /// Once started, a commit runs to its end: cancelling between steps would only leave work for recovery.
    /// </summary>
    public async Task<CommitTimings> CommitAsync(WriteBatch batch, IReadOnlyList<IndexedChunk> upserts, CancellationToken cancellationToken)
    {
        var timings = await StageAsync(batch, cancellationToken);
        return timings.Add(await CompleteAsync(batch, upserts));
    }

    /// <summary>
    /// Step 1 alone. The pipeline stages the next batch while the previous one completes, which is
    /// safe because a document is never in two batches in flight and each step follows its journal entry.
    /// </summary>
    public async Task<CommitTimings> StageAsync(WriteBatch batch, CancellationToken cancellationToken)
    {
        var timings = new CommitTimings();
        if (batch.IsEmpty)
        {
            return timings;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var sw = Stopwatch.StartNew();
        await metadata.StageAsync(batch, CancellationToken.None);
        timings.Metadata += sw.Elapsed;
        return timings;
    }

    /// <summary>Steps 2 to 5 of a staged batch. Not cancellable: it only ever moves the stores forward.</summary>
    public async Task<CommitTimings> CompleteAsync(WriteBatch batch, IReadOnlyList<IndexedChunk> upserts)
    {
        var timings = new CommitTimings();
        if (batch.IsEmpty)
        {
            return timings;
        }

        var ct = CancellationToken.None;
        var first = new IndexBatch();
        first.Upserts.AddRange(upserts);
        first.AccessUpdates.AddRange(batch.AccessChanges.Select(a => new AccessUpdate(a.DocumentId, AccessControlList.Parse(a.Acl).ToStrings())));
        first.Deletions.AddRange(batch.Deletions.Select(id => new DocumentDeletion(id)));
        await ApplyAsync(first, timings, ct);

        var sw = Stopwatch.StartNew();
        await metadata.ActivateAsync(batch, time.GetUtcNow(), ct);
        timings.Metadata += sw.Elapsed;

        var second = new IndexBatch();
        second.Deletions.AddRange(batch.Versions.Where(v => v.Version > 1).Select(v => new DocumentDeletion(v.Document.Id, v.Version)));
        await ApplyAsync(second, timings, ct);

        sw.Restart();
        await metadata.FinishAsync(batch, ct);
        timings.Metadata += sw.Elapsed;
        return timings;
    }

    /// <summary>
    /// Applies the journal: every index write that was staged and not finished, whether by an
    /// interrupted run of this process or by an indexer worker that only stages. Everything rolls
    /// forward from what the metadata store holds (a staged version keeps its header, text, chunks
    /// and, in the embedding cache, its embeddings). Per document, the last intent wins: the newest
    /// staged version is applied (older staged ones were superseded before anyone could see them),
    /// unless a deletion came after it. Returns the number of journal entries closed.
    /// </summary>
    public async Task<int> ApplyJournalAsync(CancellationToken cancellationToken)
    {
        var pending = await metadata.ListPendingOperationsAsync(cancellationToken);
        if (pending.Count == 0)
        {
            return 0;
        }

        logger.LogInformation("Applying {Count} staged index writes from the journal", pending.Count);
        var first = new IndexBatch();
        var toApply = new List<(Guid DocumentId, int Version)>();
        var abandon = new List<PendingOperation>();
        var close = new List<PendingOperation>();
        foreach (var ops in pending.GroupBy(o => o.DocumentId).Select(g => g.OrderBy(o => o.Id).ToList()))
        {
            var documentId = ops[0].DocumentId;
            var staged = ops.Where(o => o is { Kind: OperationKind.Upsert, Step: 0 }).ToList();
            var latest = staged.MaxBy(o => o.Version);
            var lastDelete = ops.LastOrDefault(o => o.Kind == OperationKind.Delete);
            if (lastDelete is not null && (latest is null || lastDelete.Id > latest.Id))
            {
                first.Deletions.Add(new DocumentDeletion(documentId));
                abandon.AddRange(staged);
                close.AddRange(ops.Except(staged));
                continue;
            }

            if (latest is not null)
            {
                toApply.Add((documentId, latest.Version));
                abandon.AddRange(staged.Where(o => o != latest));
            }
            else if (ops.LastOrDefault(o => o is { Kind: OperationKind.Upsert, Step: 1 }) is { } activated)
            {
                first.Deletions.Add(new DocumentDeletion(documentId, activated.Version));
            }

            if (ops.LastOrDefault(o => o.Kind == OperationKind.Access) is { } access)
            {
                first.AccessUpdates.Add(new AccessUpdate(documentId, AccessControlList.Parse(access.Acl).ToStrings()));
            }

            close.AddRange(ops.Where(o => !(o.Kind == OperationKind.Upsert && o.Step == 0)));
        }

        var versions = await metadata.GetStagedVersionsAsync(toApply, cancellationToken);
        var batch = new WriteBatch();
        batch.Versions.AddRange(versions);
        first.Upserts.AddRange(await IndexEntriesAsync(versions, cancellationToken));
        await ApplyAsync(first, new CommitTimings(), CancellationToken.None);
        if (batch.Versions.Count > 0)
        {
            await metadata.ActivateAsync(batch, time.GetUtcNow(), CancellationToken.None);
            var second = new IndexBatch();
            second.Deletions.AddRange(batch.Versions.Select(v => new DocumentDeletion(v.Document.Id, v.Version)));
            await ApplyAsync(second, new CommitTimings(), CancellationToken.None);
            await metadata.FinishAsync(batch, CancellationToken.None);
        }

        foreach (var op in abandon)
        {
            await metadata.AbandonStagedVersionAsync(op, CancellationToken.None);
        }

        foreach (var op in close)
        {
            await metadata.CompleteOperationAsync(op, CancellationToken.None);
        }

        return pending.Count;
    }

    /// <summary>
    /// Rewrites the index entries of the active versions of <paramref name="documentIds"/> from the
    /// metadata store, dropping whatever else the indexes hold of them (reconciliation's repair).
    /// A chunk whose embedding left the cache is written to the keyword index only. Returns the
    /// documents whose vectors could not be rebuilt.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> RebuildAsync(IReadOnlyCollection<ActiveDocumentVersion> documents, CancellationToken cancellationToken)
    {
        if (documents.Count == 0)
        {
            return [];
        }

        var versions = await metadata.GetStagedVersionsAsync(documents.Select(d => (d.DocumentId, d.Version)).ToList(), cancellationToken);
        var entries = await IndexEntriesAsync(versions, cancellationToken, requireEmbeddings: false);
        var batch = new IndexBatch();
        batch.Deletions.AddRange(documents.Select(d => new DocumentDeletion(d.DocumentId, d.Version)));
        batch.Upserts.AddRange(entries);
        await ApplyAsync(batch, new CommitTimings(), CancellationToken.None);
        return versions
            .Where(v => v.EmbeddingModel is not null && entries.Any(e => e.DocumentId == v.Document.Id && e.Embedding is null))
            .Select(v => v.Document.Id)
            .ToList();
    }

    /// <summary>The index entries of staged versions, with their embeddings from the cache.</summary>
    private async Task<List<IndexedChunk>> IndexEntriesAsync(IReadOnlyList<NewVersion> versions, CancellationToken cancellationToken, bool requireEmbeddings = true)
    {
        var embeddings = new Dictionary<string, IReadOnlyDictionary<string, float[]>>(StringComparer.Ordinal);
        foreach (var group in versions.Where(v => v.EmbeddingModel is not null).GroupBy(v => v.EmbeddingModel!, StringComparer.Ordinal))
        {
            var hashes = group.SelectMany(v => v.Chunks.Select(c => c.ContentHash)).Distinct(StringComparer.Ordinal).ToList();
            embeddings[group.Key] = await metadata.GetCachedEmbeddingsAsync(group.Key, hashes, cancellationToken);
        }

        var entries = new List<IndexedChunk>();
        foreach (var version in versions)
        {
            var header = version.Document;
            var acl = AccessControlList.Parse(header.Acl).ToStrings();
            var metadataValues = JsonSerializer.Deserialize<Dictionary<string, string>>(header.MetadataJson) ?? [];
            var vectors = version.EmbeddingModel is { } model ? embeddings[model] : null;
            foreach (var chunk in version.Chunks)
            {
                float[]? vector = null;
                if (vectors is not null && !vectors.TryGetValue(chunk.ContentHash, out vector) && requireEmbeddings)
                {
                    throw new InvalidOperationException($"The embedding of chunk {chunk.ChunkId} ({version.EmbeddingModel}) is missing from the cache; the staged version cannot be applied.");
                }

                entries.Add(new IndexedChunk
                {
                    ChunkId = chunk.ChunkId,
                    DocumentId = header.Id,
                    Version = version.Version,
                    Tenant = header.Tenant,
                    SourceId = header.SourceId,
                    Acl = acl,
                    Title = header.Title,
                    Text = chunk.Text,
                    Metadata = metadataValues,
                    ChangedAt = header.ChangedAt,
                    Embedding = vector,
                });
            }
        }

        return entries;
    }

    private async Task ApplyAsync(IndexBatch batch, CommitTimings timings, CancellationToken cancellationToken)
    {
        if (batch.IsEmpty)
        {
            return;
        }

        // The two indexes are independent; each applies the batch atomically. A keyword-only batch
        // (upserts without embeddings) would only cost the vector index a log write and an fsync.
        var vectorWork = batch.Deletions.Count > 0 || batch.AccessUpdates.Count > 0 || batch.Upserts.Exists(u => u.Embedding is not null);
        await Task.WhenAll(
            Timed(() => keyword.Value.ApplyAsync(batch, cancellationToken), t => timings.Keyword += t),
            vectorWork ? Timed(() => vectors.Value.ApplyAsync(batch, cancellationToken), t => timings.Vectors += t) : Task.CompletedTask);
    }

    private static async Task Timed(Func<Task> work, Action<TimeSpan> record)
    {
        var sw = Stopwatch.StartNew();
        await work();
        record(sw.Elapsed);
    }
}

/// <summary>Where the time of a commit went.</summary>
public sealed class CommitTimings
{
    public TimeSpan Metadata { get; set; }

    public TimeSpan Keyword { get; set; }

    public TimeSpan Vectors { get; set; }

    public CommitTimings Add(CommitTimings other)
    {
        Metadata += other.Metadata;
        Keyword += other.Keyword;
        Vectors += other.Vectors;
        return this;
    }
}
