using Google.Protobuf;
using Grpc.Core;
using RagPlatform.Contracts.V1;
using Mode = RagPlatform.Contracts.V1.RetrievalMode;

namespace RagPlatform.Retrieval.Tests.Harness;

/// <summary>Short ways to build the wire messages the tests send.</summary>
internal static class Wire
{
    public const string DocxContentType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A tenant name no other test uses, so that tests sharing a server never see each other's documents.</summary>
    public static string NewTenant(string prefix = "t") => $"{prefix}-{Guid.NewGuid():N}";

    public static PushedDocument Text(string key, string text, params string[] acl)
    {
        var doc = new PushedDocument { ExternalKey = key, Text = text };
        doc.Acl.AddRange(acl);
        return doc;
    }

    public static PushedDocument Bytes(string key, byte[] data, string contentType, params string[] acl)
    {
        var doc = new PushedDocument { ExternalKey = key, Data = ByteString.CopyFrom(data), ContentType = contentType };
        doc.Acl.AddRange(acl);
        return doc;
    }

    public static UpsertDocumentsRequest Upsert(string tenant, params PushedDocument[] documents)
    {
        var request = new UpsertDocumentsRequest { Tenant = tenant };
        request.Documents.AddRange(documents);
        return request;
    }

    /// <summary>Pushes documents and asserts that none failed.</summary>
    public static async Task<UpsertDocumentsResponse> PushAsync(this RagTestServer server, string tenant, params PushedDocument[] documents)
    {
        var response = await server.Ingestion.UpsertDocumentsAsync(Upsert(tenant, documents), cancellationToken: Ct);
        var failed = response.Results.Where(r => r.Outcome == DocumentOutcome.Failed).ToList();
        Assert.True(failed.Count == 0, $"pushed documents failed: {string.Join("; ", failed.Select(f => $"{f.ExternalKey}: {f.FailureKind} {f.Error}"))}");
        return response;
    }

    public static RetrieveRequest Query(string tenant, string query, string? user = null, IEnumerable<string>? groups = null, int? topK = null, Mode mode = Mode.Unspecified)
    {
        var request = new RetrieveRequest { Tenant = tenant, Query = query, Mode = mode, Principal = new Principal { User = user ?? string.Empty } };
        request.Principal.Groups.AddRange(groups ?? []);
        if (topK is { } k)
        {
            request.TopK = k;
        }

        return request;
    }

    public static async Task<RetrieveResponse> RetrieveAsync(this RagTestServer server, RetrieveRequest request, Metadata? headers = null, DateTime? deadline = null)
        => await server.Retrieval.RetrieveAsync(request, headers, deadline, Ct);

    public static async Task<GetDocumentResponse> GetDocumentAsync(this RagTestServer server, string tenant, string documentId, bool includeText = false, int? version = null)
    {
        var request = new GetDocumentRequest { Tenant = tenant, DocumentId = documentId, IncludeText = includeText };
        if (version is { } v)
        {
            request.Version = v;
        }

        return await server.Ingestion.GetDocumentAsync(request, cancellationToken: Ct);
    }
}
