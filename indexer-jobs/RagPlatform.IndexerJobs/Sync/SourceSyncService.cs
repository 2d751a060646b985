using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Core;
using RagPlatform.Core.Documents;
using RagPlatform.Core.Metadata;
using RagPlatform.Core.Security;
using RagPlatform.IndexerJobs.Jobs;
using RagPlatform.IndexerJobs.Sources;
using RagPlatform.Ingestion.Pipeline;

namespace RagPlatform.IndexerJobs.Sync;

/// <summary>
/// One sync of a source: list it cheaply, let the pipeline diff the listing against the metadata
/// store and process only what changed (deletions included), then schedule a retry with
/// exponential backoff when documents failed transiently, up to <see cref="JobsOptions.MaxAttempts"/>.
/// </summary>
public sealed class SourceSyncService(
    IMetadataStore metadata,
    IngestionPipeline pipeline,
    IEnumerable<ISourceLister> listers,
    SourceSyncLocks locks,
    ISyncScheduler scheduler,
    IOptions<JobsOptions> options,
    TimeProvider time,
    ILogger<SourceSyncService> logger)
{
    /// <summary>
    /// Syncs the source, once no other sync of it runs in any process (<see cref="SourceSyncLocks"/>); null when
    /// there is nothing to sync (a push source, or a source removed meanwhile).
    /// </summary>
    public async Task<IngestionResult?> SyncAsync(Guid sourceId, string trigger, string? jobId, bool force, CancellationToken cancellationToken)
    {
        await using var held = await locks.AcquireAsync(sourceId, cancellationToken);
        return await SyncHeldAsync(sourceId, trigger, jobId, force, cancellationToken);
    }

    /// <summary><see cref="SyncAsync"/> for a caller that already holds the source's sync lock.</summary>
    internal async Task<IngestionResult?> SyncHeldAsync(Guid sourceId, string trigger, string? jobId, bool force, CancellationToken cancellationToken)
    {
        var source = await metadata.GetSourceAsync(sourceId, cancellationToken);
        if (source is null)
        {
            logger.LogInformation("Source {SourceId} was removed; nothing to sync", sourceId);
            return null;
        }

        if (source.Kind == SourceKind.Push)
        {
            return null;
        }

        var known = await KnownAsync(source, cancellationToken);
        SourceListing listing;
        try
        {
            listing = await Lister(source).ListAsync(source, known, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The pipeline records runs, but a sync that cannot list its source never reaches it:
            // record the failed run here, so operators see it in the run history and waiting callers get an answer.
            await RecordFailedRunAsync(source, trigger, jobId, ex, cancellationToken);
            throw;
        }

        var result = await pipeline.RunAsync(
            new IngestionRequest
            {
                Source = source,
                Items = listing.Items,
                DefaultAcl = AccessControlList.Parse(source.DefaultAcl),
                DeletionScope = listing.DeletionScope,
                Trigger = trigger,
                JobId = jobId,
                Force = force,
            },
            progress: null,
            cancellationToken);
        ScheduleRetry(source, result, known);
        return result;
    }

    /// <summary>
    /// Processes failed documents of a source again, even though their content did not change (after
    /// a fix of the file, the parser or the ACL file): one document by external key, or all failed ones.
    /// </summary>
    public async Task<IngestionResult> ReplayAsync(Guid sourceId, string? externalKey, CancellationToken cancellationToken)
    {
        var source = await metadata.GetSourceAsync(sourceId, cancellationToken)
            ?? throw new RagNotFoundException($"source {sourceId} does not exist");
        if (source.Kind == SourceKind.Push)
        {
            throw new RagPreconditionException($"source '{source.Name}' is a push source: its documents' content is not kept when they fail, so push them again");
        }

        await using var held = await locks.AcquireAsync(sourceId, cancellationToken);
        var known = await KnownAsync(source, cancellationToken);
        var wanted = externalKey is not null
            ? [externalKey]
            : known.Values.Where(d => d.State == DocumentState.Failed).Select(d => d.ExternalKey).ToHashSet(StringComparer.Ordinal);
        var listing = await Lister(source).ListAsync(source, known, cancellationToken);
        var items = listing.Items.Where(i => wanted.Contains(i.ExternalKey)).ToList();
        if (externalKey is not null && items.Count == 0)
        {
            throw new RagNotFoundException($"'{externalKey}' is no longer listed by source '{source.Name}'; the next sync deletes it");
        }

        return await pipeline.RunAsync(
            new IngestionRequest { Source = source, Items = items, DefaultAcl = AccessControlList.Parse(source.DefaultAcl), Trigger = "replay", Force = true },
            progress: null,
            cancellationToken);
    }

    private async Task RecordFailedRunAsync(SourceInfo source, string trigger, string? jobId, Exception error, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var runId = await metadata.StartRunAsync(source.Tenant, source.Id, trigger, now, jobId, cancellationToken);
        await metadata.FinishRunAsync(runId, new RunSummary { FinishedAt = now, Status = "failed", Error = error.Message }, CancellationToken.None);
        logger.LogWarning("Source {Source} could not be listed; nothing was changed: {Error}", source.Name, error.Message);
    }

    private void ScheduleRetry(SourceInfo source, IngestionResult result, Dictionary<string, DocumentSnapshot> known)
    {
        var transient = result.Failures.Where(f => f.Kind.IsTransient()).ToList();
        if (transient.Count == 0)
        {
            return;
        }

        // The attempt that just failed, per document; the least tried one sets the pace.
        var attempt = transient.Min(f => (known.TryGetValue(f.ExternalKey, out var s) ? s.FailureCount : 0) + 1);
        if (attempt >= options.Value.MaxAttempts)
        {
            logger.LogWarning("Source {Source}: {Count} documents still fail transiently after {Attempts} attempts; they wait for the next scheduled sync or a replay", source.Name, transient.Count, attempt);
            return;
        }

        var delay = options.Value.RetryDelay(attempt);
        scheduler.Schedule(source.Id, "retry", delay);
        logger.LogInformation("Source {Source}: {Count} documents failed transiently; retry {Attempt} in {Delay}", source.Name, transient.Count, attempt + 1, delay);
    }

    private async Task<Dictionary<string, DocumentSnapshot>> KnownAsync(SourceInfo source, CancellationToken cancellationToken)
        => (await metadata.ListDocumentsAsync(source.Id, cancellationToken)).ToDictionary(d => d.ExternalKey, StringComparer.Ordinal);

    private ISourceLister Lister(SourceInfo source)
        => listers.FirstOrDefault(l => l.Kind == source.Kind)
            ?? throw new InvalidOperationException($"No lister for sources of kind {source.Kind}.");
}
