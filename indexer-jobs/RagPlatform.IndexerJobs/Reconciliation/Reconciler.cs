using Microsoft.Extensions.Logging;
using RagPlatform.Core.Documents;
using RagPlatform.Core.Indexing;
using RagPlatform.Core.Metadata;
using RagPlatform.IndexerJobs.Sources;
using RagPlatform.IndexerJobs.Sync;
using RagPlatform.Ingestion.Pipeline;

namespace RagPlatform.IndexerJobs.Reconciliation;

/// <summary>Drift found (and repaired) for one source.</summary>
public sealed record SourceDrift
{
    public required string Tenant { get; init; }

    public required string Source { get; init; }

    public int Documents { get; init; }

    public int KeywordMissing { get; init; }

    public int KeywordOrphans { get; init; }

    public int VectorIncomplete { get; init; }

    public int VectorOrphans { get; init; }

    public int PendingOperations { get; init; }

    public int SourceNew { get; init; }

    public int SourceMissing { get; init; }

    public int SourceChanged { get; init; }

    public int Repaired { get; init; }

    /// <summary>Why the source could not be listed (its source drift is then unknown and reported as 0); null when it was.</summary>
    public string? SourceError { get; init; }

    public int Drift => KeywordMissing + KeywordOrphans + VectorIncomplete + VectorOrphans + PendingOperations + SourceNew + SourceMissing + SourceChanged;
}

public sealed record ReconcileReport(IReadOnlyList<SourceDrift> Sources, int UnknownOrphans);

/// <summary>
/// Proves that the indexes hold exactly the searchable versions, and the metadata store what the
/// sources hold, and repairs what differs. Stores: every active version must be in the keyword
/// index with all its chunks, and in the vector index when it was embedded; nothing else may be
/// there (superseded versions, deleted documents, unknown documents). Sources: the listing is
/// compared with the metadata (new, missing, changed). Repairs: unfinished journal entries are
/// applied, missing or incomplete entries rebuilt from the metadata store, orphans removed, and a
/// source that drifted is synced.
/// </summary>
public sealed class Reconciler(
    IMetadataStore metadata,
    Lazy<IKeywordIndex> keyword,
    Lazy<IVectorIndex> vectors,
    IngestionPipeline pipeline,
    DocumentCommitter committer,
    IEnumerable<ISourceLister> listers,
    SourceSyncService sync,
    ILogger<Reconciler> logger)
{
    public async Task<ReconcileReport> ReconcileAsync(string? tenant, string? sourceName, bool checkOnly, CancellationToken cancellationToken)
    {
        var sources = (await metadata.ListSourcesAsync(string.IsNullOrEmpty(tenant) ? null : tenant, cancellationToken))
            .Where(s => string.IsNullOrEmpty(sourceName) || s.Name == sourceName)
            .ToList();
        var pending = await metadata.ListPendingOperationsAsync(cancellationToken);
        if (!checkOnly && pending.Count > 0)
        {
            await pipeline.ApplyJournalAsync(cancellationToken);
        }

        // The indexes are opened only here: a process that does not own them never reconciles them.
        var drift = await new StoreConsistencyChecker(metadata, keyword.Value, vectors.Value).AnalyzeAsync(cancellationToken);
        var active = drift.Active;
        var (keywordOrphans, vectorOrphans) = (drift.KeywordOrphans, drift.VectorOrphans);

        // Orphans of documents the metadata knows are reported under their source; others as unknown.
        var sourceOfDocument = new Dictionary<Guid, Guid>();
        foreach (var source in sources)
        {
            foreach (var doc in await metadata.ListDocumentsAsync(source.Id, cancellationToken))
            {
                sourceOfDocument[doc.Id] = source.Id;
            }
        }

        var reports = new List<SourceDrift>();
        foreach (var source in sources)
        {
            var docs = active.Values.Where(a => a.SourceId == source.Id).ToList();
            var keywordMissing = drift.KeywordMissing.Where(a => a.SourceId == source.Id).ToList();
            var vectorIncomplete = drift.VectorIncomplete.Where(a => a.SourceId == source.Id).ToList();
            var orphansHere = keywordOrphans.Concat(vectorOrphans).Where(o => sourceOfDocument.GetValueOrDefault(o.DocumentId) == source.Id).ToList();
            var (fresh, missing, changed) = (0, 0, 0);
            string? sourceError = null;
            if (source.Kind != SourceKind.Push)
            {
                try
                {
                    (fresh, missing, changed) = await SourceDriftAsync(source, cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // One unreachable folder or URL list must not stop the reconciliation of the stores and of the other sources.
                    sourceError = ex.Message;
                    logger.LogWarning("Reconciliation of {Tenant}/{Source}: the source could not be listed, its documents are left as they are: {Error}", source.Tenant, source.Name, ex.Message);
                }
            }
            var repaired = 0;
            if (!checkOnly)
            {
                var rebuild = keywordMissing.Concat(vectorIncomplete).DistinctBy(a => a.DocumentId).ToList();
                var orphanDocs = orphansHere.Select(o => o.DocumentId).Distinct().ToList();
                rebuild.AddRange(orphanDocs.Where(active.ContainsKey).Select(id => active[id]).Where(a => rebuild.All(r => r.DocumentId != a.DocumentId)));
                var unrepairable = await committer.RebuildAsync(rebuild, cancellationToken);
                await RemoveAsync(orphanDocs.Where(id => !active.ContainsKey(id)), cancellationToken);
                repaired += rebuild.Count - unrepairable.Count + orphanDocs.Count(id => !active.ContainsKey(id));
                if (fresh + missing + changed > 0)
                {
                    var result = await sync.SyncAsync(source.Id, "reconcile", jobId: null, force: false, cancellationToken);
                    repaired += result is null ? 0 : result.Added + result.Updated + result.Deleted;
                }
            }

            reports.Add(new SourceDrift
            {
                Tenant = source.Tenant,
                Source = source.Name,
                Documents = docs.Count,
                KeywordMissing = keywordMissing.Count,
                KeywordOrphans = keywordOrphans.Count(o => sourceOfDocument.GetValueOrDefault(o.DocumentId) == source.Id),
                VectorIncomplete = vectorIncomplete.Count,
                VectorOrphans = vectorOrphans.Count(o => sourceOfDocument.GetValueOrDefault(o.DocumentId) == source.Id),
                PendingOperations = pending.Count(p => sourceOfDocument.GetValueOrDefault(p.DocumentId) == source.Id),
                SourceNew = fresh,
                SourceMissing = missing,
                SourceChanged = changed,
                Repaired = repaired,
                SourceError = sourceError,
            });
        }

        // Entries of documents that no source (in scope) knows: only when reconciling everything.
        var unknown = keywordOrphans.Concat(vectorOrphans).Select(o => o.DocumentId).Where(id => !sourceOfDocument.ContainsKey(id) && !active.ContainsKey(id)).Distinct().ToList();
        if (string.IsNullOrEmpty(tenant) && string.IsNullOrEmpty(sourceName))
        {
            if (!checkOnly)
            {
                await RemoveAsync(unknown, cancellationToken);
            }
        }
        else
        {
            unknown.Clear();
        }

        foreach (var report in reports.Where(r => r.Drift > 0))
        {
            logger.LogWarning(
                "Reconciliation of {Tenant}/{Source}: {Drift} drift ({KeywordMissing} missing and {KeywordOrphans} orphaned keyword entries, {VectorIncomplete} incomplete and {VectorOrphans} orphaned vector entries, {Pending} unfinished writes, {New} new, {Missing} missing and {Changed} changed at the source); {Repaired} repaired",
                report.Tenant, report.Source, report.Drift, report.KeywordMissing, report.KeywordOrphans, report.VectorIncomplete, report.VectorOrphans, report.PendingOperations, report.SourceNew, report.SourceMissing, report.SourceChanged, report.Repaired);
        }

        return new ReconcileReport(reports, unknown.Count);
    }

    private async Task<(int New, int Missing, int Changed)> SourceDriftAsync(SourceInfo source, CancellationToken cancellationToken)
    {
        var known = (await metadata.ListDocumentsAsync(source.Id, cancellationToken)).ToDictionary(d => d.ExternalKey, StringComparer.Ordinal);
        var listing = await listers.First(l => l.Kind == source.Kind).ListAsync(source, known, cancellationToken);
        var listed = listing.Items.Where(i => i.ListingFailure is null).ToDictionary(i => i.ExternalKey, StringComparer.Ordinal);
        var live = known.Values.Where(d => d.State is DocumentState.Indexed or DocumentState.Pending).ToList();
        var fresh = listed.Keys.Count(k => !known.TryGetValue(k, out var d) || d.State == DocumentState.Deleted);
        // A document the listing names but could not read (a URL answering 500) is not missing: the sync keeps it.
        var named = listing.Items.Select(i => i.ExternalKey).ToHashSet(StringComparer.Ordinal);
        var missing = live.Count(d => !named.Contains(d.ExternalKey) && listing.DeletionScope?.Invoke(d.ExternalKey) == true);
        var changed = live.Count(d => listed.TryGetValue(d.ExternalKey, out var item) && item.SourceStamp != d.SourceStamp);
        return (fresh, missing, changed);
    }

    private async Task RemoveAsync(IEnumerable<Guid> documentIds, CancellationToken cancellationToken)
    {
        var batch = new IndexBatch();
        batch.Deletions.AddRange(documentIds.Select(id => new DocumentDeletion(id)));
        if (!batch.IsEmpty)
        {
            await Task.WhenAll(keyword.Value.ApplyAsync(batch, cancellationToken), vectors.Value.ApplyAsync(batch, cancellationToken));
        }
    }
}
