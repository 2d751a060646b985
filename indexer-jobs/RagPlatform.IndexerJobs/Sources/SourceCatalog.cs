using Cronos;
using RagPlatform.Core;
using RagPlatform.Core.Documents;
using RagPlatform.Core.Metadata;
using RagPlatform.Core.Security;
using RagPlatform.IndexerJobs.Sync;
using RagPlatform.Ingestion.Pipeline;

namespace RagPlatform.IndexerJobs.Sources;

/// <summary>What a caller says a source should be (create or update).</summary>
public sealed record SourceSpecification
{
    public required SourceKind Kind { get; init; }

    public FolderSettings? Folder { get; init; }

    public UrlListSettings? Urls { get; init; }

    public string? Schedule { get; init; }

    public AccessControlList Acl { get; init; } = AccessControlList.Empty;

    public TimeSpan? FreshnessObjective { get; init; }

    public int? ChunkTokens { get; init; }

    public int? OverlapTokens { get; init; }

    public bool Enabled { get; init; } = true;
}

/// <summary>
/// Registers, changes and removes sources, validating every setting with a message that names it,
/// and keeps their schedules with the job host.
/// </summary>
public sealed class SourceCatalog(IMetadataStore metadata, IngestionPipeline pipeline, ISyncScheduler scheduler, TimeProvider time)
{
    public async Task<SourceInfo> CreateAsync(string tenant, string name, SourceSpecification spec, CancellationToken cancellationToken)
    {
        ValidateName(tenant, "tenant");
        ValidateName(name, "name");
        var source = await metadata.CreateSourceAsync(Build(new SourceInfo { Id = Guid.Empty, Tenant = tenant, Name = name, Kind = spec.Kind }, spec), cancellationToken);
        scheduler.Register(source);
        return source;
    }

    public async Task<SourceInfo> UpdateAsync(string tenant, string name, SourceSpecification spec, CancellationToken cancellationToken)
    {
        var existing = await GetAsync(tenant, name, cancellationToken);
        if (existing.Kind != spec.Kind)
        {
            throw new RagValidationException("spec.kind", $"source '{name}' is a {Describe(existing.Kind)} source; a kind cannot change: remove it and add a new one");
        }

        var source = await metadata.UpdateSourceAsync(Build(existing, spec), cancellationToken);
        scheduler.Register(source);
        return source;
    }

    public async Task<SourceInfo> GetAsync(string tenant, string name, CancellationToken cancellationToken)
        => await metadata.FindSourceAsync(tenant, name, cancellationToken)
            ?? throw new RagNotFoundException($"source '{name}' does not exist in tenant '{tenant}'");

    public Task<IReadOnlyList<SourceInfo>> ListAsync(string? tenant, CancellationToken cancellationToken)
        => metadata.ListSourcesAsync(string.IsNullOrEmpty(tenant) ? null : tenant, cancellationToken);

    /// <summary>Deletes the source's documents from every store, then the source; returns how many documents went.</summary>
    public async Task<int> DeleteAsync(string tenant, string name, CancellationToken cancellationToken)
    {
        var source = await GetAsync(tenant, name, cancellationToken);
        scheduler.Unregister(source.Id);
        var live = (await metadata.ListDocumentsAsync(source.Id, cancellationToken)).Where(d => d.State != DocumentState.Deleted).ToList();
        var deleted = 0;
        if (live.Count > 0)
        {
            var result = await pipeline.RunAsync(
                new IngestionRequest { Source = source, Items = [], Deletions = live.Select(d => d.ExternalKey).ToList(), Trigger = "remove" },
                progress: null,
                cancellationToken);
            deleted = result.Deleted;
        }

        // Deletions staged by an indexer worker finish when the index owner applies them.
        await pipeline.ApplyJournalAsync(cancellationToken);
        await metadata.DeleteSourceAsync(source.Id, cancellationToken);
        return deleted;
    }

    /// <summary>Waits for the run a queued sync records, polling the metadata store.</summary>
    public async Task<RunInfo?> WaitForRunAsync(string jobId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + timeout;
        while (time.GetUtcNow() < deadline)
        {
            if (await metadata.FindRunAsync(null, jobId, cancellationToken) is { FinishedAt: not null } run)
            {
                return run;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken);
        }

        return await metadata.FindRunAsync(null, jobId, cancellationToken);
    }

    public static string Describe(SourceKind kind) => kind switch
    {
        SourceKind.Folder => "folder",
        SourceKind.Urls => "urls",
        SourceKind.Push => "push",
        _ => "files",
    };

    private static SourceInfo Build(SourceInfo source, SourceSpecification spec)
    {
        var settings = spec.Kind switch
        {
            SourceKind.Folder => SourceSettings.Serialize(SourceSettings.Validate(spec.Folder ?? throw new RagValidationException("spec.folder", "is missing for a folder source"))),
            SourceKind.Urls => ValidatedUrls(spec.Urls ?? throw new RagValidationException("spec.urls", "is missing for a URL list source")),
            SourceKind.Push => "{}",
            _ => throw new RagValidationException("spec.kind", "set a folder, a URL list or push"),
        };
        if (!string.IsNullOrWhiteSpace(spec.Schedule))
        {
            if (spec.Kind == SourceKind.Push)
            {
                throw new RagValidationException("spec.schedule", "a push source has nothing to sync; leave the schedule empty");
            }

            try
            {
                CronExpression.Parse(spec.Schedule);
            }
            catch (CronFormatException ex)
            {
                throw new RagValidationException("spec.schedule", $"'{spec.Schedule}' is not a cron expression ({ex.Message}); write five fields, e.g. '*/15 * * * *' for every 15 minutes");
            }
        }

        if (spec.FreshnessObjective is { } objective && objective <= TimeSpan.Zero)
        {
            throw new RagValidationException("spec.freshness_objective", "must be positive, e.g. 15m or 1h");
        }

        if (spec.ChunkTokens is { } tokens && tokens is < 16 or > 8192)
        {
            throw new RagValidationException("spec.chunk_tokens", $"must be between 16 and 8192, got {tokens}");
        }

        if (spec.OverlapTokens is { } overlap && (overlap < 0 || overlap >= (spec.ChunkTokens ?? 256) / 2))
        {
            throw new RagValidationException("spec.overlap_tokens", $"must be between 0 and half the chunk budget, got {overlap}");
        }

        return source with
        {
            SettingsJson = settings,
            Schedule = string.IsNullOrWhiteSpace(spec.Schedule) ? null : spec.Schedule.Trim(),
            DefaultAcl = spec.Acl.ToString(),
            FreshnessObjective = spec.FreshnessObjective,
            ChunkTokens = spec.ChunkTokens,
            OverlapTokens = spec.OverlapTokens,
            Enabled = spec.Enabled,
        };
    }

    private static string ValidatedUrls(UrlListSettings urls)
    {
        SourceSettings.Validate(urls);
        return SourceSettings.Serialize(urls with { File = Path.GetFullPath(urls.File) });
    }

    private static void ValidateName(string value, string field)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > 128 || value.Any(char.IsControl))
        {
            throw new RagValidationException(field, $"'{value}' is not a valid name: use 1 to 128 printable characters");
        }
    }
}
