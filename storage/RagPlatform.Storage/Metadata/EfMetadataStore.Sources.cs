using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using RagPlatform.Core;
using RagPlatform.Core.Documents;
using RagPlatform.Core.Metadata;
using RagPlatform.Storage.Metadata.Entities;

namespace RagPlatform.Storage.Metadata;

internal sealed partial class EfMetadataStore
{
    public async Task<IReadOnlyList<SourceInfo>> ListSourcesAsync(string? tenant, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var query = db.Sources.AsNoTracking();
        if (tenant is not null)
        {
            query = query.Where(s => s.TenantId == tenant);
        }

        var rows = await query.OrderBy(s => s.TenantId).ThenBy(s => s.Name).ToListAsync(cancellationToken);
        return rows.ConvertAll(ToInfo);
    }

    public async Task<SourceInfo> CreateSourceAsync(SourceInfo source, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        if (await db.Sources.AnyAsync(s => s.TenantId == source.Tenant && s.Name == source.Name, cancellationToken))
        {
            throw new RagConflictException($"source '{source.Name}' exists already in tenant '{source.Tenant}'; update it or choose another name");
        }

        var now = time.GetUtcNow();
        if (!await db.Tenants.AnyAsync(t => t.Id == source.Tenant, cancellationToken))
        {
            db.Tenants.Add(new TenantEntity { Id = source.Tenant, CreatedAt = now });
        }

        var entity = new SourceEntity { Id = source.Id == Guid.Empty ? Guid.CreateVersion7() : source.Id, TenantId = source.Tenant, Name = source.Name, Kind = source.Kind, CreatedAt = now };
        Apply(entity, source, now);
        db.Sources.Add(entity);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex)
        {
            throw new RagConflictException($"source '{source.Name}' exists already in tenant '{source.Tenant}'; update it or choose another name", ex);
        }

        return ToInfo(entity);
    }

    public async Task<SourceInfo> UpdateSourceAsync(SourceInfo source, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var entity = await db.Sources.FirstOrDefaultAsync(s => s.Id == source.Id, cancellationToken)
            ?? throw new RagNotFoundException($"source {source.Id} does not exist");
        Apply(entity, source, time.GetUtcNow());
        await db.SaveChangesAsync(cancellationToken);
        return ToInfo(entity);
    }

    public async Task DeleteSourceAsync(Guid sourceId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await db.Documents.AnyAsync(d => d.SourceId == sourceId && d.State != DocumentState.Deleted, cancellationToken))
        {
            throw new InvalidOperationException($"Source {sourceId} still has documents that are not deleted; delete them from every store first.");
        }

        var ids = await db.Documents.Where(d => d.SourceId == sourceId).Select(d => d.Id).ToListAsync(cancellationToken);
        foreach (var slice in ids.Chunk(Slice))
        {
            await db.IndexOperations.Where(o => slice.Contains(o.DocumentId)).ExecuteDeleteAsync(cancellationToken);
        }

        await db.Documents.Where(d => d.SourceId == sourceId).ExecuteDeleteAsync(cancellationToken);
        await db.Runs.Where(r => r.SourceId == sourceId).ExecuteDeleteAsync(cancellationToken);
        await db.Sources.Where(s => s.Id == sourceId).ExecuteDeleteAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<NewVersion>> GetStagedVersionsAsync(IReadOnlyCollection<(Guid DocumentId, int Version)> versions, CancellationToken cancellationToken)
    {
        if (versions.Count == 0)
        {
            return [];
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var result = new List<NewVersion>(versions.Count);
        foreach (var (documentId, version) in versions)
        {
            var row = await db.DocumentVersions.AsNoTracking().FirstOrDefaultAsync(v => v.DocumentId == documentId && v.Version == version, cancellationToken);
            if (row is null)
            {
                continue;
            }

            var chunks = await db.Chunks.AsNoTracking()
                .Where(c => c.DocumentId == documentId && c.Version == version)
                .OrderBy(c => c.Ordinal)
                .ToListAsync(cancellationToken);
            result.Add(new NewVersion
            {
                Document = JsonSerializer.Deserialize<DocumentHeader>(row.HeaderJson)
                    ?? throw new InvalidOperationException($"Version {version} of document {documentId} has no staged header."),
                Version = row.Version,
                ContentHash = row.ContentHash,
                PipelineFingerprint = row.PipelineFingerprint,
                Format = row.Format,
                Text = row.Text ?? string.Empty,
                PageCount = row.PageCount,
                EmbeddingModel = row.EmbeddingModel,
                Chunks = chunks.ConvertAll(c => new ChunkRecord
                {
                    ChunkId = c.Id,
                    Ordinal = c.Ordinal,
                    Text = c.Text,
                    Start = c.Start,
                    End = c.End,
                    ByteStart = c.ByteStart,
                    ByteEnd = c.ByteEnd,
                    PageStart = c.PageStart,
                    PageEnd = c.PageEnd,
                    HeadingPath = SplitHeadings(c.HeadingPath),
                    TokenCount = c.TokenCount,
                    ContentHash = c.ContentHash,
                }),
            });
        }

        return result;
    }

    public async Task<IReadOnlyList<DocumentSnapshot>> ListFailedDocumentsAsync(string? tenant, Guid? sourceId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var query = db.Documents.AsNoTracking().Where(d => d.State == DocumentState.Failed);
        if (tenant is not null)
        {
            query = query.Where(d => d.TenantId == tenant);
        }

        if (sourceId is { } id)
        {
            query = query.Where(d => d.SourceId == id);
        }

        var rows = await query.OrderBy(d => d.SourceId).ThenBy(d => d.ExternalKey).ToListAsync(cancellationToken);
        return rows.ConvertAll(ToSnapshot);
    }

    private static void Apply(SourceEntity entity, SourceInfo source, DateTimeOffset now)
    {
        entity.SettingsJson = source.SettingsJson;
        entity.Schedule = source.Schedule;
        entity.DefaultAcl = source.DefaultAcl;
        entity.ChunkTokens = source.ChunkTokens;
        entity.OverlapTokens = source.OverlapTokens;
        entity.FreshnessObjectiveSeconds = source.FreshnessObjective is { } objective ? (long)objective.TotalSeconds : null;
        entity.Enabled = source.Enabled;
        entity.UpdatedAt = now;
    }
}
