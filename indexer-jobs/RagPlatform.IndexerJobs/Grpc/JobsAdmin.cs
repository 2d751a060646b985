using RagPlatform.Contracts.V1;
using RagPlatform.Core;
using RagPlatform.Core.Metadata;
using RagPlatform.IndexerJobs.Reconciliation;
using RagPlatform.IndexerJobs.Sources;
using RagPlatform.IndexerJobs.Sync;
using static RagPlatform.IndexerJobs.Grpc.AdminMapping;

namespace RagPlatform.IndexerJobs.Grpc;

/// <summary>
/// What <c>rag.v1.JobsService</c> answers, request to response: served over gRPC by the job host and called
/// in-process by <c>rag jobs</c> and <c>rag reconcile</c> on a data directory, so that both give the same answers.
/// </summary>
public sealed class JobsAdmin(IMetadataStore metadata, SourceCatalog catalog, SourceSyncService sync, Reconciler reconciler)
{
    public async Task<ListFailuresResponse> ListFailuresAsync(ListFailuresRequest request, CancellationToken cancellationToken)
    {
        var tenant = RequireTenant(request.Tenant);
        var sources = (await catalog.ListAsync(tenant, cancellationToken)).ToDictionary(s => s.Id);
        Guid? sourceId = string.IsNullOrEmpty(request.Source) ? null : (await catalog.GetAsync(tenant, request.Source, cancellationToken)).Id;
        var response = new ListFailuresResponse();
        response.Documents.AddRange((await metadata.ListFailedDocumentsAsync(tenant, sourceId, cancellationToken))
            .Select(d => ToWire(d, sources.TryGetValue(d.SourceId, out var s) ? s.Name : string.Empty)));
        return response;
    }

    public async Task<ReplayResponse> ReplayAsync(ReplayRequest request, CancellationToken cancellationToken)
    {
        var tenant = RequireTenant(request.Tenant);
        switch (request.TargetCase)
        {
            case ReplayRequest.TargetOneofCase.DocumentId:
                if (!Guid.TryParse(request.DocumentId, out var id))
                {
                    throw new RagValidationException("document_id", $"'{request.DocumentId}' is not a document id (a UUID)");
                }

                var details = await metadata.GetDocumentAsync(tenant, id, cancellationToken)
                    ?? throw new RagNotFoundException($"document {id} does not exist in tenant '{tenant}'");
                var owner = await metadata.GetSourceAsync(details.SourceId, cancellationToken)
                    ?? throw new RagNotFoundException($"the source of document {id} does not exist");
                var replayed = await sync.ReplayAsync(owner.Id, details.Document.ExternalKey, cancellationToken);
                return new ReplayResponse { Run = await RecordedRunAsync(metadata, replayed, owner, cancellationToken) };
            case ReplayRequest.TargetOneofCase.Source:
                var source = await catalog.GetAsync(tenant, request.Source, cancellationToken);
                var result = await sync.ReplayAsync(source.Id, null, cancellationToken);
                return new ReplayResponse { Run = await RecordedRunAsync(metadata, result, source, cancellationToken) };
            default:
                throw new RagValidationException("target", "is missing; set document_id or source");
        }
    }

    public async Task<ListRunsResponse> ListRunsAsync(ListRunsRequest request, CancellationToken cancellationToken)
    {
        var tenant = RequireTenant(request.Tenant);
        var sources = (await catalog.ListAsync(tenant, cancellationToken)).ToDictionary(s => s.Id);
        Guid? sourceId = string.IsNullOrEmpty(request.Source) ? null : (await catalog.GetAsync(tenant, request.Source, cancellationToken)).Id;
        var limit = request.Limit is > 0 and <= 1000 ? request.Limit : 50;

        // The store lists runs by source, not by tenant: the newest of each of the tenant's sources,
        // merged, so that other tenants' runs can never crowd this tenant's out of the page.
        var runs = new List<RunInfo>();
        foreach (var id in sourceId is { } one ? [one] : sources.Keys.ToList())
        {
            runs.AddRange(await metadata.ListRunsAsync(id, limit, cancellationToken));
        }

        var response = new ListRunsResponse();
        response.Runs.AddRange(runs
            .Where(r => r.Tenant == tenant)
            .OrderByDescending(r => r.StartedAt)
            .ThenByDescending(r => r.Id)
            .Take(limit)
            .Select(r => ToWire(r, r.SourceId is { } s && sources.TryGetValue(s, out var src) ? src.Name : null)));
        return response;
    }

    public async Task<ReconcileResponse> ReconcileAsync(ReconcileRequest request, CancellationToken cancellationToken)
    {
        var report = await reconciler.ReconcileAsync(request.Tenant, request.Source, request.CheckOnly, cancellationToken);
        var response = new ReconcileResponse { UnknownOrphans = report.UnknownOrphans };
        response.Sources.AddRange(report.Sources.Select(ToWire));
        return response;
    }
}
