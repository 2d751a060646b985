using Google.Protobuf.WellKnownTypes;
using RagPlatform.Core;
using RagPlatform.Core.Documents;
using RagPlatform.Core.Metadata;
using RagPlatform.Core.Security;
using RagPlatform.IndexerJobs.Freshness;
using RagPlatform.IndexerJobs.Reconciliation;
using RagPlatform.IndexerJobs.Sources;
using RagPlatform.Ingestion.Pipeline;
using V1 = RagPlatform.Contracts.V1;

namespace RagPlatform.IndexerJobs.Grpc;

/// <summary>Translation between the admin wire messages and the job host's types, for the services and the CLI.</summary>
public static class AdminMapping
{
    public static SourceSpecification ToSpecification(V1.SourceSpec? spec)
    {
        if (spec is null)
        {
            throw new RagValidationException("spec", "is missing; say what the source is (folder, urls or push)");
        }

        var kind = spec.KindCase switch
        {
            V1.SourceSpec.KindOneofCase.Folder => SourceKind.Folder,
            V1.SourceSpec.KindOneofCase.Urls => SourceKind.Urls,
            V1.SourceSpec.KindOneofCase.Push => SourceKind.Push,
            _ => throw new RagValidationException("spec.kind", "is missing; set folder, urls or push"),
        };
        return new SourceSpecification
        {
            Kind = kind,
            Folder = kind == SourceKind.Folder ? new FolderSettings { Path = spec.Folder.Path, Include = [.. spec.Folder.Include], Exclude = [.. spec.Folder.Exclude] } : null,
            Urls = kind == SourceKind.Urls ? new UrlListSettings { File = spec.Urls.File } : null,
            Schedule = spec.Schedule,
            Acl = AccessControlList.FromStrings(spec.Acl, "spec.acl"),
            FreshnessObjective = spec.FreshnessObjective?.ToTimeSpan(),
            ChunkTokens = spec.HasChunkTokens ? spec.ChunkTokens : null,
            OverlapTokens = spec.HasOverlapTokens ? spec.OverlapTokens : null,
            Enabled = !spec.Disabled,
        };
    }

    public static V1.Source ToWire(SourceInfo source)
    {
        var spec = new V1.SourceSpec
        {
            Schedule = source.Schedule ?? string.Empty,
            Disabled = !source.Enabled,
            FreshnessObjective = source.FreshnessObjective is { } objective ? Duration.FromTimeSpan(objective) : null,
        };
        spec.Acl.AddRange(AccessControlList.Parse(source.DefaultAcl).ToStrings());
        if (source.ChunkTokens is { } tokens)
        {
            spec.ChunkTokens = tokens;
        }

        if (source.OverlapTokens is { } overlap)
        {
            spec.OverlapTokens = overlap;
        }

        switch (source.Kind)
        {
            case SourceKind.Folder:
                var folder = SourceSettings.Folder(source);
                spec.Folder = new V1.FolderSource { Path = folder.Path };
                spec.Folder.Include.AddRange(folder.Include);
                spec.Folder.Exclude.AddRange(folder.Exclude);
                break;
            case SourceKind.Urls:
                spec.Urls = new V1.UrlListSource { File = SourceSettings.Urls(source).File };
                break;
            default:
                spec.Push = new V1.PushSource();
                break;
        }

        return new V1.Source
        {
            Id = source.Id.ToString(),
            Tenant = source.Tenant,
            Name = source.Name,
            Kind = SourceCatalog.Describe(source.Kind),
            Spec = spec,
            CreatedAt = Timestamp.FromDateTimeOffset(source.CreatedAt),
            UpdatedAt = Timestamp.FromDateTimeOffset(source.UpdatedAt),
        };
    }

    public static V1.Run ToWire(RunInfo run, string? sourceName)
    {
        var wire = new V1.Run
        {
            Id = run.Id.ToString(),
            Tenant = run.Tenant,
            SourceId = run.SourceId?.ToString() ?? string.Empty,
            Source = sourceName ?? string.Empty,
            Trigger = run.Trigger,
            JobId = run.JobId ?? string.Empty,
            Status = run.Status,
            StartedAt = Timestamp.FromDateTimeOffset(run.StartedAt),
            FinishedAt = run.FinishedAt is { } finished ? Timestamp.FromDateTimeOffset(finished) : null,
        };
        if (run.Summary is { } s)
        {
            wire.Added = s.Added;
            wire.Updated = s.Updated;
            wire.Unchanged = s.Unchanged;
            wire.Deleted = s.Deleted;
            wire.Failed = s.Failed;
            wire.Chunks = s.Chunks;
            wire.Error = s.Error ?? string.Empty;
            wire.Failures.AddRange(s.Failures.Select(f => new V1.RunFailure { ExternalKey = f.ExternalKey, Kind = f.Kind.ToWireName(), Reason = f.Reason }));
        }

        return wire;
    }

    /// <summary>The run record a pipeline run wrote.</summary>
    public static async Task<V1.Run> RecordedRunAsync(IMetadataStore metadata, IngestionResult result, SourceInfo source, CancellationToken cancellationToken)
        => await metadata.FindRunAsync(result.RunId, null, cancellationToken) is { } run
            ? ToWire(run, source.Name)
            : throw new InvalidOperationException($"Run {result.RunId} was not recorded.");

    public static V1.FailedDocument ToWire(DocumentSnapshot doc, string sourceName) => new()
    {
        DocumentId = doc.Id.ToString(),
        Tenant = doc.Tenant,
        Source = sourceName,
        ExternalKey = doc.ExternalKey,
        FailureKind = doc.FailureKind.ToWireName(),
        Transient = doc.FailureKind.IsTransient(),
        Reason = doc.FailureReason ?? string.Empty,
        Attempts = doc.FailureCount,
        FailedAt = doc.FailedAt is { } failed ? Timestamp.FromDateTimeOffset(failed) : null,
        ActiveVersion = doc.ActiveVersion,
    };

    public static V1.SourceDrift ToWire(SourceDrift drift) => new()
    {
        Tenant = drift.Tenant,
        Source = drift.Source,
        Documents = drift.Documents,
        KeywordMissing = drift.KeywordMissing,
        KeywordOrphans = drift.KeywordOrphans,
        VectorIncomplete = drift.VectorIncomplete,
        VectorOrphans = drift.VectorOrphans,
        PendingOperations = drift.PendingOperations,
        SourceNew = drift.SourceNew,
        SourceMissing = drift.SourceMissing,
        SourceChanged = drift.SourceChanged,
        Repaired = drift.Repaired,
    };

    public static V1.SourceFreshness ToWire(SourceFreshness f)
    {
        var wire = new V1.SourceFreshness
        {
            Name = f.Source.Name,
            Tenant = f.Source.Tenant,
            LastSuccess = f.LastSuccess is { } last ? Timestamp.FromDateTimeOffset(last) : null,
            Pending = f.Pending,
            Failed = f.Failed,
            LagP50S = f.LagP50.TotalSeconds,
            LagP95S = f.LagP95.TotalSeconds,
            LagMaxS = f.LagMax.TotalSeconds,
            ObjectiveS = f.Source.FreshnessObjective?.TotalSeconds ?? 0,
            Breached = f.Breached,
            BreachReason = f.BreachReason ?? string.Empty,
        };
        wire.Stalest.AddRange(f.Stalest.Select(d => new V1.DocumentFreshness
        {
            DocumentId = d.DocumentId.ToString(),
            ExternalKey = d.ExternalKey,
            ChangedAt = Timestamp.FromDateTimeOffset(d.ChangedAt),
            IndexedAt = d.IndexedAt is { } indexed ? Timestamp.FromDateTimeOffset(indexed) : null,
            LagS = d.Lag.TotalSeconds,
            Pending = d.Pending,
        }));
        return wire;
    }

    public static string RequireTenant(string tenant)
        => string.IsNullOrWhiteSpace(tenant) ? throw new RagValidationException("tenant", "is empty; name the tenant") : tenant;

    public static string RequireName(string name)
        => string.IsNullOrWhiteSpace(name) ? throw new RagValidationException("name", "is empty; name the source") : name;
}
