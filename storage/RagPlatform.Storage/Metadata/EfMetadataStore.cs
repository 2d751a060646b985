using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Core.Documents;
using RagPlatform.Core.Metadata;
using RagPlatform.Storage.Metadata.Entities;

namespace RagPlatform.Storage.Metadata;

/// <summary>The metadata store over EF Core; the same code serves SQLite and PostgreSQL.</summary>
internal sealed partial class EfMetadataStore(IDbContextFactory<MetadataDbContext> contexts, TimeProvider time, ILogger<EfMetadataStore>? logger = null) : IMetadataStore
{
    internal const char HeadingSeparator = '\u001F';

    // SQLite caps bound parameters per statement; lists are sent in slices of this size.
    private const int Slice = 500;

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);

        // PostgreSQL's migration lock is a session advisory lock, which ends with its connection;
        // SQLite's is a row that a killed process leaves behind, hence the guard.
        using var guard = db is SqliteMetadataDbContext
            ? await SqliteMigrationGuard.AcquireAsync(db, logger ?? (ILogger)NullLogger.Instance, cancellationToken)
            : null;
        await db.Database.MigrateAsync(cancellationToken);
    }

    public async Task<SourceInfo> EnsureSourceAsync(string tenant, string name, SourceKind kind, CancellationToken cancellationToken)
    {
        if (await FindSourceAsync(tenant, name, cancellationToken) is { } existing)
        {
            return existing;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        if (!await db.Tenants.AnyAsync(t => t.Id == tenant, cancellationToken))
        {
            db.Tenants.Add(new TenantEntity { Id = tenant, CreatedAt = now });
        }

        var entity = new SourceEntity
        {
            Id = Guid.CreateVersion7(),
            TenantId = tenant,
            Name = name,
            Kind = kind,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Sources.Add(entity);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return ToInfo(entity);
        }
        catch (DbUpdateException)
        {
            // Another writer created the tenant or the source first; theirs wins.
            return await FindSourceAsync(tenant, name, cancellationToken)
                ?? throw new InvalidOperationException($"Could not create source '{name}' in tenant '{tenant}'.");
        }
    }

    public async Task<SourceInfo?> FindSourceAsync(string tenant, string name, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var entity = await db.Sources.AsNoTracking().FirstOrDefaultAsync(s => s.TenantId == tenant && s.Name == name, cancellationToken);
        return entity is null ? null : ToInfo(entity);
    }

    public async Task<SourceInfo?> GetSourceAsync(Guid sourceId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var entity = await db.Sources.AsNoTracking().FirstOrDefaultAsync(s => s.Id == sourceId, cancellationToken);
        return entity is null ? null : ToInfo(entity);
    }

    public async Task<IReadOnlyList<DocumentSnapshot>> ListDocumentsAsync(Guid sourceId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.Documents.AsNoTracking().Where(d => d.SourceId == sourceId).ToListAsync(cancellationToken);
        var staged = await (
            from v in db.DocumentVersions.AsNoTracking()
            where v.State == VersionState.Staged
            join d in db.Documents.AsNoTracking() on v.DocumentId equals d.Id
            where d.SourceId == sourceId
            select new { v.DocumentId, v.Version, v.ContentHash, v.PipelineFingerprint, v.HeaderJson })
            .ToListAsync(cancellationToken);
        var pending = staged.GroupBy(v => v.DocumentId).ToDictionary(g => g.Key, g => g.MaxBy(v => v.Version)!);
        return rows.ConvertAll(d =>
        {
            if (!pending.TryGetValue(d.Id, out var p))
            {
                return ToSnapshot(d);
            }

            var header = JsonSerializer.Deserialize<DocumentHeader>(p.HeaderJson);
            return ToSnapshot(d) with
            {
                PendingVersion = p.Version,
                PendingContentHash = p.ContentHash,
                PendingFingerprint = p.PipelineFingerprint,
                PendingAcl = header?.Acl,
                PendingChangedAt = header?.ChangedAt,
            };
        });
    }

    public async Task<DocumentSnapshot?> FindDocumentAsync(Guid sourceId, string externalKey, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var hash = KeyHash(externalKey);
        var row = await db.Documents.AsNoTracking().FirstOrDefaultAsync(d => d.SourceId == sourceId && d.ExternalKeyHash == hash, cancellationToken);
        return row is null ? null : ToSnapshot(row);
    }

    public async Task UpdateSourceStampsAsync(IReadOnlyList<(Guid DocumentId, string SourceStamp)> stamps, CancellationToken cancellationToken)
    {
        if (stamps.Count == 0)
        {
            return;
        }

        // One read per slice and one batched save, not an UPDATE per document (a `touch` of a whole tree moves every stamp).
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var docs = await LoadDocumentsAsync(db, stamps.Select(s => s.DocumentId).ToList(), cancellationToken);
        foreach (var (id, stamp) in stamps)
        {
            if (docs.TryGetValue(id, out var doc))
            {
                doc.SourceStamp = stamp;
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task ClearFailuresAsync(IReadOnlyList<Guid> documentIds, CancellationToken cancellationToken)
    {
        if (documentIds.Count == 0)
        {
            return;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        foreach (var doc in (await LoadDocumentsAsync(db, documentIds, cancellationToken)).Values)
        {
            if (doc.State == DocumentState.Failed && doc.ActiveVersion > 0)
            {
                MarkIndexed(doc, now);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Searchable again, any failure recorded since forgotten.</summary>
    private static void MarkIndexed(DocumentEntity doc, DateTimeOffset now)
    {
        doc.State = DocumentState.Indexed;
        doc.FailureKind = FailureKind.None;
        doc.FailureReason = null;
        doc.FailedContentHash = null;
        doc.FailureCount = 0;
        doc.FailedAt = null;
        doc.UpdatedAt = now;
    }

    public async Task RecordFailuresAsync(IReadOnlyList<DocumentFailureRecord> failures, CancellationToken cancellationToken)
    {
        if (failures.Count == 0)
        {
            return;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var ids = failures.Select(f => f.Document.Id).ToList();
        var existing = await LoadDocumentsAsync(db, ids, cancellationToken);
        var now = time.GetUtcNow();
        foreach (var failure in failures)
        {
            if (!existing.TryGetValue(failure.Document.Id, out var doc))
            {
                doc = NewDocument(failure.Document, now);
                db.Documents.Add(doc);
                existing[doc.Id] = doc;
            }

            // The previously indexed version (if any) stays active and searchable: a failed update never loses it.
            doc.State = DocumentState.Failed;
            doc.FailureKind = failure.Kind;
            doc.FailureReason = Truncate(failure.Reason, 4000);
            doc.FailedContentHash = failure.ContentHash;
            doc.FailureCount++;
            doc.FailedAt = now;
            doc.DeletedAt = null;
            doc.UpdatedAt = now;
            if (failure.Document.SourceStamp is not null)
            {
                doc.SourceStamp = failure.Document.SourceStamp;
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task StageAsync(WriteBatch batch, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);

        // Thousands of new rows and few changed ones: one DetectChanges at SaveChanges instead of one per Add.
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var now = time.GetUtcNow();
        var ids = batch.Versions.Select(v => v.Document.Id)
            .Concat(batch.AccessChanges.Select(a => a.DocumentId))
            .Concat(batch.Deletions)
            .ToList();
        var docs = await LoadDocumentsAsync(db, ids, cancellationToken);

        foreach (var version in batch.Versions)
        {
            if (!docs.TryGetValue(version.Document.Id, out var doc))
            {
                doc = NewDocument(version.Document, now);
                db.Documents.Add(doc);
                docs[doc.Id] = doc;
            }

            if (version.Version <= doc.LatestVersion)
            {
                // Version numbers are never reused, so a citation of (document, version) always means one text.
                throw new InvalidOperationException($"Version {version.Version} of document {doc.Id} is not above its latest version {doc.LatestVersion}.");
            }

            doc.LatestVersion = Math.Max(doc.LatestVersion, version.Version);
            if (doc.State == DocumentState.Deleted)
            {
                // A document that comes back after a deletion keeps its id and its version numbering.
                doc.State = DocumentState.Pending;
                doc.DeletedAt = null;
            }

            doc.UpdatedAt = now;
            db.DocumentVersions.Add(new DocumentVersionEntity
            {
                DocumentId = doc.Id,
                Version = version.Version,
                ContentHash = version.ContentHash,
                PipelineFingerprint = version.PipelineFingerprint,
                Format = version.Format,
                Text = version.Text,
                PageCount = version.PageCount,
                ChunkCount = version.Chunks.Count,
                HeaderJson = JsonSerializer.Serialize(version.Document),
                EmbeddingModel = version.EmbeddingModel,
                State = VersionState.Staged,
                CreatedAt = now,
            });
            foreach (var chunk in version.Chunks)
            {
                db.Chunks.Add(new ChunkEntity
                {
                    Id = chunk.ChunkId,
                    DocumentId = doc.Id,
                    Version = version.Version,
                    Ordinal = chunk.Ordinal,
                    Text = chunk.Text,
                    Start = chunk.Start,
                    End = chunk.End,
                    ByteStart = chunk.ByteStart,
                    ByteEnd = chunk.ByteEnd,
                    PageStart = chunk.PageStart,
                    PageEnd = chunk.PageEnd,
                    HeadingPath = string.Join(HeadingSeparator, chunk.HeadingPath),
                    TokenCount = chunk.TokenCount,
                    ContentHash = chunk.ContentHash,
                });
            }

            db.IndexOperations.Add(new IndexOperationEntity { DocumentId = doc.Id, Kind = OperationKind.Upsert, Version = version.Version, Step = 0, CreatedAt = now });
        }

        foreach (var change in batch.AccessChanges)
        {
            var doc = docs.GetValueOrDefault(change.DocumentId)
                ?? throw new InvalidOperationException($"ACL change for unknown document {change.DocumentId}.");

            // Effective for readers at once: the read path checks the stored ACL of every hit.
            doc.Acl = change.Acl;
            doc.SourceStamp = change.SourceStamp ?? doc.SourceStamp;
            doc.ChangedAt = change.ChangedAt ?? doc.ChangedAt;
            doc.UpdatedAt = now;
            if (doc.State == DocumentState.Failed && doc.ActiveVersion > 0)
            {
                // Same content as the active version with a readable ACL: whatever failed (the ACL file) is fixed.
                MarkIndexed(doc, now);
            }

            db.IndexOperations.Add(new IndexOperationEntity { DocumentId = doc.Id, Kind = OperationKind.Access, Version = doc.ActiveVersion, Step = 0, CreatedAt = now });
        }

        foreach (var id in batch.Deletions)
        {
            var doc = docs.GetValueOrDefault(id) ?? throw new InvalidOperationException($"Deletion of unknown document {id}.");

            // Deleted for readers at once; the journal entry makes sure the indexes follow.
            doc.State = DocumentState.Deleted;
            doc.DeletedAt = now;
            doc.UpdatedAt = now;
            db.IndexOperations.Add(new IndexOperationEntity { DocumentId = doc.Id, Kind = OperationKind.Delete, Version = doc.ActiveVersion, Step = 0, CreatedAt = now });
        }

        await AddEmbeddingsAsync(db, batch.Embeddings, now, cancellationToken);
        db.ChangeTracker.DetectChanges();
        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    public async Task ActivateAsync(WriteBatch batch, DateTimeOffset indexedAt, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var ids = batch.Versions.Select(v => v.Document.Id).ToList();
        var docs = await LoadDocumentsAsync(db, ids, cancellationToken);
        foreach (var version in batch.Versions)
        {
            var doc = docs[version.Document.Id];
            var header = version.Document;
            doc.ActiveVersion = version.Version;
            doc.Title = header.Title;
            doc.Uri = header.Uri;
            doc.Acl = header.Acl;
            doc.MetadataJson = header.MetadataJson;
            doc.ChangedAt = header.ChangedAt;
            doc.SourceStamp = header.SourceStamp;
            doc.ContentType = header.ContentType;
            doc.SizeBytes = header.SizeBytes;
            doc.ContentHash = version.ContentHash;
            doc.PipelineFingerprint = version.PipelineFingerprint;

            doc.IndexedAt = indexedAt;

            // A deletion staged after this version (an indexer worker's next sync, while the owner was applying
            // this one) is the newer intent: the document stays deleted for readers and the journal removes it.
            var deleted = doc.State == DocumentState.Deleted;
            MarkIndexed(doc, indexedAt);
            if (deleted)
            {
                doc.State = DocumentState.Deleted;
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        foreach (var slice in ids.Chunk(Slice))
        {
            await db.DocumentVersions
                .Where(v => slice.Contains(v.DocumentId))
                .ExecuteUpdateAsync(s => s.SetProperty(
                    v => v.State,
                    v => db.Documents.Any(d => d.Id == v.DocumentId && d.ActiveVersion == v.Version) ? VersionState.Active
                        : v.State == VersionState.Staged ? VersionState.Staged : VersionState.Superseded), cancellationToken);
            // Only the entry of the version just activated: another worker may have staged a newer one meanwhile.
            await db.IndexOperations
                .Where(o => slice.Contains(o.DocumentId) && o.Kind == OperationKind.Upsert && db.Documents.Any(d => d.Id == o.DocumentId && d.ActiveVersion == o.Version))
                .ExecuteUpdateAsync(s => s.SetProperty(o => o.Step, 1), cancellationToken);
        }

        var access = batch.AccessChanges.Select(a => a.DocumentId).ToList();
        foreach (var slice in access.Chunk(Slice))
        {
            await db.IndexOperations.Where(o => slice.Contains(o.DocumentId) && o.Kind == OperationKind.Access).ExecuteDeleteAsync(cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
    }

    public async Task FinishAsync(WriteBatch batch, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var upserted = batch.Versions.Select(v => v.Document.Id).ToList();
        foreach (var slice in upserted.Chunk(Slice))
        {
            await DropInactiveChunksAsync(db, slice, cancellationToken);
            await db.IndexOperations
                .Where(o => slice.Contains(o.DocumentId) && o.Kind == OperationKind.Upsert && db.Documents.Any(d => d.Id == o.DocumentId && d.ActiveVersion == o.Version))
                .ExecuteDeleteAsync(cancellationToken);
        }

        foreach (var slice in batch.Deletions.Chunk(Slice))
        {
            await PurgeAsync(db, slice, cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<PendingOperation>> ListPendingOperationsAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var ops = await (
            from o in db.IndexOperations.AsNoTracking()
            join d in db.Documents.AsNoTracking() on o.DocumentId equals d.Id into docs
            from d in docs.DefaultIfEmpty()
            orderby o.Id
            select new { o, ActiveVersion = d == null ? 0 : d.ActiveVersion, Acl = d == null ? string.Empty : d.Acl })
            .ToListAsync(cancellationToken);
        return ops.ConvertAll(r => new PendingOperation(r.o.Id, r.o.DocumentId, r.o.Kind, r.o.Version, r.o.Step, r.ActiveVersion, r.Acl));
    }

    public async Task AbandonStagedVersionAsync(PendingOperation operation, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var docId = operation.DocumentId;
        var version = operation.Version;
        await db.Chunks.Where(c => c.DocumentId == docId && c.Version == version).ExecuteDeleteAsync(cancellationToken);
        await db.DocumentVersions.Where(v => v.DocumentId == docId && v.Version == version && v.State == VersionState.Staged).ExecuteDeleteAsync(cancellationToken);
        var doc = await db.Documents.FirstOrDefaultAsync(d => d.Id == docId, cancellationToken);
        if (doc is not null && doc.ActiveVersion == 0 && !await db.DocumentVersions.AnyAsync(v => v.DocumentId == docId, cancellationToken))
        {
            // Never searchable: forget it entirely, the next run sees it as new.
            db.Documents.Remove(doc);
            await db.SaveChangesAsync(cancellationToken);
        }

        await db.IndexOperations.Where(o => o.Id == operation.Id).ExecuteDeleteAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    public async Task CompleteOperationAsync(PendingOperation operation, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        Guid[] ids = [operation.DocumentId];
        switch (operation.Kind)
        {
            case OperationKind.Upsert when operation.Step == 0:
                throw new InvalidOperationException($"Operation {operation.Id} staged version {operation.Version} of {operation.DocumentId} but never activated it: abandon it instead.");
            case OperationKind.Upsert:
                await DropInactiveChunksAsync(db, ids, cancellationToken);
                break;
            case OperationKind.Delete:
                await PurgeAsync(db, ids, cancellationToken);
                break;
        }

        await db.IndexOperations.Where(o => o.Id == operation.Id).ExecuteDeleteAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, float[]>> GetCachedEmbeddingsAsync(string modelId, IReadOnlyCollection<string> contentHashes, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (contentHashes.Count == 0)
        {
            return result;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        foreach (var slice in contentHashes.Distinct(StringComparer.Ordinal).Chunk(Slice))
        {
            var rows = await db.EmbeddingCache.AsNoTracking()
                .Where(e => e.ModelId == modelId && slice.Contains(e.ContentHash))
                .Select(e => new { e.ContentHash, e.Vector })
                .ToListAsync(cancellationToken);
            foreach (var row in rows)
            {
                result[row.ContentHash] = MemoryMarshal.Cast<byte, float>(row.Vector).ToArray();
            }
        }

        return result;
    }

    private static async Task AddEmbeddingsAsync(MetadataDbContext db, List<CachedEmbedding> embeddings, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (embeddings.Count == 0)
        {
            return;
        }

        foreach (var group in embeddings.GroupBy(e => e.ModelId, StringComparer.Ordinal))
        {
            var modelId = group.Key;
            var wanted = group.DistinctBy(e => e.ContentHash, StringComparer.Ordinal).ToList();
            var present = new HashSet<string>(StringComparer.Ordinal);
            foreach (var slice in wanted.Select(e => e.ContentHash).Chunk(Slice))
            {
                present.UnionWith(await db.EmbeddingCache.AsNoTracking()
                    .Where(e => e.ModelId == modelId && slice.Contains(e.ContentHash))
                    .Select(e => e.ContentHash)
                    .ToListAsync(cancellationToken));
            }

            foreach (var e in wanted.Where(e => !present.Contains(e.ContentHash)))
            {
                db.EmbeddingCache.Add(new EmbeddingCacheEntity
                {
                    ModelId = modelId,
                    ContentHash = e.ContentHash,
                    Vector = MemoryMarshal.AsBytes(e.Vector.AsSpan()).ToArray(),
                    CreatedAt = now,
                });
            }
        }
    }

    /// <summary>Chunks of versions older than the active one; a newer version staged meanwhile keeps its chunks.</summary>
    private static Task<int> DropInactiveChunksAsync(MetadataDbContext db, IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
        => db.Chunks
            .Where(c => ids.Contains(c.DocumentId) && db.Documents.Any(d => d.Id == c.DocumentId && c.Version < d.ActiveVersion))
            .ExecuteDeleteAsync(cancellationToken);

    /// <summary>A deleted document keeps a tombstone row (for freshness and version numbering); its content goes.</summary>
    private static async Task PurgeAsync(MetadataDbContext db, IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        // Only documents still deleted: one that came back since has new content that must stay.
        var deleted = await db.Documents.Where(d => ids.Contains(d.Id) && d.State == DocumentState.Deleted).Select(d => d.Id).ToListAsync(cancellationToken);
        await db.Chunks.Where(c => deleted.Contains(c.DocumentId)).ExecuteDeleteAsync(cancellationToken);
        await db.DocumentVersions.Where(v => deleted.Contains(v.DocumentId)).ExecuteDeleteAsync(cancellationToken);
        await db.Documents.Where(d => ids.Contains(d.Id) && d.State == DocumentState.Deleted)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.ActiveVersion, 0).SetProperty(d => d.ContentHash, (string?)null), cancellationToken);
        await db.IndexOperations.Where(o => ids.Contains(o.DocumentId) && o.Kind == OperationKind.Delete).ExecuteDeleteAsync(cancellationToken);
    }

    private static async Task<Dictionary<Guid, DocumentEntity>> LoadDocumentsAsync(MetadataDbContext db, IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        var result = new Dictionary<Guid, DocumentEntity>();
        foreach (var slice in ids.Distinct().Chunk(Slice))
        {
            foreach (var doc in await db.Documents.Where(d => slice.Contains(d.Id)).ToListAsync(cancellationToken))
            {
                result[doc.Id] = doc;
            }
        }

        return result;
    }

    private static DocumentEntity NewDocument(DocumentHeader header, DateTimeOffset now) => new()
    {
        Id = header.Id,
        TenantId = header.Tenant,
        SourceId = header.SourceId,
        ExternalKey = header.ExternalKey,
        ExternalKeyHash = KeyHash(header.ExternalKey),
        Title = header.Title,
        Uri = header.Uri,
        Acl = header.Acl,
        MetadataJson = header.MetadataJson,
        ChangedAt = header.ChangedAt,
        SourceStamp = header.SourceStamp,
        ContentType = header.ContentType,
        SizeBytes = header.SizeBytes,
        State = DocumentState.Pending,
        CreatedAt = now,
        UpdatedAt = now,
    };

    internal static string KeyHash(string externalKey)
        => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(externalKey)));

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max];

    private static SourceInfo ToInfo(SourceEntity s) => new()
    {
        Id = s.Id,
        Tenant = s.TenantId,
        Name = s.Name,
        Kind = s.Kind,
        SettingsJson = s.SettingsJson,
        Schedule = s.Schedule,
        DefaultAcl = s.DefaultAcl,
        ChunkTokens = s.ChunkTokens,
        OverlapTokens = s.OverlapTokens,
        FreshnessObjective = s.FreshnessObjectiveSeconds is { } secs ? TimeSpan.FromSeconds(secs) : null,
        Enabled = s.Enabled,
        CreatedAt = s.CreatedAt,
        UpdatedAt = s.UpdatedAt,
    };

    private static DocumentSnapshot ToSnapshot(DocumentEntity d) => new()
    {
        Id = d.Id,
        SourceId = d.SourceId,
        Tenant = d.TenantId,
        ExternalKey = d.ExternalKey,
        State = d.State,
        ActiveVersion = d.ActiveVersion,
        LatestVersion = d.LatestVersion,
        ContentHash = d.ContentHash,
        PipelineFingerprint = d.PipelineFingerprint,
        Acl = d.Acl,
        Title = d.Title,
        Uri = d.Uri,
        MetadataJson = d.MetadataJson,
        SourceStamp = d.SourceStamp,
        ChangedAt = d.ChangedAt,
        FailureKind = d.FailureKind,
        FailedContentHash = d.FailedContentHash,
        FailureCount = d.FailureCount,
        CreatedAt = d.CreatedAt,
        IndexedAt = d.IndexedAt,
        FailedAt = d.FailedAt,
        FailureReason = d.FailureReason,
    };

    internal static IReadOnlyList<string> SplitHeadings(string joined)
        => joined.Length == 0 ? [] : joined.Split(HeadingSeparator);

    internal static string SerializeFailures(IReadOnlyList<RunFailure> failures)
        => JsonSerializer.Serialize(failures.Select(f => new RunFailureJson(f.ExternalKey, f.Kind.ToWireName(), f.Reason)));

    private sealed record RunFailureJson(string Key, string Kind, string Reason);
}
