using RagPlatform.Core;
using RagPlatform.Core.Metadata;
using RagPlatform.Ingestion.Sources;

namespace RagPlatform.IndexerJobs.Sources;

/// <summary>
/// A folder source: names, sizes and modification times under the folder (matching the include and
/// not the exclude globs), with ACLs from <c>NAME.acl</c> sidecars and <c>.rag-acl</c> folder files.
/// </summary>
internal sealed class FolderLister : ISourceLister
{
    public SourceKind Kind => SourceKind.Folder;

    public Task<SourceListing> ListAsync(SourceInfo source, IReadOnlyDictionary<string, DocumentSnapshot> known, CancellationToken cancellationToken)
    {
        var settings = SourceSettings.Folder(source);
        if (!Directory.Exists(settings.Path))
        {
            // Never read a missing folder as "everything was deleted": a mount may be down.
            throw new RagPreconditionException($"the folder {settings.Path} of source '{source.Name}' does not exist or cannot be reached; nothing was changed");
        }

        var listing = FileSystemListing.List([settings.Path], settings.Matcher());
        return Task.FromResult(new SourceListing(listing.Items, listing.Covers));
    }
}
