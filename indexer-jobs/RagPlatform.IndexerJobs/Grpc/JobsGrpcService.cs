using Grpc.Core;
using RagPlatform.Contracts.V1;

namespace RagPlatform.IndexerJobs.Grpc;

/// <summary><c>rag.v1.JobsService</c>: dead letters, replay, runs, reconciliation; the answers are <see cref="JobsAdmin"/>'s.</summary>
internal sealed class JobsGrpcService(JobsAdmin admin) : JobsService.JobsServiceBase
{
    public override Task<ListFailuresResponse> ListFailures(ListFailuresRequest request, ServerCallContext context)
        => admin.ListFailuresAsync(request, context.CancellationToken);

    public override Task<ReplayResponse> Replay(ReplayRequest request, ServerCallContext context)
        => admin.ReplayAsync(request, context.CancellationToken);

    public override Task<ListRunsResponse> ListRuns(ListRunsRequest request, ServerCallContext context)
        => admin.ListRunsAsync(request, context.CancellationToken);

    public override Task<ReconcileResponse> Reconcile(ReconcileRequest request, ServerCallContext context)
        => admin.ReconcileAsync(request, context.CancellationToken);
}
