using RagPlatform.Core.Documents;
using RagPlatform.Core.Security;

namespace RagPlatform.Ingestion.Pipeline;

/// <summary>
/// One document offered to the pipeline by a source (a file, a URL, a pushed document). Listing is
/// cheap; the bytes are read only when the cheap markers say the document may have changed.
/// </summary>
public sealed record IngestItem
{
    /// <summary>Unique within the source: a full path, a URL, or the caller's id.</summary>
    public required string ExternalKey { get; init; }

    /// <summary>Reads the document's bytes.</summary>
    public required Func<CancellationToken, ValueTask<ReadOnlyMemory<byte>>> ReadAsync { get; init; }

    /// <summary>A file name, for format detection by extension and as a fallback title.</summary>
    public string? FileName { get; init; }

    public string? ContentType { get; init; }

    /// <summary>A title given by the caller; otherwise the document's own, otherwise the file name.</summary>
    public string? Title { get; init; }

    public string? Uri { get; init; }

    /// <summary>When the document changed at its source.</summary>
    public DateTimeOffset? ChangedAt { get; init; }

    /// <summary>A cheap change marker (size and modification time, an ETag): equal markers skip reading.</summary>
    public string? SourceStamp { get; init; }

    /// <summary>The size, when the listing knows it, checked against the limit before reading.</summary>
    public long? Size { get; init; }

    /// <summary>The document's own ACL; null takes the request's default.</summary>
    public AccessControlList? Acl { get; init; }

    /// <summary>Metadata given by the caller, merged over what the format carries.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>Set when the listing already knows the document cannot be read.</summary>
    public DocumentRejectedException? ListingFailure { get; init; }
}
