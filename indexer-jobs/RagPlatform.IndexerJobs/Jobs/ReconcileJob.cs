using Hangfire;
using RagPlatform.IndexerJobs.Reconciliation;

namespace RagPlatform.IndexerJobs.Jobs;

/// <summary>The scheduled reconciliation. It needs the indexes, so only the process that owns them takes its queue.</summary>
public sealed class ReconcileJob(Reconciler reconciler)
{
    public const string Queue = "indexes";

    [Queue(Queue)]
    [DisableConcurrentExecution("rag-reconcile", 3600)]
    [AutomaticRetry(Attempts = 3, DelaysInSeconds = [60, 600, 3600])]
    public async Task RunAsync(CancellationToken cancellationToken)
        => await reconciler.ReconcileAsync(tenant: null, sourceName: null, checkOnly: false, cancellationToken);
}
