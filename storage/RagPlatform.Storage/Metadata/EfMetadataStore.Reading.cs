using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using RagPlatform.Core.Documents;
using RagPlatform.Core.Metadata;
using RagPlatform.Storage.Metadata.Entities;

namespace RagPlatform.Storage.Metadata;

internal sealed partial class EfMetadataStore
{
    // The read path's hydration, once per Retrieve: plain SQL over the context's connection rather than LINQ, which
    // adds EF's per-query overhead and turns `ids.Contains(c.Id)` into a json_each() subquery. Either way SQLite's
    // planner (3.53, no statistics) drives the join from the documents side: every document of the tenant, then its
    // chunks, 140 ms per call at 100,000 chunks. In SQLite, CROSS JOIN keeps the left table outermost, so each chunk
    // is found by primary key and its document by primary key (0.1 ms). PostgreSQL plans from its statistics and
    // takes the ids as one array parameter.
    private const string LiveChunksColumns =
        """
        SELECT c."Id", c."DocumentId", c."Version", c."Ordinal", c."Text", c."Start", c."End", c."ByteStart", c."ByteEnd",
               c."PageStart", c."PageEnd", c."HeadingPath", c."TokenCount", c."ContentHash",
               d."TenantId", d."SourceId", d."ExternalKey", d."Title", d."Uri", d."Acl", d."MetadataJson", d."ChangedAt"
        """;

    private const string LiveChunksFilter = """ d."Id" = c."DocumentId" AND d."TenantId" = @tenant AND d."ActiveVersion" = c."Version" AND d."State" <> @deleted AND c."Id" """;

    private const string LiveChunksSqlite = LiveChunksColumns + " FROM chunks AS c CROSS JOIN documents AS d WHERE" + LiveChunksFilter;

    private const string LiveChunksPostgres = LiveChunksColumns + " FROM chunks AS c INNER JOIN documents AS d ON" + LiveChunksFilter + " = ANY(@ids)";

    // SQLite stores DateTimeOffset as a sortable integer (see SqliteMetadataDbContext); read back with EF's own converter.
    private static readonly Func<object?, object?> FromSqliteTime = new DateTimeOffsetToBinaryConverter().ConvertFromProvider;

    private static readonly string[] IdParameters = [.. Enumerable.Range(0, Slice).Select(i => string.Create(CultureInfo.InvariantCulture, $"@id{i}"))];

    // The SQLite statement for each number of ids, built on first use (a benign race: equal strings).
    private static readonly string?[] SqliteStatements = new string?[Slice + 1];

    private LiveReadTarget? _liveReads;

    public async Task<IReadOnlyList<LiveChunk>> GetLiveChunksAsync(string tenant, IReadOnlyCollection<string> chunkIds, CancellationToken cancellationToken)
    {
        if (chunkIds.Count == 0)
        {
            return [];
        }

        // Distinct first: an id repeated in two slices would otherwise come back twice.
        var slices = chunkIds.Distinct(StringComparer.Ordinal).Chunk(Slice);
        var result = new List<LiveChunk>(chunkIds.Count);
        var target = _liveReads ??= await DetectLiveReadTargetAsync(cancellationToken);
        if (target.SqliteConnectionString is { } sqlite)
        {
            // A pooled connection of its own, without a DbContext: creating and disposing one, and the pragmas its
            // interceptor runs on every open, cost more than the query. Reads need none of those pragmas (WAL is a
            // property of the file, and Microsoft.Data.Sqlite retries a busy database for the command timeout).
            // Microsoft.Data.Sqlite is synchronous underneath its async methods, so the synchronous ones are used.
            using var connection = new SqliteConnection(sqlite);
            connection.Open();
            foreach (var slice in slices)
            {
                using var command = connection.CreateCommand();
                command.CommandText = SqliteStatements[slice.Length] ??= SqliteStatement(slice.Length);
                command.Parameters.AddWithValue("@tenant", tenant);
                command.Parameters.AddWithValue("@deleted", nameof(DocumentState.Deleted));
                for (var i = 0; i < slice.Length; i++)
                {
                    command.Parameters.AddWithValue(IdParameters[i], slice[i]);
                }

                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    result.Add(ReadLive(reader, postgres: false));
                }
            }

            return result;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        var postgres = db.Database.GetDbConnection();
        foreach (var slice in slices)
        {
            await using var command = postgres.CreateCommand();
            command.CommandText = LiveChunksPostgres;
            AddParameter(command, "@tenant", tenant);
            AddParameter(command, "@deleted", nameof(DocumentState.Deleted));
            AddParameter(command, "@ids", slice);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                result.Add(ReadLive(reader, postgres: true));
            }
        }

        return result;
    }

    private static string SqliteStatement(int ids)
    {
        var sql = new StringBuilder(LiveChunksSqlite, LiveChunksSqlite.Length + 8 + (ids * 8)).Append(" IN (");
        for (var i = 0; i < ids; i++)
        {
            sql.Append(i == 0 ? string.Empty : ", ").Append(IdParameters[i]);
        }

        return sql.Append(')').ToString();
    }

    private async Task<LiveReadTarget> DetectLiveReadTargetAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return new LiveReadTarget(db.Database.IsSqlite() ? db.Database.GetConnectionString() : null);
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private static LiveChunk ReadLive(DbDataReader r, bool postgres) => new()
    {
        ChunkId = r.GetString(0),
        DocumentId = r.GetGuid(1),
        Version = r.GetInt32(2),
        Ordinal = r.GetInt32(3),
        Text = r.GetString(4),
        Start = r.GetInt32(5),
        End = r.GetInt32(6),
        ByteStart = r.GetInt32(7),
        ByteEnd = r.GetInt32(8),
        PageStart = r.IsDBNull(9) ? null : r.GetInt32(9),
        PageEnd = r.IsDBNull(10) ? null : r.GetInt32(10),
        HeadingPath = SplitHeadings(r.GetString(11)),
        TokenCount = r.GetInt32(12),
        ContentHash = r.GetString(13),
        Tenant = r.GetString(14),
        SourceId = r.GetGuid(15),
        ExternalKey = r.GetString(16),
        Title = r.GetString(17),
        Uri = r.IsDBNull(18) ? null : r.GetString(18),
        Acl = r.GetString(19),
        MetadataJson = r.GetString(20),
        ChangedAt = r.IsDBNull(21) ? null
            : postgres ? r.GetFieldValue<DateTimeOffset>(21)
            : (DateTimeOffset)FromSqliteTime(r.GetInt64(21))!,
    };

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

    /// <summary>Where live chunks are read: SQLite's connection string, or null for PostgreSQL through the context's connection.</summary>
    private sealed record LiveReadTarget(string? SqliteConnectionString);
}
