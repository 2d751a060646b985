using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using RagPlatform.Core.Documents;
using RagPlatform.Core.Metadata;
using RagPlatform.Storage.Metadata.Entities;

namespace RagPlatform.Storage.Metadata;

internal sealed partial class EfMetadataStore
{
    public async Task<IReadOnlyList<LiveChunk>> GetLiveChunksAsync(string tenant, IReadOnlyCollection<string> chunkIds, CancellationToken cancellationToken)
    {
        if (chunkIds.Count == 0)
        {
            return [];
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var result = new List<LiveChunk>(chunkIds.Count);
        foreach (var slice in chunkIds.Chunk(Slice))
        {
            var rows = await (
                from c in db.Chunks.AsNoTracking()
                where slice.Contains(c.Id)
                join d in db.Documents.AsNoTracking() on c.DocumentId equals d.Id
                where d.TenantId == tenant && d.ActiveVersion == c.Version && d.State != DocumentState.Deleted
                select new { c, d.TenantId, d.SourceId, d.ExternalKey, d.Title, d.Uri, d.Acl, d.MetadataJson, d.ChangedAt })
                .ToListAsync(cancellationToken);
            result.AddRange(rows.Select(r => ToLive(r.c, r.TenantId, r.SourceId, r.ExternalKey, r.Title, r.Uri, r.Acl, r.MetadataJson, r.ChangedAt)));
        }

        return result;
    }

    public async Task<IReadOnlyList<LiveChunk>> GetActiveChunksAsync(IReadOnlyCollection<Guid> documentIds, CancellationToken cancellationToken)
    {
        if (documentIds.Count == 0)
        {
            return [];
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var result = new List<LiveChunk>();
        foreach (var slice in documentIds.Chunk(Slice))
        {
            var rows = await (
                from d in db.Documents.AsNoTracking()
                where slice.Contains(d.Id) && d.State != DocumentState.Deleted
                join c in db.Chunks.AsNoTracking() on d.Id equals c.DocumentId
                where c.Version == d.ActiveVersion
                select new { c, d.TenantId, d.SourceId, d.ExternalKey, d.Title, d.Uri, d.Acl, d.MetadataJson, d.ChangedAt })
                .ToListAsync(cancellationToken);
            result.AddRange(rows.Select(r => ToLive(r.c, r.TenantId, r.SourceId, r.ExternalKey, r.Title, r.Uri, r.Acl, r.MetadataJson, r.ChangedAt)));
        }

        return result.OrderBy(c => c.DocumentId).ThenBy(c => c.Ordinal).ToList();
    }

    public async Task<DocumentDetails?> GetDocumentAsync(string tenant, Guid documentId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var doc = await db.Documents.AsNoTracking().FirstOrDefaultAsync(d => d.Id == documentId && d.TenantId == tenant, cancellationToken);
        if (doc is null)
        {
            return null;
        }

        var versions = await db.DocumentVersions.AsNoTracking()
            .Where(v => v.DocumentId == documentId)
            .OrderBy(v => v.Version)
            .Select(v => new { v.Version, v.ContentHash, v.Format, v.ChunkCount, v.PageCount, v.CreatedAt, v.State })
            .ToListAsync(cancellationToken);
        return new DocumentDetails
        {
            Document = ToSnapshot(doc),
            Tenant = doc.TenantId,
            SourceId = doc.SourceId,
            FailureReason = doc.FailureReason,
            IndexedAt = doc.IndexedAt,
            Versions = versions.ConvertAll(v => new DocumentVersionInfo(v.Version, v.ContentHash, v.Format, v.ChunkCount, v.PageCount, v.CreatedAt, v.State.ToString().ToLowerInvariant())),
        };
    }

    public async Task<string?> GetVersionTextAsync(string tenant, Guid documentId, int version, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await (
            from v in db.DocumentVersions.AsNoTracking()
            join d in db.Documents.AsNoTracking() on v.DocumentId equals d.Id
            where v.DocumentId == documentId && v.Version == version && d.TenantId == tenant
            select v.Text).FirstOrDefaultAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ActiveDocumentVersion>> ListActiveVersionsAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.Documents.AsNoTracking()
            .Where(d => d.State != DocumentState.Deleted && d.ActiveVersion > 0)
            .Select(d => new
            {
                d.Id,
                d.SourceId,
                d.ActiveVersion,
                Chunks = db.Chunks.Count(c => c.DocumentId == d.Id && c.Version == d.ActiveVersion),
                Model = db.DocumentVersions.Where(v => v.DocumentId == d.Id && v.Version == d.ActiveVersion).Select(v => v.EmbeddingModel).FirstOrDefault(),
            })
            .ToListAsync(cancellationToken);
        return rows.ConvertAll(r => new ActiveDocumentVersion(r.Id, r.SourceId, r.ActiveVersion, r.Chunks, r.Model));
    }

    private static LiveChunk ToLive(ChunkEntity c, string tenant, Guid sourceId, string key, string title, string? uri, string acl, string metadata, DateTimeOffset? changedAt) => new()
    {
        ChunkId = c.Id,
        DocumentId = c.DocumentId,
        Version = c.Version,
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
        Tenant = tenant,
        SourceId = sourceId,
        ExternalKey = key,
        Title = title,
        Uri = uri,
        Acl = acl,
        MetadataJson = metadata,
        ChangedAt = changedAt,
    };
}
