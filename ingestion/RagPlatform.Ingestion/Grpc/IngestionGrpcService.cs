using System.Text;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using RagPlatform.Contracts;
using RagPlatform.Contracts.V1;
using RagPlatform.Core;
using RagPlatform.Core.Documents;
using RagPlatform.Core.Metadata;
using RagPlatform.Core.Security;
using RagPlatform.Ingestion.Pipeline;
using RagPlatform.Ingestion.Sources;
using DocumentOutcome = RagPlatform.Ingestion.Pipeline.DocumentOutcome;
using PushedDocument = RagPlatform.Ingestion.Sources.PushedDocument;

namespace RagPlatform.Ingestion.Grpc;

/// <summary><c>rag.v1.IngestionService</c>: maps requests, calls <see cref="PushIngestor"/> or the metadata store, maps responses.</summary>
[GrpcMessageSizeLimit]
internal sealed class IngestionGrpcService(PushIngestor pushes, IMetadataStore metadata) : IngestionService.IngestionServiceBase
{
    public override async Task<UpsertDocumentsResponse> UpsertDocuments(UpsertDocumentsRequest request, ServerCallContext context)
    {
        var tenant = RequireTenant(request.Tenant);
        if (request.Documents.Count == 0)
        {
            throw new RagValidationException("documents", "is empty; send at least one document");
        }

        var documents = request.Documents.Select((d, i) => ToPushed(d, i)).ToList();
        var result = await pushes.UpsertAsync(tenant, request.Source, documents, context.CancellationToken);
        var response = new UpsertDocumentsResponse { Chunks = result.Chunks };
        var byKey = result.Outcomes.ToDictionary(o => o.ExternalKey, StringComparer.Ordinal);
        response.Results.AddRange(request.Documents.Select(d => ToResult(byKey[d.ExternalKey])));
        return response;
    }

    public override async Task<DeleteDocumentsResponse> DeleteDocuments(DeleteDocumentsRequest request, ServerCallContext context)
    {
        var tenant = RequireTenant(request.Tenant);
        if (request.ExternalKeys.Count == 0 && request.DocumentIds.Count == 0)
        {
            throw new RagValidationException("external_keys", "and document_ids are both empty; name the documents to delete");
        }

        var ids = request.DocumentIds.Select((id, i) => ParseId(id, $"document_ids[{i}]")).ToList();
        var outcomes = await pushes.DeleteAsync(tenant, request.Source, request.ExternalKeys, ids, context.CancellationToken);
        var response = new DeleteDocumentsResponse();
        response.Results.AddRange(outcomes.Select(ToResult));
        return response;
    }

    public override async Task<GetDocumentResponse> GetDocument(GetDocumentRequest request, ServerCallContext context)
    {
        var tenant = RequireTenant(request.Tenant);
        var id = ParseId(request.DocumentId, "document_id");
        var details = await metadata.GetDocumentAsync(tenant, id, context.CancellationToken)
            ?? throw new RagNotFoundException($"document {id} does not exist in tenant '{tenant}'");
        var doc = details.Document;
        var response = new GetDocumentResponse
        {
            Document = new Contracts.V1.Document
            {
                Id = doc.Id.ToString(),
                Tenant = details.Tenant,
                SourceId = details.SourceId.ToString(),
                ExternalKey = doc.ExternalKey,
                Title = doc.Title,
                Uri = doc.Uri ?? string.Empty,
                State = doc.State.ToString().ToLowerInvariant(),
                FailureKind = doc.FailureKind == FailureKind.None ? string.Empty : doc.FailureKind.ToWireName(),
                FailureReason = details.FailureReason ?? string.Empty,
                ActiveVersion = doc.ActiveVersion,
                ChangedAt = doc.ChangedAt is { } changed ? Timestamp.FromDateTimeOffset(changed) : null,
                IndexedAt = details.IndexedAt is { } indexed ? Timestamp.FromDateTimeOffset(indexed) : null,
            },
        };
        response.Document.Acl.AddRange(AccessControlList.Parse(doc.Acl).ToStrings());
        response.Document.Metadata.Add(JsonSerializer.Deserialize<Dictionary<string, string>>(doc.MetadataJson) ?? []);
        foreach (var v in details.Versions)
        {
            var version = new Contracts.V1.DocumentVersion
            {
                Version = v.Version,
                ContentHash = v.ContentHash,
                Format = v.Format,
                ChunkCount = v.ChunkCount,
                CreatedAt = Timestamp.FromDateTimeOffset(v.CreatedAt),
                State = v.State,
            };
            if (v.PageCount is { } pages)
            {
                version.PageCount = pages;
            }

            response.Versions.Add(version);
        }

        if (request.IncludeText)
        {
            var version = request.HasVersion ? request.Version : doc.ActiveVersion;
            response.Text = await metadata.GetVersionTextAsync(tenant, id, version, context.CancellationToken)
                ?? throw new RagNotFoundException($"version {version} of document {id} has no stored text: it does not exist, or the document was deleted and its content purged");
            response.TextVersion = version;
        }

        return response;
    }

    private static PushedDocument ToPushed(Contracts.V1.PushedDocument d, int index)
    {
        var field = $"documents[{index}]";
        if (string.IsNullOrWhiteSpace(d.ExternalKey))
        {
            throw new RagValidationException($"{field}.external_key", "is empty; give each document the caller's id for it");
        }

        if (d.ExternalKey.Length > 4096)
        {
            throw new RagValidationException($"{field}.external_key", $"is {d.ExternalKey.Length} characters; at most 4096");
        }

        ReadOnlyMemory<byte> content = d.ContentCase switch
        {
            Contracts.V1.PushedDocument.ContentOneofCase.Text => Encoding.UTF8.GetBytes(d.Text),
            Contracts.V1.PushedDocument.ContentOneofCase.Data => d.Data.Memory,
            _ => throw new RagValidationException($"{field}.content", "is missing; set text or data"),
        };
        var contentType = string.IsNullOrWhiteSpace(d.ContentType)
            ? (d.ContentCase == Contracts.V1.PushedDocument.ContentOneofCase.Text ? "text/plain" : null)
            : d.ContentType;
        return new PushedDocument
        {
            ExternalKey = d.ExternalKey,
            Content = content,
            ContentType = contentType,
            Title = d.Title,
            Uri = d.Uri,
            Metadata = d.Metadata.Count == 0 ? null : new Dictionary<string, string>(d.Metadata, StringComparer.Ordinal),
            Acl = AccessControlList.FromStrings(d.Acl, $"{field}.acl"),
            ChangedAt = d.ChangedAt?.ToDateTimeOffset(),
        };
    }

    private static DocumentResult ToResult(DocumentOutcomeRecord outcome) => new()
    {
        ExternalKey = outcome.ExternalKey,
        DocumentId = outcome.DocumentId == Guid.Empty ? string.Empty : outcome.DocumentId.ToString(),
        Outcome = outcome.Outcome switch
        {
            DocumentOutcome.Added => Contracts.V1.DocumentOutcome.Added,
            DocumentOutcome.Updated => Contracts.V1.DocumentOutcome.Updated,
            DocumentOutcome.Unchanged => Contracts.V1.DocumentOutcome.Unchanged,
            DocumentOutcome.Failed => Contracts.V1.DocumentOutcome.Failed,
            DocumentOutcome.Deleted => Contracts.V1.DocumentOutcome.Deleted,
            _ => Contracts.V1.DocumentOutcome.NotFound,
        },
        Version = outcome.Version,
        FailureKind = outcome.Failure?.Kind.ToWireName() ?? string.Empty,
        Error = outcome.Failure?.Reason ?? (outcome.Outcome == DocumentOutcome.NotFound ? "no such document" : string.Empty),
    };

    private static string RequireTenant(string tenant)
        => string.IsNullOrWhiteSpace(tenant) ? throw new RagValidationException("tenant", "is empty; name the tenant") : tenant;

    private static Guid ParseId(string text, string field)
        => Guid.TryParse(text, out var id) ? id : throw new RagValidationException(field, $"'{text}' is not a document id (a UUID)");
}
