using RagPlatform.Core;
using RagPlatform.Core.Documents;
using RagPlatform.Core.Metadata;
using RagPlatform.Core.Security;
using RagPlatform.Ingestion.Pipeline;

namespace RagPlatform.Ingestion.Sources;

/// <summary>A document pushed by a service, with its content in hand.</summary>
public sealed record PushedDocument
{
    public required string ExternalKey { get; init; }

    public required ReadOnlyMemory<byte> Content { get; init; }

    public string? ContentType { get; init; }

    public string? Title { get; init; }

    public string? Uri { get; init; }

    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    public required AccessControlList Acl { get; init; }

    /// <summary>When it changed at its source; the push time when null.</summary>
    public DateTimeOffset? ChangedAt { get; init; }
}

/// <summary>
/// Documents pushed over the API go through the same pipeline as files: same parsing, chunking,
/// change detection (by content hash), commit protocol and failure reporting. Pushes go into push
/// sources only, so that a folder sync never deletes what a service pushed.
/// </summary>
public sealed class PushIngestor(IMetadataStore metadata, IngestionPipeline pipeline, TimeProvider time)
{
    public const string DefaultSource = "push";

    /// <summary>Documents per request; larger pushes are refused as too large (send them in several calls).</summary>
    public const int MaxDocumentsPerRequest = 1000;

    public async Task<IngestionResult> UpsertAsync(string tenant, string? sourceName, IReadOnlyList<PushedDocument> documents, CancellationToken cancellationToken)
    {
        if (documents.Count > MaxDocumentsPerRequest)
        {
            throw new RagTooLargeException($"documents: {documents.Count} documents in one request is over the limit of {MaxDocumentsPerRequest}; send them in several requests");
        }

        // Name the repeated document by its index, as the API names every other bad field.
        var seen = new Dictionary<string, int>(documents.Count, StringComparer.Ordinal);
        for (var i = 0; i < documents.Count; i++)
        {
            if (!seen.TryAdd(documents[i].ExternalKey, i))
            {
                throw new RagValidationException(
                    $"documents[{i}].external_key",
                    $"'{documents[i].ExternalKey}' is also the key of documents[{seen[documents[i].ExternalKey]}]; send each document once per request");
            }
        }

        var source = await PushSourceAsync(tenant, sourceName, cancellationToken);
        var now = time.GetUtcNow();
        var items = documents.Select(d => new IngestItem
        {
            ExternalKey = d.ExternalKey,
            FileName = d.ExternalKey,
            ContentType = d.ContentType,
            Title = string.IsNullOrWhiteSpace(d.Title) ? null : d.Title,
            Uri = string.IsNullOrWhiteSpace(d.Uri) ? null : d.Uri,
            Metadata = d.Metadata,
            Acl = d.Acl,
            ChangedAt = d.ChangedAt ?? now,
            Size = d.Content.Length,
            ReadAsync = _ => ValueTask.FromResult(d.Content),
        }).ToList();
        return await pipeline.RunAsync(new IngestionRequest { Source = source, Items = items, Trigger = "push" }, progress: null, cancellationToken);
    }

    /// <summary>Deletes documents by external key (in the given push source) and by id (in any source of the tenant).</summary>
    public async Task<IReadOnlyList<DocumentOutcomeRecord>> DeleteAsync(string tenant, string? sourceName, IReadOnlyList<string> externalKeys, IReadOnlyList<Guid> documentIds, CancellationToken cancellationToken)
    {
        if (externalKeys.Count + documentIds.Count > MaxDocumentsPerRequest)
        {
            throw new RagTooLargeException($"{externalKeys.Count + documentIds.Count} deletions in one request is over the limit of {MaxDocumentsPerRequest}; send them in several requests");
        }

        var outcomes = new List<DocumentOutcomeRecord>();
        var bySource = new Dictionary<Guid, HashSet<string>>();
        if (externalKeys.Count > 0)
        {
            var name = string.IsNullOrWhiteSpace(sourceName) ? DefaultSource : sourceName;
            var source = await metadata.FindSourceAsync(tenant, name, cancellationToken);
            foreach (var key in externalKeys.Distinct(StringComparer.Ordinal))
            {
                var doc = source is null ? null : await metadata.FindDocumentAsync(source.Id, key, cancellationToken);
                if (doc is null || doc.State == DocumentState.Deleted)
                {
                    outcomes.Add(new DocumentOutcomeRecord(key, doc?.Id ?? Guid.Empty, DocumentOutcome.NotFound, 0));
                }
                else
                {
                    Keys(bySource, source!.Id).Add(key);
                }
            }
        }

        foreach (var id in documentIds.Distinct())
        {
            var details = await metadata.GetDocumentAsync(tenant, id, cancellationToken);
            if (details is null || details.Document.State == DocumentState.Deleted)
            {
                outcomes.Add(new DocumentOutcomeRecord(details?.Document.ExternalKey ?? string.Empty, id, DocumentOutcome.NotFound, 0));
            }
            else
            {
                Keys(bySource, details.SourceId).Add(details.Document.ExternalKey);
            }
        }

        foreach (var (sourceId, keys) in bySource)
        {
            var source = await metadata.GetSourceAsync(sourceId, cancellationToken)
                ?? throw new InvalidOperationException($"Source {sourceId} of a document of tenant '{tenant}' is missing.");
            var result = await pipeline.RunAsync(new IngestionRequest { Source = source, Items = [], Deletions = keys, Trigger = "push" }, progress: null, cancellationToken);
            outcomes.AddRange(result.Outcomes);
        }

        return outcomes;
    }

    private async Task<SourceInfo> PushSourceAsync(string tenant, string? sourceName, CancellationToken cancellationToken)
    {
        var name = string.IsNullOrWhiteSpace(sourceName) ? DefaultSource : sourceName;
        var source = await metadata.EnsureSourceAsync(tenant, name, SourceKind.Push, cancellationToken);
        if (source.Kind != SourceKind.Push)
        {
            throw new RagPreconditionException(
                $"source '{name}' is a {source.Kind.ToString().ToLowerInvariant()} source: its documents come from its listing, which would delete pushed ones. Push into a push source (for example '{DefaultSource}').");
        }

        return source;
    }

    private static HashSet<string> Keys(Dictionary<Guid, HashSet<string>> bySource, Guid sourceId)
    {
        if (!bySource.TryGetValue(sourceId, out var keys))
        {
            keys = new HashSet<string>(StringComparer.Ordinal);
            bySource[sourceId] = keys;
        }

        return keys;
    }
}
