using RagPlatform.Core.Metadata;
using RagPlatform.Ingestion.Pipeline;

namespace RagPlatform.IndexerJobs.Sources;

/// <summary>What a source holds now, listed cheaply, and which known documents the listing speaks for.</summary>
public sealed record SourceListing(IReadOnlyList<IngestItem> Items, Func<string, bool>? DeletionScope);

/// <summary>Lists one kind of source for a sync.</summary>
public interface ISourceLister
{
    SourceKind Kind { get; }

    /// <summary>
    /// Lists <paramref name="source"/>; <paramref name="known"/> are its documents as the metadata store
    /// has them (by external key), so that unchanged ones are recognised without reading them.
    /// </summary>
    Task<SourceListing> ListAsync(SourceInfo source, IReadOnlyDictionary<string, DocumentSnapshot> known, CancellationToken cancellationToken);
}
