using RagPlatform.Core;
using RagPlatform.Core.Documents;
using RagPlatform.IndexerJobs.Tests.Harness;
using RagPlatform.Testing;
using static RagPlatform.IndexerJobs.Tests.Sources.FolderSourceTests;

namespace RagPlatform.IndexerJobs.Tests.Sources;

/// <summary>A URL list source against a real local HTTP server that counts what it is asked.</summary>
public sealed class UrlSourceTests
{
    private static readonly DateTimeOffset Modified = new(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_second_sync_asks_conditionally_and_reads_and_writes_nothing_when_the_server_answers_304()
    {
        await using var server = await HttpTestServer.StartAsync();
        using var dir = new TempDirectory("urls");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        server.Serve("a.txt", new() { Body = "Aardvarks dig burrows at night.", ETag = "\"a-1\"" });
        server.Serve("b.txt", new() { Body = "Badgers share the burrows.", LastModified = Modified });
        var source = await host.AddUrlsAsync("web", server.WriteUrlList(dir, "a.txt", "b.txt"));

        var first = await host.SyncAsync(source);

        Assert.Equal((2, 0, 0, 0, 0), Counts(first));
        Assert.All(server.Requests, r => Assert.Equal((200, null, null), (r.Status, r.IfNoneMatch, r.IfModifiedSince)));
        Assert.Equal([server.Url("a.txt").AbsoluteUri], await host.VisibleAsync("aardvarks", "public"));
        var chunks = host.Keyword.Count;
        server.ClearRequests();

        var second = await host.SyncAsync(source);

        Assert.Equal((0, 0, 2, 0, 0), Counts(second));
        var a = Assert.Single(server.RequestsFor("a.txt"));
        Assert.Equal((304, "\"a-1\""), (a.Status, a.IfNoneMatch));
        var b = Assert.Single(server.RequestsFor("b.txt"));
        Assert.Equal(304, b.Status);
        Assert.Equal(Modified, DateTimeOffset.Parse(b.IfModifiedSince!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.All((await host.DocumentsAsync(source)).Values, d => Assert.Equal((1, 1), (d.ActiveVersion, d.LatestVersion)));
        Assert.Equal(chunks, host.Keyword.Count);
        await host.AssertConsistentAsync();
    }

    [Fact]
    public async Task A_changed_body_with_a_new_etag_becomes_a_new_version_changed_at_the_sync_that_saw_it()
    {
        await using var server = await HttpTestServer.StartAsync();
        using var dir = new TempDirectory("urls");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        server.Serve("a.txt", new() { Body = "Aardvarks dig burrows at night.", ETag = "\"a-1\"" });
        var source = await host.AddUrlsAsync("web", server.WriteUrlList(dir, "a.txt"));
        await host.SyncAsync(source);
        server.Change("a.txt", r => r with { Body = "Antelopes graze at dawn.", ETag = "\"a-2\"" });
        var syncTime = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        host.Clock.StopAt(syncTime);

        var result = await host.SyncAsync(source);

        Assert.Equal((0, 1, 0, 0, 0), Counts(result));
        var doc = (await host.DocumentsAsync(source))[server.Url("a.txt").AbsoluteUri];
        Assert.Equal(2, doc.ActiveVersion);
        Assert.Equal(syncTime, doc.ChangedAt);
        Assert.Equal("etag:\"a-2\"", doc.SourceStamp);
        Assert.Single(await host.VisibleAsync("antelopes", "public"));
        Assert.Empty(await host.VisibleAsync("aardvarks", "public"));
        await host.AssertConsistentAsync();
    }

    [Theory]
    [InlineData(404)]
    [InlineData(410)]
    public async Task A_url_that_is_gone_is_deleted_from_every_store(int status)
    {
        await using var server = await HttpTestServer.StartAsync();
        using var dir = new TempDirectory("urls");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        server.Serve("a.txt", new() { Body = "Aardvarks dig burrows at night.", ETag = "\"a-1\"" });
        server.Serve("b.txt", new() { Body = "Badgers share the burrows.", ETag = "\"b-1\"" });
        var source = await host.AddUrlsAsync("web", server.WriteUrlList(dir, "a.txt", "b.txt"));
        await host.SyncAsync(source);
        server.Change("a.txt", r => r with { Status = status });

        var result = await host.SyncAsync(source);

        Assert.Equal((0, 0, 1, 1, 0), Counts(result));
        Assert.Equal(DocumentState.Deleted, (await host.DocumentsAsync(source))[server.Url("a.txt").AbsoluteUri].State);
        Assert.Empty(await host.VisibleAsync("aardvarks", "public"));
        Assert.Single(await host.VisibleAsync("badgers", "public"));
        await host.AssertConsistentAsync();
    }

    [Fact]
    public async Task A_url_left_out_of_the_list_file_is_deleted()
    {
        await using var server = await HttpTestServer.StartAsync();
        using var dir = new TempDirectory("urls");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        server.Serve("a.txt", new() { Body = "Aardvarks dig burrows at night.", ETag = "\"a-1\"" });
        server.Serve("b.txt", new() { Body = "Badgers share the burrows.", ETag = "\"b-1\"" });
        var source = await host.AddUrlsAsync("web", server.WriteUrlList(dir, "a.txt", "b.txt"));
        await host.SyncAsync(source);
        server.WriteUrlList(dir, "b.txt");

        var result = await host.SyncAsync(source);

        Assert.Equal((0, 0, 1, 1, 0), Counts(result));
        Assert.Empty(await host.VisibleAsync("aardvarks", "public"));
        await host.AssertConsistentAsync();
    }

    [Fact]
    public async Task A_server_error_is_retried_then_recorded_as_transient_and_the_indexed_version_stays_searchable()
    {
        await using var server = await HttpTestServer.StartAsync();
        using var dir = new TempDirectory("urls");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path, settings: new Dictionary<string, string?> { ["Rag:Jobs:HttpAttempts"] = "3", ["Rag:Jobs:HttpRetryBaseDelay"] = "00:00:00.200" });
        server.Serve("a.txt", new() { Body = "Aardvarks dig burrows at night.", ETag = "\"a-1\"" });
        server.Serve("b.txt", new() { Body = "Badgers share the burrows.", ETag = "\"b-1\"" });
        var source = await host.AddUrlsAsync("web", server.WriteUrlList(dir, "a.txt", "b.txt"));
        await host.SyncAsync(source);
        server.Change("a.txt", r => r with { Status = 500 });
        server.ClearRequests();

        var result = await host.SyncAsync(source);

        Assert.Equal(3, server.RequestsFor("a.txt").Count);
        Assert.All(server.RequestsFor("a.txt"), r => Assert.Equal(500, r.Status));
        Assert.Equal([TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(400)], host.HttpBackoff);
        var failure = Assert.Single(result.Failures);
        Assert.Equal(FailureKind.Unavailable, failure.Kind);
        Assert.Contains("HTTP 500", failure.Reason, StringComparison.Ordinal);
        Assert.Equal(1, result.Unchanged);
        var doc = (await host.DocumentsAsync(source))[server.Url("a.txt").AbsoluteUri];
        Assert.Equal((DocumentState.Failed, 1, 1), (doc.State, doc.ActiveVersion, doc.FailureCount));
        Assert.Single(await host.VisibleAsync("aardvarks", "public"));
        await host.AssertConsistentAsync();
        var retry = Assert.Single(host.Scheduler!.ScheduledSyncs);
        Assert.Equal((source.Id, "retry", TimeSpan.FromSeconds(10)), (retry.SourceId, retry.Trigger, retry.Delay));
    }

    [Fact]
    public async Task A_document_that_recovers_from_a_transient_failure_with_the_same_content_keeps_its_version()
    {
        await using var server = await HttpTestServer.StartAsync();
        using var dir = new TempDirectory("urls");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path, settings: new Dictionary<string, string?> { ["Rag:Jobs:HttpAttempts"] = "1" });
        server.Serve("a.txt", new() { Body = "Aardvarks dig burrows at night.", ETag = "\"a-1\"" });
        var source = await host.AddUrlsAsync("web", server.WriteUrlList(dir, "a.txt"));
        await host.SyncAsync(source);
        server.Change("a.txt", r => r with { Status = 503 });
        await host.SyncAsync(source);
        server.Change("a.txt", r => r with { Status = 200 });

        var recovered = await host.SyncAsync(source, trigger: "retry");

        Assert.Equal(0, recovered.Failed);
        var doc = (await host.DocumentsAsync(source))[server.Url("a.txt").AbsoluteUri];
        Assert.Equal(DocumentState.Indexed, doc.State);
        Assert.Single(await host.VisibleAsync("aardvarks", "public"));
        await host.AssertConsistentAsync();

        // Invariant 1 of the write path: identical content changes nothing, even after a failed attempt.
        Assert.Equal((0, 1), (recovered.Updated, doc.ActiveVersion));
    }

    [Fact]
    public async Task A_server_that_does_not_answer_in_time_is_a_transient_timeout()
    {
        await using var server = await HttpTestServer.StartAsync();
        using var dir = new TempDirectory("urls");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path, settings: new Dictionary<string, string?> { ["Rag:Jobs:HttpAttempts"] = "2", ["Rag:Jobs:HttpTimeout"] = "00:00:00.300" });
        server.Serve("slow.txt", new() { Body = "Sloths move slowly.", ETag = "\"s-1\"", Delay = TimeSpan.FromSeconds(20) });
        var source = await host.AddUrlsAsync("web", server.WriteUrlList(dir, "slow.txt"));

        var result = await host.SyncAsync(source);

        var failure = Assert.Single(result.Failures);
        Assert.Equal(FailureKind.Timeout, failure.Kind);
        Assert.True(failure.Kind.IsTransient());
        Assert.Contains("no answer within 0.3 s", failure.Reason, StringComparison.Ordinal);
        Assert.Single(host.HttpBackoff);
        Assert.Single(host.Scheduler!.ScheduledSyncs);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_over_the_size_limit_is_a_permanent_too_large_failure(bool chunked)
    {
        await using var server = await HttpTestServer.StartAsync();
        using var dir = new TempDirectory("urls");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path, settings: new Dictionary<string, string?> { ["Rag:Limits:MaxFileBytes"] = "1000" });
        server.Serve("big.txt", new() { Body = string.Concat(Enumerable.Repeat("Giraffes are tall. ", 200)), ETag = "\"g-1\"", Chunked = chunked });
        server.Serve("small.txt", new() { Body = "Geckos are small.", ETag = "\"s-1\"" });
        var source = await host.AddUrlsAsync("web", server.WriteUrlList(dir, "big.txt", "small.txt"));

        var result = await host.SyncAsync(source);

        Assert.Equal(1, result.Added);
        var failure = Assert.Single(result.Failures);
        Assert.Equal(FailureKind.TooLarge, failure.Kind);
        Assert.Contains("Rag:Limits:MaxFileBytes", failure.Reason, StringComparison.Ordinal);
        Assert.Empty(host.Scheduler!.ScheduledSyncs);
        Assert.Single(server.RequestsFor("big.txt"));
    }

    [Fact]
    public async Task A_server_answering_304_to_an_unconditional_request_fails_that_url_only()
    {
        await using var server = await HttpTestServer.StartAsync();
        using var dir = new TempDirectory("urls");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path, settings: new Dictionary<string, string?> { ["Rag:Jobs:HttpAttempts"] = "1" });
        server.Serve("odd.txt", new() { Status = 304 });
        server.Serve("fine.txt", new() { Body = "Finches sing at dawn.", ETag = "\"f-1\"" });
        var source = await host.AddUrlsAsync("web", server.WriteUrlList(dir, "odd.txt", "fine.txt"));

        var result = await host.SyncAsync(source);

        Assert.Equal(1, result.Added);
        var failure = Assert.Single(result.Failures);
        Assert.Equal((server.Url("odd.txt").AbsoluteUri, FailureKind.Unreadable), (failure.ExternalKey, failure.Kind));
        Assert.Contains("304", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_url_list_with_a_bad_line_is_rejected_when_the_source_is_added_naming_the_line()
    {
        using var dir = new TempDirectory("urls");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        var file = dir.Write("urls.txt", "# docs\nhttps://example.org/a.html\n\nftp://example.org/b.txt\n");

        var error = await Assert.ThrowsAsync<RagValidationException>(() => host.AddUrlsAsync("web", file));

        Assert.Equal("spec.urls.file", error.Field);
        Assert.Contains("line 4", error.Reason, StringComparison.Ordinal);
        Assert.Contains("ftp://example.org/b.txt", error.Reason, StringComparison.Ordinal);
        Assert.Empty(await host.Catalog.ListAsync(JobsTestHost.Tenant, Ct));
    }
}
