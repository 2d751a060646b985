using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Ingestion.Pipeline;

namespace RagPlatform.IndexerJobs.Jobs;

/// <summary>
/// In the process that owns the indexes: applies to them what indexer workers staged in the
/// metadata store (and what an interrupted run left), every <see cref="JobsOptions.ApplyInterval"/>.
/// </summary>
internal sealed class JournalApplierService(IngestionPipeline pipeline, IOptions<JobsOptions> options, ILogger<JournalApplierService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ApplyInterval);
        do
        {
            try
            {
                var applied = await pipeline.ApplyJournalAsync(stoppingToken);
                if (applied > 0)
                {
                    logger.LogInformation("Applied {Count} staged index writes", applied);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The journal keeps everything: the next tick tries again.
                logger.LogError(ex, "Applying staged index writes failed; retrying in {Interval}", options.Value.ApplyInterval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
