using RagPlatform.Core.Configuration;
using RagPlatform.Core.Documents;
using RagPlatform.Core.Metadata;
using RagPlatform.Testing;

namespace RagPlatform.Storage.Tests.Metadata;

/// <summary>
/// With indexer workers, staging (a worker) and applying the journal (the index owner) run in
/// different processes, so a worker can stage while the owner is between the steps of an apply.
/// These tests replay such interleavings step by step on the metadata store, in the order
/// <c>DocumentCommitter.ApplyJournalAsync</c> takes its steps.
/// </summary>
public sealed class JournalInterleavingTests : IDisposable
{
    private readonly TempDirectory _data = new("interleaving");

    [Fact]
    public async Task A_deletion_staged_while_the_owner_applies_the_documents_first_version_keeps_the_document_deleted()
    {
        var ct = TestContext.Current.CancellationToken;
        var metadata = Microsoft.Extensions.DependencyInjection.StorageServiceCollectionExtensions.CreateMetadataStore(
            MetadataProvider.Sqlite, $"Data Source={_data.Combine("metadata.db")}");
        await metadata.MigrateAsync(ct);
        var source = await metadata.EnsureSourceAsync("default", "files", SourceKind.Folder, ct);
        var version = Version(source, "/files/a.md");

        // A worker stages the document's first version.
        var staged = new WriteBatch();
        staged.Versions.Add(version);
        await metadata.StageAsync(staged, ct);

        // The owner starts applying it: reads the journal and the staged version.
        var pending = await metadata.ListPendingOperationsAsync(ct);
        var toApply = await metadata.GetStagedVersionsAsync([.. pending.Select(p => (p.DocumentId, p.Version))], ct);

        // Meanwhile the file disappears and a worker's next sync stages the deletion.
        var deletion = new WriteBatch();
        deletion.Deletions.Add(version.Document.Id);
        await metadata.StageAsync(deletion, ct);

        // The owner, having written its indexes, activates and finishes what it read.
        var applied = new WriteBatch();
        applied.Versions.AddRange(toApply);
        await metadata.ActivateAsync(applied, DateTimeOffset.UtcNow, ct);
        await metadata.FinishAsync(applied, ct);

        // The deletion came last and is still in the journal: the document must stay deleted for
        // readers, and the next apply removes it from the indexes and purges it.
        var doc = (await metadata.FindDocumentAsync(source.Id, "/files/a.md", ct))!;
        Assert.Equal(DocumentState.Deleted, doc.State);
        Assert.Contains(await metadata.ListPendingOperationsAsync(ct), p => p.Kind == OperationKind.Delete && p.DocumentId == doc.Id);
    }

    private static NewVersion Version(SourceInfo source, string key) => new()
    {
        Document = new DocumentHeader { Id = Guid.CreateVersion7(), Tenant = source.Tenant, SourceId = source.Id, ExternalKey = key, Title = "a", Acl = "public" },
        Version = 1,
        ContentHash = "hash-a",
        PipelineFingerprint = "test",
        Format = "markdown",
        Text = "Alpha text.",
        Chunks =
        [
            new ChunkRecord { ChunkId = $"{key}#1", Ordinal = 0, Text = "Alpha text.", Start = 0, End = 11, HeadingPath = [], TokenCount = 2, ContentHash = "chunk-a" },
        ],
    };

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _data.Dispose();
    }
}
