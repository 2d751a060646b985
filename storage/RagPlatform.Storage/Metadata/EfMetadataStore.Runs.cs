using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using RagPlatform.Core.Documents;
using RagPlatform.Core.Metadata;
using RagPlatform.Storage.Metadata.Entities;

namespace RagPlatform.Storage.Metadata;

internal sealed partial class EfMetadataStore
{
    public async Task<Guid> StartRunAsync(string tenant, Guid? sourceId, string trigger, DateTimeOffset startedAt, string? jobId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var run = new RunEntity { Id = Guid.CreateVersion7(), TenantId = tenant, SourceId = sourceId, Trigger = trigger, JobId = jobId, StartedAt = startedAt, Status = "running" };
        db.Runs.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        return run.Id;
    }

    public async Task FinishRunAsync(Guid runId, RunSummary summary, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var run = await db.Runs.FirstOrDefaultAsync(r => r.Id == runId, cancellationToken)
            ?? throw new InvalidOperationException($"Run {runId} does not exist.");
        run.FinishedAt = summary.FinishedAt;
        run.Status = summary.Status;
        run.Added = summary.Added;
        run.Updated = summary.Updated;
        run.Unchanged = summary.Unchanged;
        run.Deleted = summary.Deleted;
        run.Failed = summary.Failed;
        run.Chunks = summary.Chunks;
        run.Error = summary.Error;
        run.FailuresJson = SerializeFailures(summary.Failures);
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<RunInfo>> ListRunsAsync(Guid? sourceId, int limit, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var query = db.Runs.AsNoTracking();
        if (sourceId is { } id)
        {
            query = query.Where(r => r.SourceId == id);
        }

        var runs = await query.OrderByDescending(r => r.StartedAt).Take(limit).ToListAsync(cancellationToken);
        return runs.ConvertAll(ToRunInfo);
    }

    public async Task<RunInfo?> FindRunAsync(Guid? runId, string? jobId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var run = await db.Runs.AsNoTracking()
            .Where(r => (runId != null && r.Id == runId) || (jobId != null && r.JobId == jobId))
            .OrderByDescending(r => r.StartedAt)
            .FirstOrDefaultAsync(cancellationToken);
        return run is null ? null : ToRunInfo(run);
    }

    private static RunInfo ToRunInfo(RunEntity r)
        => new(
            r.Id,
            r.TenantId,
            r.SourceId,
            r.Trigger,
            r.StartedAt,
            r.FinishedAt,
            r.Status,
            r.FinishedAt is null ? null : new RunSummary
            {
                Added = r.Added,
                Updated = r.Updated,
                Unchanged = r.Unchanged,
                Deleted = r.Deleted,
                Failed = r.Failed,
                Chunks = r.Chunks,
                FinishedAt = r.FinishedAt.Value,
                Status = r.Status,
                Error = r.Error,
                Failures = DeserializeFailures(r.FailuresJson),
            })
        {
            JobId = r.JobId,
        };

    private static List<RunFailure> DeserializeFailures(string json)
    {
        var items = JsonSerializer.Deserialize<List<JsonElement>>(json) ?? [];
        return items.ConvertAll(e => new RunFailure(
            e.GetProperty("Key").GetString() ?? string.Empty,
            ParseKind(e.GetProperty("Kind").GetString()),
            e.GetProperty("Reason").GetString() ?? string.Empty));
    }

    private static FailureKind ParseKind(string? wire)
        => Enum.GetValues<FailureKind>().FirstOrDefault(k => k.ToWireName() == wire, FailureKind.Internal);
}
