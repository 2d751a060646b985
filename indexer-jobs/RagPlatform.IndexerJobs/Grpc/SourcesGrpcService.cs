using Grpc.Core;
using RagPlatform.Contracts.V1;
using RagPlatform.Core;
using RagPlatform.Core.Metadata;
using RagPlatform.IndexerJobs.Sources;
using RagPlatform.IndexerJobs.Sync;
using static RagPlatform.IndexerJobs.Grpc.AdminMapping;

namespace RagPlatform.IndexerJobs.Grpc;

/// <summary><c>rag.v1.SourcesService</c>.</summary>
internal sealed class SourcesGrpcService(SourceCatalog catalog, ISyncScheduler scheduler) : SourcesService.SourcesServiceBase
{
    /// <summary>How long TriggerSync with wait may take before it answers with the run so far.</summary>
    private static readonly TimeSpan MaxWait = TimeSpan.FromHours(1);

    public override async Task<Source> CreateSource(CreateSourceRequest request, ServerCallContext context)
        => ToWire(await catalog.CreateAsync(RequireTenant(request.Tenant), RequireName(request.Name), ToSpecification(request.Spec), context.CancellationToken));

    public override async Task<Source> UpdateSource(UpdateSourceRequest request, ServerCallContext context)
        => ToWire(await catalog.UpdateAsync(RequireTenant(request.Tenant), RequireName(request.Name), ToSpecification(request.Spec), context.CancellationToken));

    public override async Task<Source> GetSource(GetSourceRequest request, ServerCallContext context)
        => ToWire(await catalog.GetAsync(RequireTenant(request.Tenant), RequireName(request.Name), context.CancellationToken));

    public override async Task<ListSourcesResponse> ListSources(ListSourcesRequest request, ServerCallContext context)
    {
        var response = new ListSourcesResponse();
        response.Sources.AddRange((await catalog.ListAsync(request.Tenant, context.CancellationToken)).Select(ToWire));
        return response;
    }

    public override async Task<DeleteSourceResponse> DeleteSource(DeleteSourceRequest request, ServerCallContext context)
        => new() { DocumentsDeleted = await catalog.DeleteAsync(RequireTenant(request.Tenant), RequireName(request.Name), context.CancellationToken) };

    public override async Task<TriggerSyncResponse> TriggerSync(TriggerSyncRequest request, ServerCallContext context)
    {
        var source = await catalog.GetAsync(RequireTenant(request.Tenant), RequireName(request.Name), context.CancellationToken);
        if (source.Kind == SourceKind.Push)
        {
            // A sync of a push source records no run: a caller waiting for one would wait for the full hour.
            throw new RagPreconditionException($"source '{source.Name}' is a push source: there is nothing to sync; its documents arrive through IngestionService");
        }

        var jobId = scheduler.Enqueue(source.Id, "manual", request.Force);
        var response = new TriggerSyncResponse { JobId = jobId };
        if (request.Wait)
        {
            var wait = context.Deadline == DateTime.MaxValue ? MaxWait : context.Deadline - DateTime.UtcNow;
            if (await catalog.WaitForRunAsync(jobId, wait, context.CancellationToken) is { } run)
            {
                response.Run = ToWire(run, source.Name);
            }
        }

        return response;
    }
}
