namespace RagPlatform.Core.Indexing;

/// <summary>
/// One chunk as every index holds it: identity, version, the filterable fields (tenant, ACL,
/// source, metadata, change time) and the searchable text. The vector index also keeps
/// <see cref="Embedding"/>; the keyword index ignores it.
/// </summary>
public sealed record IndexedChunk
{
    /// <summary>Stable id, unique across versions: see <see cref="ChunkIds"/>.</summary>
    public required string ChunkId { get; init; }

    public required Guid DocumentId { get; init; }

    /// <summary>The document version this chunk belongs to.</summary>
    public required int Version { get; init; }

    public required string Tenant { get; init; }

    public required Guid SourceId { get; init; }

    /// <summary>Canonical principal strings (<c>user:alice</c>, <c>group:eng</c>, <c>public</c>). Empty: visible to nobody.</summary>
    public required IReadOnlyList<string> Acl { get; init; }

    public required string Title { get; init; }

    public required string Text { get; init; }

    /// <summary>Document metadata; values are strings, compared as numbers when both sides parse as numbers.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = EmptyMetadata;

    /// <summary>When the document changed at its source.</summary>
    public DateTimeOffset? ChangedAt { get; init; }

    /// <summary>The chunk's embedding; null when the platform runs keyword-only.</summary>
    public float[]? Embedding { get; init; }

    public static IReadOnlyDictionary<string, string> EmptyMetadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>Chunk ids are derived, never random: a chunk is identified by its document, version and ordinal.</summary>
public static class ChunkIds
{
    public static string Create(Guid documentId, int version, int ordinal)
        => FormattableString.Invariant($"{documentId:N}-{version}-{ordinal}");
}
