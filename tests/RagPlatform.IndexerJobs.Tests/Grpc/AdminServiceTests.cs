using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Contracts.V1;
using RagPlatform.Core.Indexing;
using RagPlatform.Core.Metadata;
using RagPlatform.IndexerJobs.Tests.Harness;
using RagPlatform.Ingestion.Pipeline;
using RagPlatform.Testing;

namespace RagPlatform.IndexerJobs.Tests.Grpc;

/// <summary>SourcesService, JobsService and FreshnessService end to end: a real channel to the real server of <c>rag serve</c>.</summary>
[Collection(HangfireCollection.Name)]
public sealed class AdminServiceTests(AdminServer server) : IClassFixture<AdminServer>, IDisposable
{
    private const string Tenant = "t1";
    private readonly TempDirectory _files = new("admin");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private SourcesService.SourcesServiceClient Sources => new(server.Channel);

    private JobsService.JobsServiceClient Jobs => new(server.Channel);

    [Theory]
    [InlineData("bad-cron", "spec.schedule")]
    [InlineData("relative-folder", "spec.folder.path")]
    [InlineData("missing-folder", "spec.folder.path")]
    [InlineData("rooted-exclude", "spec.folder.exclude")]
    [InlineData("missing-url-file", "spec.urls.file")]
    [InlineData("bad-url-line", "spec.urls.file")]
    [InlineData("bad-acl", "spec.acl")]
    [InlineData("push-with-schedule", "spec.schedule")]
    [InlineData("no-kind", "spec.kind")]
    [InlineData("no-spec", "spec")]
    [InlineData("tiny-chunks", "spec.chunk_tokens")]
    [InlineData("negative-freshness", "spec.freshness_objective")]
    [InlineData("no-tenant", "tenant")]
    [InlineData("no-name", "name")]
    public async Task CreateSource_rejects_a_bad_setting_naming_its_field(string problem, string field)
    {
        var request = BadRequestFor(problem);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await Sources.CreateSourceAsync(request, cancellationToken: Ct));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        var violation = Assert.Single(error.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations);
        Assert.Equal(field, violation.Field);
        Assert.False(string.IsNullOrWhiteSpace(violation.Description));
        Assert.DoesNotContain((await Sources.ListSourcesAsync(new ListSourcesRequest(), cancellationToken: Ct)).Sources, s => s.Name == request.Name && request.Name.Length > 0);
    }

    [Fact]
    public async Task A_bad_url_list_is_rejected_naming_the_line()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () => await Sources.CreateSourceAsync(BadRequestFor("bad-url-line"), cancellationToken: Ct));

        Assert.Contains("line 3", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("not a url", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_kind_of_a_source_cannot_change()
    {
        await Sources.CreateSourceAsync(new CreateSourceRequest { Tenant = Tenant, Name = "kind-push", Spec = new SourceSpec { Push = new PushSource() } }, cancellationToken: Ct);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await Sources.UpdateSourceAsync(
            new UpdateSourceRequest { Tenant = Tenant, Name = "kind-push", Spec = FolderSpec(_files.Path) },
            cancellationToken: Ct));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("spec.kind", Assert.Single(error.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations).Field);
        Assert.Equal("push", (await Sources.GetSourceAsync(new GetSourceRequest { Tenant = Tenant, Name = "kind-push" }, cancellationToken: Ct)).Kind);
    }

    [Fact]
    public async Task A_second_source_of_the_same_name_already_exists()
    {
        var request = new CreateSourceRequest { Tenant = Tenant, Name = "dup", Spec = new SourceSpec { Push = new PushSource() } };
        await Sources.CreateSourceAsync(request, cancellationToken: Ct);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await Sources.CreateSourceAsync(request, cancellationToken: Ct));

        Assert.Equal(StatusCode.AlreadyExists, error.StatusCode);
        Assert.Contains("dup", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_source_or_document_is_not_found()
    {
        var calls = new Func<Task>[]
        {
            async () => await Sources.GetSourceAsync(new GetSourceRequest { Tenant = Tenant, Name = "nope" }, cancellationToken: Ct),
            async () => await Sources.UpdateSourceAsync(new UpdateSourceRequest { Tenant = Tenant, Name = "nope", Spec = new SourceSpec { Push = new PushSource() } }, cancellationToken: Ct),
            async () => await Sources.DeleteSourceAsync(new DeleteSourceRequest { Tenant = Tenant, Name = "nope" }, cancellationToken: Ct),
            async () => await Sources.TriggerSyncAsync(new TriggerSyncRequest { Tenant = Tenant, Name = "nope", Wait = true }, cancellationToken: Ct),
            async () => await Jobs.ListFailuresAsync(new ListFailuresRequest { Tenant = Tenant, Source = "nope" }, cancellationToken: Ct),
            async () => await Jobs.ListRunsAsync(new ListRunsRequest { Tenant = Tenant, Source = "nope" }, cancellationToken: Ct),
            async () => await Jobs.ReplayAsync(new ReplayRequest { Tenant = Tenant, Source = "nope" }, cancellationToken: Ct),
            async () => await Jobs.ReplayAsync(new ReplayRequest { Tenant = Tenant, DocumentId = Guid.NewGuid().ToString() }, cancellationToken: Ct),
        };

        foreach (var call in calls)
        {
            var error = await Assert.ThrowsAsync<RpcException>(call);
            Assert.Equal(StatusCode.NotFound, error.StatusCode);
        }

        var badId = await Assert.ThrowsAsync<RpcException>(async () => await Jobs.ReplayAsync(new ReplayRequest { Tenant = Tenant, DocumentId = "not-a-uuid" }, cancellationToken: Ct));
        Assert.Equal("document_id", Assert.Single(badId.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations).Field);
    }

    [Fact]
    public async Task TriggerSync_with_wait_returns_the_run_and_runs_are_listed_newest_first()
    {
        _files.Write("sync/a.md", "Quokkas smile for photographs.");
        _files.Write("sync/b.md", "Quolls hunt at night.");
        var created = await Sources.CreateSourceAsync(new CreateSourceRequest { Tenant = Tenant, Name = "sync-wait", Spec = FolderSpec(_files.Combine("sync")) }, cancellationToken: Ct);

        var first = await Sources.TriggerSyncAsync(new TriggerSyncRequest { Tenant = Tenant, Name = "sync-wait", Wait = true }, cancellationToken: Ct);
        var second = await Sources.TriggerSyncAsync(new TriggerSyncRequest { Tenant = Tenant, Name = "sync-wait", Wait = true }, cancellationToken: Ct);

        Assert.False(string.IsNullOrEmpty(first.JobId));
        Assert.Equal((first.JobId, "manual", "succeeded", "sync-wait", created.Id), (first.Run.JobId, first.Run.Trigger, first.Run.Status, first.Run.Source, first.Run.SourceId));
        Assert.Equal((2, 0, 0, 0, 0), (first.Run.Added, first.Run.Updated, first.Run.Unchanged, first.Run.Deleted, first.Run.Failed));
        Assert.True(first.Run.FinishedAt.ToDateTimeOffset() >= first.Run.StartedAt.ToDateTimeOffset());
        Assert.Equal(2, second.Run.Unchanged);

        var runs = (await Jobs.ListRunsAsync(new ListRunsRequest { Tenant = Tenant, Source = "sync-wait" }, cancellationToken: Ct)).Runs;
        Assert.Equal([second.Run.Id, first.Run.Id], runs.Select(r => r.Id));
        Assert.Equal(second.Run, runs[0]);
        Assert.Single((await Jobs.ListRunsAsync(new ListRunsRequest { Tenant = Tenant, Source = "sync-wait", Limit = 1 }, cancellationToken: Ct)).Runs);

        var freshness = await new FreshnessService.FreshnessServiceClient(server.Channel).GetFreshnessAsync(new GetFreshnessRequest { Tenant = Tenant, Source = "sync-wait", Stalest = 5 }, cancellationToken: Ct);
        var f = Assert.Single(freshness.Sources);
        Assert.Equal(("sync-wait", Tenant, 0, 0, false), (f.Name, f.Tenant, f.Pending, f.Failed, f.Breached));
        Assert.Equal(second.Run.FinishedAt, f.LastSuccess);
        Assert.Equal(2, f.Stalest.Count);
    }

    [Fact]
    public async Task Failures_are_listed_with_class_reason_and_attempts_and_replay_processes_them_again()
    {
        var one = WriteCorruptJson("dead/one.json", "replayed kiwi");
        var two = WriteCorruptJson("dead/two.json", "replayed kakapo");
        _files.Write("dead/fine.md", "Keas are clever parrots.");
        await Sources.CreateSourceAsync(new CreateSourceRequest { Tenant = Tenant, Name = "dead", Spec = FolderSpec(_files.Combine("dead")) }, cancellationToken: Ct);

        var sync = await Sources.TriggerSyncAsync(new TriggerSyncRequest { Tenant = Tenant, Name = "dead", Wait = true }, cancellationToken: Ct);

        Assert.Equal((1, 2), (sync.Run.Added, sync.Run.Failed));
        Assert.All(sync.Run.Failures, f => Assert.Equal("corrupt", f.Kind));
        var failures = (await Jobs.ListFailuresAsync(new ListFailuresRequest { Tenant = Tenant, Source = "dead" }, cancellationToken: Ct)).Documents;
        Assert.Equal([one, two], failures.Select(d => d.ExternalKey).Order(StringComparer.Ordinal));
        Assert.All(failures, d =>
        {
            Assert.Equal(("dead", "corrupt", false, 1, 0), (d.Source, d.FailureKind, d.Transient, d.Attempts, d.ActiveVersion));
            Assert.Contains("not valid JSON", d.Reason, StringComparison.Ordinal);
            Assert.NotNull(d.FailedAt);
        });
        Assert.Contains((await Jobs.ListFailuresAsync(new ListFailuresRequest { Tenant = Tenant }, cancellationToken: Ct)).Documents, d => d.ExternalKey == one);

        FixJsonInPlace(one);
        FixJsonInPlace(two);
        var single = await Jobs.ReplayAsync(new ReplayRequest { Tenant = Tenant, DocumentId = failures.Single(d => d.ExternalKey == one).DocumentId }, cancellationToken: Ct);

        Assert.Equal(("replay", "succeeded", 1, 0), (single.Run.Trigger, single.Run.Status, single.Run.Added, single.Run.Failed));
        Assert.Equal([two], (await Jobs.ListFailuresAsync(new ListFailuresRequest { Tenant = Tenant, Source = "dead" }, cancellationToken: Ct)).Documents.Select(d => d.ExternalKey));

        var all = await Jobs.ReplayAsync(new ReplayRequest { Tenant = Tenant, Source = "dead" }, cancellationToken: Ct);

        Assert.Equal(("replay", "succeeded", 1, 0, 0), (all.Run.Trigger, all.Run.Status, all.Run.Added, all.Run.Unchanged, all.Run.Failed));
        Assert.Empty((await Jobs.ListFailuresAsync(new ListFailuresRequest { Tenant = Tenant, Source = "dead" }, cancellationToken: Ct)).Documents);
        var runs = (await Jobs.ListRunsAsync(new ListRunsRequest { Tenant = Tenant, Source = "dead" }, cancellationToken: Ct)).Runs;
        Assert.Equal([all.Run.Id, single.Run.Id, sync.Run.Id], runs.Select(r => r.Id));
    }

    [Fact]
    public async Task DeleteSource_removes_every_document_from_every_store()
    {
        _files.Write("gone/a.md", "Wombats dig tunnels.");
        _files.Write("gone/b.md", "Wallabies hop away.");
        _files.Write("gone/c.md", "Wombats sleep by day.");
        var created = await Sources.CreateSourceAsync(new CreateSourceRequest { Tenant = Tenant, Name = "gone", Spec = FolderSpec(_files.Combine("gone")) }, cancellationToken: Ct);
        await Sources.TriggerSyncAsync(new TriggerSyncRequest { Tenant = Tenant, Name = "gone", Wait = true }, cancellationToken: Ct);
        var metadata = server.Services.GetRequiredService<IMetadataStore>();
        var ids = (await metadata.ListDocumentsAsync(Guid.Parse(created.Id), Ct)).Select(d => d.Id).ToHashSet();
        Assert.Equal(3, ids.Count);

        var deleted = await Sources.DeleteSourceAsync(new DeleteSourceRequest { Tenant = Tenant, Name = "gone" }, cancellationToken: Ct);

        Assert.Equal(3, deleted.DocumentsDeleted);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await Sources.GetSourceAsync(new GetSourceRequest { Tenant = Tenant, Name = "gone" }, cancellationToken: Ct));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.DoesNotContain(await metadata.ListActiveVersionsAsync(Ct), v => ids.Contains(v.DocumentId));
        Assert.DoesNotContain(await server.Services.GetRequiredService<IKeywordIndex>().ListDocumentVersionsAsync(Ct), v => ids.Contains(v.DocumentId));
        Assert.DoesNotContain(await server.Services.GetRequiredService<IVectorIndex>().ListDocumentVersionsAsync(Ct), v => ids.Contains(v.DocumentId));
        Assert.Empty(await metadata.ListDocumentsAsync(Guid.Parse(created.Id), Ct));
        var hits = await server.Services.GetRequiredService<IKeywordIndex>().SearchAsync("wombats wallabies", new SearchFilter { Tenant = Tenant, Principals = new HashSet<string>(["public"]) }, 10, Ct);
        Assert.Empty(hits);
        Assert.True((await server.Services.GetRequiredService<StoreConsistencyChecker>().CheckAsync(Ct)).Consistent);
    }

    [Fact]
    public async Task A_push_source_has_nothing_to_sync()
    {
        await Sources.CreateSourceAsync(new CreateSourceRequest { Tenant = Tenant, Name = "pushed", Spec = new SourceSpec { Push = new PushSource() } }, cancellationToken: Ct);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await Sources.TriggerSyncAsync(new TriggerSyncRequest { Tenant = Tenant, Name = "pushed", Wait = true }, deadline: DateTime.UtcNow.AddMinutes(1), cancellationToken: Ct));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("push source", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListRuns_shows_a_tenant_its_own_runs_however_busy_other_tenants_are()
    {
        var quiet = await Sources.CreateSourceAsync(new CreateSourceRequest { Tenant = "quiet", Name = "docs", Spec = FolderSpec(_files.Path) }, cancellationToken: Ct);
        var busy = await Sources.CreateSourceAsync(new CreateSourceRequest { Tenant = "busy", Name = "docs", Spec = FolderSpec(_files.Path) }, cancellationToken: Ct);
        var metadata = server.Services.GetRequiredService<IMetadataStore>();
        var start = new DateTimeOffset(DateTime.UtcNow.AddHours(-1).Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
        var quietRun = await RecordRunAsync(metadata, "quiet", Guid.Parse(quiet.Id), start);
        for (var i = 1; i <= 10; i++)
        {
            await RecordRunAsync(metadata, "busy", Guid.Parse(busy.Id), start.AddMinutes(i));
        }

        var quietRuns = (await Jobs.ListRunsAsync(new ListRunsRequest { Tenant = "quiet", Limit = 2 }, cancellationToken: Ct)).Runs;
        var busyRuns = (await Jobs.ListRunsAsync(new ListRunsRequest { Tenant = "busy", Limit = 3 }, cancellationToken: Ct)).Runs;

        Assert.Equal([quietRun.ToString()], quietRuns.Select(r => r.Id));
        Assert.Equal([start.AddMinutes(10), start.AddMinutes(9), start.AddMinutes(8)], busyRuns.Select(r => r.StartedAt.ToDateTimeOffset()));
        Assert.All(busyRuns, r => Assert.Equal(("busy", "docs"), (r.Tenant, r.Source)));
    }

    public void Dispose() => _files.Dispose();

    private static async Task<Guid> RecordRunAsync(IMetadataStore metadata, string tenant, Guid sourceId, DateTimeOffset startedAt)
    {
        var id = await metadata.StartRunAsync(tenant, sourceId, "schedule", startedAt, jobId: null, Ct);
        await metadata.FinishRunAsync(id, new RunSummary { FinishedAt = startedAt.AddSeconds(1), Unchanged = 1 }, Ct);
        return id;
    }

    private SourceSpec FolderSpec(string path)
    {
        var spec = new SourceSpec { Folder = new FolderSource { Path = path } };
        spec.Acl.Add("public");
        return spec;
    }

    private CreateSourceRequest BadRequestFor(string problem)
    {
        var name = "invalid-" + problem;
        var folder = new SourceSpec { Folder = new FolderSource { Path = _files.Path } };
        return problem switch
        {
            "bad-cron" => new() { Tenant = Tenant, Name = name, Spec = new SourceSpec(folder) { Schedule = "every minute" } },
            "relative-folder" => new() { Tenant = Tenant, Name = name, Spec = new SourceSpec { Folder = new FolderSource { Path = "docs/here" } } },
            "missing-folder" => new() { Tenant = Tenant, Name = name, Spec = new SourceSpec { Folder = new FolderSource { Path = _files.Combine("no-such-folder") } } },
            "rooted-exclude" => new() { Tenant = Tenant, Name = name, Spec = new SourceSpec { Folder = new FolderSource { Path = _files.Path, Exclude = { "/etc/**" } } } },
            "missing-url-file" => new() { Tenant = Tenant, Name = name, Spec = new SourceSpec { Urls = new UrlListSource { File = _files.Combine("no-such-urls.txt") } } },
            "bad-url-line" => new() { Tenant = Tenant, Name = name, Spec = new SourceSpec { Urls = new UrlListSource { File = _files.Write("bad-urls.txt", "https://example.org/a\n# fine so far\nnot a url\n") } } },
            "bad-acl" => new() { Tenant = Tenant, Name = name, Spec = new SourceSpec(folder) { Acl = { "alice" } } },
            "push-with-schedule" => new() { Tenant = Tenant, Name = name, Spec = new SourceSpec { Push = new PushSource(), Schedule = "*/5 * * * *" } },
            "no-kind" => new() { Tenant = Tenant, Name = name, Spec = new SourceSpec { Schedule = "*/5 * * * *" } },
            "no-spec" => new() { Tenant = Tenant, Name = name },
            "tiny-chunks" => new() { Tenant = Tenant, Name = name, Spec = new SourceSpec(folder) { ChunkTokens = 5 } },
            "negative-freshness" => new() { Tenant = Tenant, Name = name, Spec = new SourceSpec(folder) { FreshnessObjective = Duration.FromTimeSpan(TimeSpan.FromMinutes(-5)) } },
            "no-tenant" => new() { Tenant = string.Empty, Name = name, Spec = folder },
            "no-name" => new() { Tenant = Tenant, Name = " ", Spec = folder },
            _ => throw new ArgumentOutOfRangeException(nameof(problem), problem, "unknown case"),
        };
    }

    /// <summary>Invalid JSON of exactly the length of its fixed form (one brace short, one space more).</summary>
    private string WriteCorruptJson(string relative, string text) => _files.Write(relative, $"{{\"note\": \"{text}\" ");

    private static void FixJsonInPlace(string path)
    {
        var modified = File.GetLastWriteTimeUtc(path);
        var text = File.ReadAllText(path);
        File.WriteAllText(path, text[..^1] + "}");
        File.SetLastWriteTimeUtc(path, modified);
    }
}
