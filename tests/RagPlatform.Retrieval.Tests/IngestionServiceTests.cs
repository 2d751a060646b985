using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Contracts.V1;
using RagPlatform.Core.Security;
using RagPlatform.Ingestion.Sources;
using RagPlatform.Retrieval.Tests.Harness;
using RagPlatform.Testing;
using Mode = RagPlatform.Contracts.V1.RetrievalMode;

namespace RagPlatform.Retrieval.Tests;

/// <summary><c>rag.v1.IngestionService</c> over the wire: pushes, deletions and documents, with per-document outcomes.</summary>
public sealed class IngestionServiceTests(KeywordServer server) : IClassFixture<KeywordServer>
{
    private readonly string _tenant = Wire.NewTenant();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Pushed_text_and_bytes_are_added_with_a_version_and_become_searchable()
    {
        var response = await server.PushAsync(
            _tenant,
            Wire.Text("notes/1", "Otters float on their backs to eat.", "public"),
            Wire.Bytes("guide.md", TestDocuments.Utf8("# Guide\n\nKingfishers dive for minnows."), "text/markdown", "public"),
            Wire.Bytes("page.html", TestDocuments.Utf8("<html><head><title>Badgers</title></head><body><p>Badgers dig setts.</p></body></html>"), "text/html", "public"));

        Assert.Equal(["notes/1", "guide.md", "page.html"], response.Results.Select(r => r.ExternalKey));
        Assert.All(response.Results, r =>
        {
            Assert.Equal(DocumentOutcome.Added, r.Outcome);
            Assert.Equal(1, r.Version);
            Assert.True(Guid.TryParse(r.DocumentId, out _));
            Assert.Equal(string.Empty, r.FailureKind);
        });
        Assert.True(response.Chunks >= 3);
        var hit = Assert.Single((await Search("kingfishers")).Hits);
        Assert.Equal(response.Results[1].DocumentId, hit.DocumentId);
        Assert.Equal("Guide", hit.Title);
        Assert.Equal("Badgers", Assert.Single((await Search("setts")).Hits).Title);
    }

    [Fact]
    public async Task Title_uri_metadata_and_changed_at_given_with_a_push_are_kept()
    {
        var doc = Wire.Text("k", "Puffins nest in burrows.", "group:birds");
        doc.Title = "Puffin facts";
        doc.Uri = "https://example.org/puffins";
        doc.Metadata.Add("lang", "en");
        doc.ChangedAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero));
        var id = (await server.PushAsync(_tenant, doc)).Results[0].DocumentId;

        var got = (await server.GetDocumentAsync(_tenant, id)).Document;
        var hit = Assert.Single((await Search("puffins", groups: ["group:birds"])).Hits);

        Assert.Equal(("Puffin facts", "https://example.org/puffins", "en", "indexed"), (got.Title, got.Uri, got.Metadata["lang"], got.State));
        Assert.Equal(["group:birds"], got.Acl);
        Assert.Equal(doc.ChangedAt, got.ChangedAt);
        Assert.Equal(1, got.ActiveVersion);
        Assert.NotNull(got.IndexedAt);
        Assert.Equal(("Puffin facts", "https://example.org/puffins", "en"), (hit.Title, hit.Uri, hit.Metadata["lang"]));
    }

    [Fact]
    public async Task Pushing_the_same_content_again_is_unchanged_and_writes_nothing()
    {
        var first = await server.PushAsync(_tenant, Wire.Text("a", "Herons stand still in the shallows.", "public"), Wire.Text("b", "Egrets are white.", "public"));
        var before = IndexSnapshot.Of(server.DataDirectory);
        var docBefore = await server.GetDocumentAsync(_tenant, first.Results[0].DocumentId);

        var again = await server.PushAsync(_tenant, Wire.Text("a", "Herons stand still in the shallows.", "public"), Wire.Text("b", "Egrets are white.", "public"));

        Assert.All(again.Results, r => Assert.Equal((DocumentOutcome.Unchanged, 1), (r.Outcome, r.Version)));
        Assert.Equal(first.Results.Select(r => r.DocumentId), again.Results.Select(r => r.DocumentId));
        Assert.Equal(0, again.Chunks);
        Assert.Equal(before, IndexSnapshot.Of(server.DataDirectory));
        var docAfter = await server.GetDocumentAsync(_tenant, first.Results[0].DocumentId);
        Assert.Equal(docBefore.Document.IndexedAt, docAfter.Document.IndexedAt);
        Assert.Single(docAfter.Versions);
    }

    [Fact]
    public async Task Changed_content_is_updated_to_a_new_version_and_the_old_text_stays_readable()
    {
        var id = (await server.PushAsync(_tenant, Wire.Text("a", "Version one talks about walruses.", "public"))).Results[0].DocumentId;

        var update = await server.PushAsync(_tenant, Wire.Text("a", "Version two talks about narwhals.", "public"));

        Assert.Equal((DocumentOutcome.Updated, 2, id), (update.Results[0].Outcome, update.Results[0].Version, update.Results[0].DocumentId));
        Assert.Empty((await Search("walruses")).Hits);
        var hit = Assert.Single((await Search("narwhals")).Hits);
        Assert.Equal(2, hit.Citation.Version);
        var old = await server.GetDocumentAsync(_tenant, id, includeText: true, version: 1);
        Assert.Equal(("Version one talks about walruses.", 1), (old.Text, old.TextVersion));
        var current = await server.GetDocumentAsync(_tenant, id, includeText: true);
        Assert.Equal(("Version two talks about narwhals.", 2), (current.Text, current.TextVersion));
        Assert.Equal(["superseded", "active"], current.Versions.OrderBy(v => v.Version).Select(v => v.State));
    }

    [Fact]
    public async Task An_acl_only_change_updates_access_without_a_new_version()
    {
        var id = (await server.PushAsync(_tenant, Wire.Text("a", "Salaries for next year.", "group:hr"))).Results[0].DocumentId;
        Assert.Single((await Search("salaries", groups: ["group:hr"])).Hits);

        var update = await server.PushAsync(_tenant, Wire.Text("a", "Salaries for next year.", "group:finance"));

        Assert.Equal((DocumentOutcome.Updated, 1), (update.Results[0].Outcome, update.Results[0].Version));
        Assert.Empty((await Search("salaries", groups: ["group:hr"])).Hits);
        Assert.Single((await Search("salaries", groups: ["group:finance"])).Hits);
        var doc = await server.GetDocumentAsync(_tenant, id);
        Assert.Equal(["group:finance"], doc.Document.Acl);
        Assert.Equal(1, doc.Document.ActiveVersion);
        Assert.Single(doc.Versions);
    }

    [Fact]
    public async Task A_corrupt_pdf_fails_alone_with_a_reason_while_the_rest_of_the_batch_is_added()
    {
        var response = await server.Ingestion.UpsertDocumentsAsync(
            Wire.Upsert(
                _tenant,
                Wire.Text("good-1", "Lynx hunt hares in winter.", "public"),
                Wire.Bytes("broken.pdf", TestDocuments.CorruptPdf(), "application/pdf", "public"),
                Wire.Bytes("good-2.pdf", TestDocuments.Pdf(["Wolverines roam far."]), "application/pdf", "public")),
            cancellationToken: Ct);

        Assert.Equal(["good-1", "broken.pdf", "good-2.pdf"], response.Results.Select(r => r.ExternalKey));
        Assert.Equal([DocumentOutcome.Added, DocumentOutcome.Failed, DocumentOutcome.Added], response.Results.Select(r => r.Outcome));
        var failed = response.Results[1];
        Assert.Equal("corrupt", failed.FailureKind);
        Assert.False(string.IsNullOrWhiteSpace(failed.Error));
        Assert.Equal(0, failed.Version);
        Assert.Single((await Search("lynx")).Hits);
        Assert.Single((await Search("wolverines")).Hits);
        var doc = (await server.GetDocumentAsync(_tenant, failed.DocumentId)).Document;
        Assert.Equal(("failed", "corrupt", 0), (doc.State, doc.FailureKind, doc.ActiveVersion));
        Assert.Equal(failed.Error, doc.FailureReason);
    }

    [Fact]
    public async Task Content_that_is_not_what_its_type_says_fails_with_a_reason()
    {
        var response = await server.Ingestion.UpsertDocumentsAsync(
            Wire.Upsert(
                _tenant,
                Wire.Bytes("image", TestDocuments.Png(), "image/png", "public"),
                Wire.Bytes("empty", [], "text/plain", "public")),
            cancellationToken: Ct);

        Assert.All(response.Results, r =>
        {
            Assert.Equal(DocumentOutcome.Failed, r.Outcome);
            Assert.False(string.IsNullOrWhiteSpace(r.FailureKind));
            Assert.False(string.IsNullOrWhiteSpace(r.Error));
        });
        Assert.Equal("unsupported", response.Results[0].FailureKind);
        Assert.Equal("empty", response.Results[1].FailureKind);
    }

    [Fact]
    public async Task Duplicate_external_keys_in_one_request_are_invalid_argument()
    {
        var request = Wire.Upsert(_tenant, Wire.Text("a", "one", "public"), Wire.Text("b", "two", "public"), Wire.Text("a", "three", "public"));

        await RpcAssert.InvalidArgumentAsync("documents[2].external_key", () => server.Ingestion.UpsertDocumentsAsync(request, cancellationToken: Ct).ResponseAsync);

        Assert.Empty((await Search("one")).Hits);
    }

    [Fact]
    public async Task More_than_1000_documents_in_one_request_is_resource_exhausted()
    {
        var request = Wire.Upsert(_tenant, [.. Enumerable.Range(0, PushIngestor.MaxDocumentsPerRequest + 1).Select(i => Wire.Text($"d{i}", $"document {i}", "public"))]);

        var ex = await RpcAssert.FailsAsync(StatusCode.ResourceExhausted, () => server.Ingestion.UpsertDocumentsAsync(request, cancellationToken: Ct).ResponseAsync);

        Assert.Contains("1000", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_document_over_the_file_size_limit_fails_alone_as_too_large()
    {
        var big = new byte[(50 * 1024 * 1024) + 1];
        Array.Fill(big, (byte)'a');

        // Over Kestrel's default body limit of 30 MB and under the gRPC message limit of 64 MB.
        var response = await server.Ingestion.UpsertDocumentsAsync(
            Wire.Upsert(_tenant, Wire.Bytes("big.txt", big, "text/plain", "public"), Wire.Text("small", "Shrews are tiny.", "public")),
            cancellationToken: Ct);

        Assert.Equal((DocumentOutcome.Failed, "too_large"), (response.Results[0].Outcome, response.Results[0].FailureKind));
        Assert.Contains("MB", response.Results[0].Error, StringComparison.Ordinal);
        Assert.Equal(DocumentOutcome.Added, response.Results[1].Outcome);
        Assert.Empty(server.LoggedErrors);
    }

    [Fact]
    public async Task A_request_over_the_message_size_limit_is_resource_exhausted()
    {
        var huge = new byte[RagPlatform.Cli.Hosting.RagServer.MaxMessageBytes + 1024];

        await RpcAssert.FailsAsync(
            StatusCode.ResourceExhausted,
            () => server.Ingestion.UpsertDocumentsAsync(Wire.Upsert(_tenant, Wire.Bytes("huge.bin", huge, "text/plain", "public")), cancellationToken: Ct).ResponseAsync);

        Assert.Single((await server.PushAsync(_tenant, Wire.Text("after", "Served after the refusal.", "public"))).Results);
    }

    [Fact]
    public async Task Pushing_into_a_source_that_is_not_a_push_source_is_failed_precondition()
    {
        using var files = new TempDirectory("files");
        files.Write("notes.txt", "Foxes cache food.");
        await server.Services.GetRequiredService<PathIngestor>().IngestAsync(
            new PathIngestionRequest { Paths = [files.Path], Tenant = _tenant, Source = "docs", Acl = AccessControlList.PublicOnly },
            progress: null,
            Ct);
        var request = Wire.Upsert(_tenant, Wire.Text("a", "Pushed text", "public"));
        request.Source = "docs";

        var ex = await RpcAssert.FailsAsync(StatusCode.FailedPrecondition, () => server.Ingestion.UpsertDocumentsAsync(request, cancellationToken: Ct).ResponseAsync);

        Assert.Contains("docs", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Single((await Search("foxes")).Hits);
    }

    [Fact]
    public async Task Documents_pushed_into_a_named_source_are_kept_apart_from_the_default_one()
    {
        var request = Wire.Upsert(_tenant, Wire.Text("a", "Moles tunnel underground.", "public"));
        request.Source = "crm";
        var inCrm = (await server.Ingestion.UpsertDocumentsAsync(request, cancellationToken: Ct)).Results[0];
        var inPush = (await server.PushAsync(_tenant, Wire.Text("a", "Voles nibble roots.", "public"))).Results[0];

        Assert.Equal((DocumentOutcome.Added, DocumentOutcome.Added), (inCrm.Outcome, inPush.Outcome));
        Assert.NotEqual(inCrm.DocumentId, inPush.DocumentId);
        var crm = (await server.GetDocumentAsync(_tenant, inCrm.DocumentId)).Document;
        var push = (await server.GetDocumentAsync(_tenant, inPush.DocumentId)).Document;
        Assert.NotEqual(crm.SourceId, push.SourceId);
        var hit = Assert.Single((await Search("moles")).Hits);
        Assert.Equal(inCrm.DocumentId, hit.DocumentId);
    }

    [Fact]
    public async Task Deleting_by_key_and_by_id_removes_documents_from_retrieval_and_marks_them_deleted()
    {
        var pushed = await server.PushAsync(_tenant, Wire.Text("a", "Beavers build dams.", "public"), Wire.Text("b", "Beavers have flat tails.", "public"), Wire.Text("c", "Beavers are rodents.", "public"));
        Assert.Equal(3, (await Search("beavers")).Hits.Count);
        var request = new DeleteDocumentsRequest { Tenant = _tenant, ExternalKeys = { "a" }, DocumentIds = { pushed.Results[1].DocumentId } };

        var response = await server.Ingestion.DeleteDocumentsAsync(request, cancellationToken: Ct);

        Assert.Equal(2, response.Results.Count);
        Assert.All(response.Results, r => Assert.Equal(DocumentOutcome.Deleted, r.Outcome));
        Assert.Equal(
            new[] { pushed.Results[0].DocumentId, pushed.Results[1].DocumentId }.Order(),
            response.Results.Select(r => r.DocumentId).Order());
        var left = Assert.Single((await Search("beavers")).Hits);
        Assert.Equal(pushed.Results[2].DocumentId, left.DocumentId);
        foreach (var id in response.Results.Select(r => r.DocumentId))
        {
            Assert.Equal("deleted", (await server.GetDocumentAsync(_tenant, id)).Document.State);
        }
    }

    [Fact]
    public async Task Deleting_unknown_documents_reports_each_as_not_found()
    {
        var pushed = await server.PushAsync(_tenant, Wire.Text("a", "Hedgehogs roll up.", "public"));
        var unknownId = Guid.NewGuid().ToString();
        var request = new DeleteDocumentsRequest { Tenant = _tenant, ExternalKeys = { "a", "never-pushed" }, DocumentIds = { unknownId } };

        var response = await server.Ingestion.DeleteDocumentsAsync(request, cancellationToken: Ct);
        var again = await server.Ingestion.DeleteDocumentsAsync(new DeleteDocumentsRequest { Tenant = _tenant, ExternalKeys = { "a" } }, cancellationToken: Ct);

        Assert.Equal(DocumentOutcome.Deleted, Assert.Single(response.Results, r => r.ExternalKey == "a").Outcome);
        var neverPushed = Assert.Single(response.Results, r => r.ExternalKey == "never-pushed");
        Assert.Equal(DocumentOutcome.NotFound, neverPushed.Outcome);
        Assert.False(string.IsNullOrWhiteSpace(neverPushed.Error));
        Assert.Equal(DocumentOutcome.NotFound, Assert.Single(response.Results, r => r.DocumentId == unknownId).Outcome);
        var repeated = Assert.Single(again.Results);
        Assert.Equal((DocumentOutcome.NotFound, pushed.Results[0].DocumentId), (repeated.Outcome, repeated.DocumentId));
    }

    [Fact]
    public async Task A_document_of_another_tenant_can_be_neither_read_nor_deleted()
    {
        var id = (await server.PushAsync(_tenant, Wire.Text("a", "Stoats change colour.", "public"))).Results[0].DocumentId;
        var other = Wire.NewTenant("other");

        await RpcAssert.FailsAsync(StatusCode.NotFound, () => server.GetDocumentAsync(other, id));
        var delete = await server.Ingestion.DeleteDocumentsAsync(new DeleteDocumentsRequest { Tenant = other, DocumentIds = { id } }, cancellationToken: Ct);

        Assert.Equal(DocumentOutcome.NotFound, Assert.Single(delete.Results).Outcome);
        Assert.Single((await Search("stoats")).Hits);
    }

    [Fact]
    public async Task Get_document_of_an_unknown_id_is_not_found_and_of_a_malformed_id_is_invalid_argument()
    {
        await RpcAssert.FailsAsync(StatusCode.NotFound, () => server.GetDocumentAsync(_tenant, Guid.NewGuid().ToString()));
        await RpcAssert.InvalidArgumentAsync("document_id", () => server.GetDocumentAsync(_tenant, "not-a-uuid"));
        await RpcAssert.InvalidArgumentAsync("document_id", () => server.GetDocumentAsync(_tenant, string.Empty));
    }

    [Fact]
    public async Task Text_of_an_unknown_version_is_not_found()
    {
        var id = (await server.PushAsync(_tenant, Wire.Text("a", "Marmots whistle.", "public"))).Results[0].DocumentId;

        await RpcAssert.FailsAsync(StatusCode.NotFound, () => server.GetDocumentAsync(_tenant, id, includeText: true, version: 2));
        await RpcAssert.FailsAsync(StatusCode.NotFound, () => server.GetDocumentAsync(_tenant, id, includeText: true, version: 0));
        await RpcAssert.FailsAsync(StatusCode.NotFound, () => server.GetDocumentAsync(_tenant, id, includeText: true, version: -1));
    }

    [Fact]
    public async Task Get_document_describes_each_version()
    {
        var pdf = TestDocuments.Pdf(["First page about lemmings."], ["Second page about voles."]);
        var id = (await server.PushAsync(_tenant, Wire.Bytes("report.pdf", pdf, "application/pdf", "public"))).Results[0].DocumentId;

        var response = await server.GetDocumentAsync(_tenant, id, includeText: true);

        var version = Assert.Single(response.Versions);
        Assert.Equal((1, "pdf", "active", 2), (version.Version, version.Format, version.State, version.PageCount));
        Assert.True(version.ChunkCount >= 1);
        Assert.Matches("^[0-9a-f]{64}$", version.ContentHash);
        Assert.Contains("lemmings", response.Text, StringComparison.Ordinal);
        Assert.Contains("voles", response.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no tenant", "tenant")]
    [InlineData("no documents", "documents")]
    [InlineData("no external key", "documents[1].external_key")]
    [InlineData("no content", "documents[1].content")]
    [InlineData("acl without kind", "documents[1].acl")]
    [InlineData("acl of unknown kind", "documents[1].acl")]
    public async Task A_malformed_push_is_invalid_argument_naming_the_field(string spoiler, string field)
    {
        var request = Wire.Upsert(_tenant, Wire.Text("ok", "Fine text.", "public"), Wire.Text("k", "Some text.", "group:eng"));
        switch (spoiler)
        {
            case "no tenant":
                request.Tenant = string.Empty;
                break;
            case "no documents":
                request.Documents.Clear();
                break;
            case "no external key":
                request.Documents[1].ExternalKey = " ";
                break;
            case "no content":
                request.Documents[1].ClearContent();
                break;
            case "acl without kind":
                request.Documents[1].Acl.Add("eng");
                break;
            case "acl of unknown kind":
                request.Documents[1].Acl.Add("team:eng");
                break;
        }

        await RpcAssert.InvalidArgumentAsync(field, () => server.Ingestion.UpsertDocumentsAsync(request, cancellationToken: Ct).ResponseAsync);

        Assert.Empty((await Search("fine")).Hits);
    }

    [Theory]
    [InlineData("no tenant", "tenant")]
    [InlineData("nothing named", "external_keys")]
    [InlineData("malformed id", "document_ids[0]")]
    public async Task A_malformed_delete_is_invalid_argument_naming_the_field(string spoiler, string field)
    {
        var request = spoiler switch
        {
            "no tenant" => new DeleteDocumentsRequest { ExternalKeys = { "a" } },
            "nothing named" => new DeleteDocumentsRequest { Tenant = _tenant },
            _ => new DeleteDocumentsRequest { Tenant = _tenant, DocumentIds = { "42" } },
        };

        await RpcAssert.InvalidArgumentAsync(field, () => server.Ingestion.DeleteDocumentsAsync(request, cancellationToken: Ct).ResponseAsync);
    }

    [Fact]
    public async Task Text_pushed_with_non_ascii_characters_round_trips_exactly()
    {
        const string text = "Ærøskøbing harbour: naïve café — 鹭鸟 and 🦩 flamingos.";
        var id = (await server.PushAsync(_tenant, Wire.Text("a", text, "public"))).Results[0].DocumentId;

        var got = await server.GetDocumentAsync(_tenant, id, includeText: true);
        var hit = Assert.Single((await Search("flamingos")).Hits);

        Assert.Equal(text, got.Text);
        Assert.Equal(text, hit.Text);
        Assert.Equal(Encoding.UTF8.GetByteCount(text), hit.Citation.ByteEnd);
        Assert.Equal(ByteString.CopyFromUtf8(text), ByteString.CopyFrom(Encoding.UTF8.GetBytes(got.Text)));
    }

    private Task<RetrieveResponse> Search(string query, IEnumerable<string>? groups = null)
        => server.RetrieveAsync(Wire.Query(_tenant, query, groups: groups, topK: 100, mode: Mode.Keyword));
}
