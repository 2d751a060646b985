using RagPlatform.Core;
using RagPlatform.Core.Indexing;

namespace RagPlatform.Storage.Vectors.Internal;

/// <summary>One chunk as the vector index keeps it: the filterable fields and the normalised vector; no text.</summary>
internal sealed record PreparedRow(
    string ChunkId,
    Guid DocumentId,
    int Version,
    string Tenant,
    Guid SourceId,
    string[] Acl,
    long ChangedAtUtcTicks,
    IReadOnlyDictionary<string, string> Metadata,
    float[] Vector);

internal sealed record PreparedAccessUpdate(Guid DocumentId, string[] Acl);

/// <summary>
/// A batch that has passed validation, with private copies of everything the caller could still change,
/// in the form written to the log. Applying it cannot fail on bad input, which is what lets the index
/// log it first and apply it after.
/// </summary>
internal sealed class PreparedBatch
{
    /// <summary>Encodes a missing <see cref="IndexedChunk.ChangedAt"/>; below every real time, so "changed after" never holds.</summary>
    public const long NoChangeTime = long.MinValue;

    /// <summary>More than this is not an embedding; the bound also keeps int8 dot products within int32.</summary>
    public const int MaxDimensions = 65_536;

    public PreparedBatch(DocumentDeletion[] deletions, PreparedRow[] upserts, PreparedAccessUpdate[] accessUpdates, int dimensions)
    {
        Deletions = deletions;
        Upserts = upserts;
        AccessUpdates = accessUpdates;
        Dimensions = dimensions;
    }

    public DocumentDeletion[] Deletions { get; }

    public PreparedRow[] Upserts { get; }

    public PreparedAccessUpdate[] AccessUpdates { get; }

    /// <summary>Dimensions of every vector in <see cref="Upserts"/>; 0 when there are none.</summary>
    public int Dimensions { get; }

    public bool IsEmpty => Deletions.Length == 0 && Upserts.Length == 0 && AccessUpdates.Length == 0;

    /// <summary>
    /// Validates all of <paramref name="batch"/> before anything is written, so that a bad chunk fails the
    /// batch with a reason and leaves the index untouched. Upserts without an embedding (keyword-only
    /// mode) are left out.
    /// </summary>
    /// <param name="indexDimensions">Dimensions of the vectors held, or null while the index is empty.</param>
    /// <param name="directory">The index directory, named in errors.</param>
    public static PreparedBatch Prepare(IndexBatch batch, int? indexDimensions, string directory)
    {
        ArgumentNullException.ThrowIfNull(batch);

        var deletions = new DocumentDeletion[batch.Deletions.Count];
        for (var i = 0; i < deletions.Length; i++)
        {
            deletions[i] = batch.Deletions[i] ?? throw new RagValidationException($"deletions[{i}]", "is null; remove it from the batch");
        }

        var upserts = new List<PreparedRow>(batch.Upserts.Count);
        var dimensions = indexDimensions ?? 0;
        string? firstChunk = null;
        for (var i = 0; i < batch.Upserts.Count; i++)
        {
            var chunk = batch.Upserts[i] ?? throw new RagValidationException($"upserts[{i}]", "is null; remove it from the batch");
            if (chunk.Embedding is not { } embedding)
            {
                continue;
            }

            var field = $"upserts[{i}]";
            if (string.IsNullOrEmpty(chunk.ChunkId))
            {
                throw new RagValidationException($"{field}.ChunkId", $"a chunk of document {chunk.DocumentId} has no chunk id; create it with ChunkIds.Create");
            }

            var name = $"chunk {chunk.ChunkId} of document {chunk.DocumentId}";
            if (string.IsNullOrEmpty(chunk.Tenant))
            {
                throw new RagValidationException($"{field}.Tenant", $"{name} has no tenant; every chunk belongs to one tenant");
            }

            if (embedding.Length is 0 or > MaxDimensions)
            {
                throw new RagValidationException($"{field}.Embedding", $"{name} has a {embedding.Length}-d embedding; embeddings have 1 to {MaxDimensions} dimensions");
            }

            if (dimensions == 0)
            {
                dimensions = embedding.Length;
                firstChunk = chunk.ChunkId;
            }
            else if (embedding.Length != dimensions)
            {
                throw new RagValidationException(
                    $"{field}.Embedding",
                    firstChunk is null
                        ? $"the vector index at {directory} holds {dimensions}-d vectors and the embedder produced {embedding.Length}-d for {name}: the embedding model changed. Re-index into a fresh data directory to use the new model."
                        : $"{name} has a {embedding.Length}-d embedding but chunk {firstChunk} in the same batch has {dimensions}-d: one batch must be embedded by one model.");
            }

            var vector = VectorMath.Normalized(embedding)
                ?? throw new RagValidationException($"{field}.Embedding", $"{name} has an embedding that is all zeros or holds NaN or infinity; the embedder's output cannot be compared. Check the embedding model.");
            upserts.Add(new PreparedRow(
                chunk.ChunkId,
                chunk.DocumentId,
                chunk.Version,
                chunk.Tenant,
                chunk.SourceId,
                CopyAcl(chunk.Acl, $"{field}.Acl", name),
                chunk.ChangedAt?.UtcTicks ?? NoChangeTime,
                CopyMetadata(chunk.Metadata, $"{field}.Metadata", name),
                ReferenceEquals(vector, embedding) ? (float[])embedding.Clone() : vector));
        }

        var access = new PreparedAccessUpdate[batch.AccessUpdates.Count];
        for (var i = 0; i < access.Length; i++)
        {
            var update = batch.AccessUpdates[i] ?? throw new RagValidationException($"accessUpdates[{i}]", "is null; remove it from the batch");
            access[i] = new PreparedAccessUpdate(update.DocumentId, CopyAcl(update.Acl, $"accessUpdates[{i}].Acl", $"the access update of document {update.DocumentId}"));
        }

        return new PreparedBatch(deletions, [.. upserts], access, upserts.Count == 0 ? 0 : dimensions);
    }

    private static string[] CopyAcl(IReadOnlyList<string>? acl, string field, string name)
    {
        if (acl is null)
        {
            throw new RagValidationException(field, $"{name} has no ACL; pass an empty list to make it visible to nobody");
        }

        var copy = new string[acl.Count];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = string.IsNullOrEmpty(acl[i])
                ? throw new RagValidationException(field, $"{name} has an empty principal in its ACL; write user:NAME, group:NAME or public")
                : acl[i];
        }

        return copy;
    }

    private static IReadOnlyDictionary<string, string> CopyMetadata(IReadOnlyDictionary<string, string>? metadata, string field, string name)
    {
        if (metadata is null)
        {
            throw new RagValidationException(field, $"{name} has null metadata; leave it unset for none");
        }

        if (metadata.Count == 0)
        {
            return IndexedChunk.EmptyMetadata;
        }

        var copy = new Dictionary<string, string>(metadata.Count, StringComparer.Ordinal);
        foreach (var (key, value) in metadata)
        {
            copy[key] = value ?? throw new RagValidationException(field, $"{name} has no value for metadata key '{key}'");
        }

        return copy;
    }
}
