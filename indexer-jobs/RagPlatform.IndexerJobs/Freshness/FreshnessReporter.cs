using RagPlatform.Core.Metadata;

namespace RagPlatform.IndexerJobs.Freshness;

/// <summary>Freshness of every source (of a tenant, or one source), from the metadata store.</summary>
public sealed class FreshnessReporter(IMetadataStore metadata, TimeProvider time)
{
    public async Task<IReadOnlyList<SourceFreshness>> ReportAsync(string? tenant, string? sourceName, TimeSpan window, int stalest, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var result = new List<SourceFreshness>();
        foreach (var source in await metadata.ListSourcesAsync(string.IsNullOrEmpty(tenant) ? null : tenant, cancellationToken))
        {
            if (!string.IsNullOrEmpty(sourceName) && source.Name != sourceName)
            {
                continue;
            }

            var documents = await metadata.ListDocumentsAsync(source.Id, cancellationToken);
            var runs = await metadata.ListRunsAsync(source.Id, 200, cancellationToken);
            var lastSuccess = runs.Where(r => r.Status == "succeeded").Select(r => r.FinishedAt).Max();
            result.Add(FreshnessCalculator.Compute(source, documents, lastSuccess, now, window, stalest));
        }

        return result;
    }
}
