using System.Diagnostics;
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
/// <see cref="RecoverAsync"/> repairs an interrupted commit from the journal.
/// </summary>
public sealed class DocumentCommitter(IMetadataStore metadata, IKeywordIndex keyword, IVectorIndex vectors, TimeProvider time, ILogger<DocumentCommitter> logger)
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
    /// Finishes or undoes what an interrupted commit left in the journal: staged versions that never
    /// became active are rolled back (the next run sees their documents as changed again); activated
    /// versions, deletions and ACL changes are rolled forward. Returns the number of entries repaired.
    /// </summary>
    public async Task<int> RecoverAsync(CancellationToken cancellationToken)
    {
        var pending = await metadata.ListPendingOperationsAsync(cancellationToken);
        if (pending.Count == 0)
        {
            return 0;
        }

        logger.LogWarning("Repairing {Count} index writes left unfinished by an interrupted run", pending.Count);
        var batch = new IndexBatch();
        foreach (var op in pending)
        {
            switch (op.Kind)
            {
                case OperationKind.Upsert when op.Step == 0:
                    // Whatever of the staged version reached an index goes; the active one stays.
                    batch.Deletions.Add(new DocumentDeletion(op.DocumentId, op.ActiveVersion > 0 ? op.ActiveVersion : null));
                    break;
                case OperationKind.Upsert:
                    batch.Deletions.Add(new DocumentDeletion(op.DocumentId, op.Version));
                    break;
                case OperationKind.Delete:
                    batch.Deletions.Add(new DocumentDeletion(op.DocumentId));
                    break;
                case OperationKind.Access:
                    batch.AccessUpdates.Add(new AccessUpdate(op.DocumentId, AccessControlList.Parse(op.Acl).ToStrings()));
                    break;
            }
        }

        await ApplyAsync(batch, new CommitTimings(), cancellationToken);
        foreach (var op in pending)
        {
            if (op is { Kind: OperationKind.Upsert, Step: 0 })
            {
                await metadata.AbandonStagedVersionAsync(op, cancellationToken);
            }
            else
            {
                await metadata.CompleteOperationAsync(op, cancellationToken);
            }
        }

        return pending.Count;
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
            Timed(() => keyword.ApplyAsync(batch, cancellationToken), t => timings.Keyword += t),
            vectorWork ? Timed(() => vectors.ApplyAsync(batch, cancellationToken), t => timings.Vectors += t) : Task.CompletedTask);
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
