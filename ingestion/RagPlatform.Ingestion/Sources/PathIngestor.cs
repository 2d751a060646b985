using RagPlatform.Core.Metadata;
using RagPlatform.Core.Security;
using RagPlatform.Ingestion.Pipeline;

namespace RagPlatform.Ingestion.Sources;

/// <summary>Files and folders to ingest into one source (what <c>rag ingest</c> does).</summary>
public sealed record PathIngestionRequest
{
    public required IReadOnlyList<string> Paths { get; init; }

    public string Tenant { get; init; } = "default";

    public string Source { get; init; } = "default";

    public AccessControlList Acl { get; init; } = AccessControlList.Empty;

    public bool Force { get; init; }

    public string Trigger { get; init; } = "cli";
}

/// <summary>
/// Lists paths and runs the pipeline over them. Files missing from a folder ingested before into
/// the same source are deleted; a path that does not exist deletes nothing.
/// </summary>
public sealed class PathIngestor(IMetadataStore metadata, IngestionPipeline pipeline)
{
    public async Task<IngestionResult> IngestAsync(PathIngestionRequest request, IProgress<IngestionProgress>? progress, CancellationToken cancellationToken)
    {
        await metadata.MigrateAsync(cancellationToken);
        var source = await metadata.EnsureSourceAsync(request.Tenant, request.Source, SourceKind.Files, cancellationToken);
        var listing = FileSystemListing.List(request.Paths);
        return await pipeline.RunAsync(
            new IngestionRequest
            {
                Source = source,
                Items = listing.Items,
                DefaultAcl = request.Acl,
                DeletionScope = listing.Covers,
                Trigger = request.Trigger,
                Force = request.Force,
            },
            progress,
            cancellationToken);
    }
}
