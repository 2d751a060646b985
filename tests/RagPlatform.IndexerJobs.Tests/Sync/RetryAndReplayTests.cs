using RagPlatform.Core;
using RagPlatform.Core.Documents;
using RagPlatform.IndexerJobs.Grpc;
using RagPlatform.IndexerJobs.Tests.Harness;
using RagPlatform.Testing;

namespace RagPlatform.IndexerJobs.Tests.Sync;

/// <summary>Transient failures come back with backoff up to a cap; permanent ones wait as dead letters for a replay.</summary>
public sealed class RetryAndReplayTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void The_retry_delay_doubles_per_attempt_up_to_its_cap()
    {
        var options = new JobsOptions { RetryBaseDelay = TimeSpan.FromSeconds(30), RetryMaxDelay = TimeSpan.FromSeconds(100) };

        var delays = Enumerable.Range(1, 5).Select(options.RetryDelay).ToList();

        Assert.Equal([30, 60, 100, 100, 100], delays.Select(d => d.TotalSeconds));
        Assert.Equal(TimeSpan.FromSeconds(100), options.RetryDelay(1000));
    }

    [Fact]
    public async Task A_transient_failure_is_retried_with_growing_delays_until_max_attempts()
    {
        await using var server = await HttpTestServer.StartAsync();
        using var dir = new TempDirectory("urls");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path, settings: new Dictionary<string, string?>
        {
            ["Rag:Jobs:HttpAttempts"] = "1",
            ["Rag:Jobs:MaxAttempts"] = "4",
            ["Rag:Jobs:RetryBaseDelay"] = "00:00:10",
            ["Rag:Jobs:RetryMaxDelay"] = "00:00:15",
        });
        server.Serve("down.txt", new() { Status = 503 });
        var source = await host.AddUrlsAsync("web", server.WriteUrlList(dir, "down.txt"));

        await host.SyncAsync(source, trigger: "schedule");
        for (var retry = 0; retry < 3; retry++)
        {
            await host.SyncAsync(source, trigger: "retry");
        }

        Assert.Equal(4, server.RequestsFor("down.txt").Count);
        Assert.Equal([10, 15, 15], host.Scheduler!.ScheduledSyncs.Select(s => s.Delay.TotalSeconds));
        Assert.All(host.Scheduler.ScheduledSyncs, s => Assert.Equal((source.Id, "retry"), (s.SourceId, s.Trigger)));
        var dead = AdminMapping.ToWire(Assert.Single(await host.Metadata.ListFailedDocumentsAsync(JobsTestHost.Tenant, source.Id, Ct)), source.Name);
        Assert.Equal(("unavailable", true, 4, 0), (dead.FailureKind, dead.Transient, dead.Attempts, dead.ActiveVersion));
        Assert.Contains("HTTP 503", dead.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_permanent_failure_is_recorded_once_and_not_retried()
    {
        using var folder = new TempDirectory("folder");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        var pdf = folder.Write("broken.pdf", TestDocuments.CorruptPdf());
        folder.Write("fine.md", "Finches sing at dawn.");
        var source = await host.AddFolderAsync("docs", folder.Path);

        var first = await host.SyncAsync(source);
        var second = await host.SyncAsync(source);

        Assert.Equal(FailureKind.Corrupt, Assert.Single(first.Failures).Kind);
        Assert.Equal(FailureKind.Corrupt, Assert.Single(second.Failures).Kind);
        Assert.StartsWith("unchanged since it failed", second.Failures[0].Reason, StringComparison.Ordinal);
        Assert.Empty(host.Scheduler!.ScheduledSyncs);
        var dead = Assert.Single(await host.Metadata.ListFailedDocumentsAsync(JobsTestHost.Tenant, source.Id, Ct));
        Assert.Equal((pdf, FailureKind.Corrupt, 1), (dead.ExternalKey, dead.FailureKind, dead.FailureCount));
        await host.AssertConsistentAsync();
    }

    [Fact]
    public async Task Dead_letters_list_transient_and_permanent_failures_with_class_reason_and_attempts()
    {
        using var folder = new TempDirectory("folder");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        var pdf = folder.Write("broken.pdf", TestDocuments.CorruptPdf());
        var link = folder.Combine("elsewhere.md");
        var target = folder.Combine("..", Path.GetFileName(folder.Path) + "-target.md");
        File.CreateSymbolicLink(link, target);
        var source = await host.AddFolderAsync("docs", folder.Path);

        await host.SyncAsync(source);
        await host.SyncAsync(source, trigger: "retry");

        var dead = (await host.Metadata.ListFailedDocumentsAsync(JobsTestHost.Tenant, source.Id, Ct))
            .Select(d => AdminMapping.ToWire(d, source.Name))
            .OrderBy(d => d.ExternalKey, StringComparer.Ordinal)
            .ToList();
        Assert.Equal([pdf, link], dead.Select(d => d.ExternalKey));
        Assert.Equal(("corrupt", false, 1, "docs"), (dead[0].FailureKind, dead[0].Transient, dead[0].Attempts, dead[0].Source));
        Assert.Equal(("unreadable", true, 2, "docs"), (dead[1].FailureKind, dead[1].Transient, dead[1].Attempts, dead[1].Source));
        Assert.All(dead, d => Assert.False(string.IsNullOrWhiteSpace(d.Reason)));

        try
        {
            File.WriteAllText(target, "Elsewhere is a place of elks.");
            var healed = await host.SyncAsync(source, trigger: "retry");
            Assert.Equal(1, healed.Added);
            Assert.Equal([link], await host.VisibleAsync("elks", "public"));
            Assert.Equal([pdf], (await host.Metadata.ListFailedDocumentsAsync(JobsTestHost.Tenant, source.Id, Ct)).Select(d => d.ExternalKey));
        }
        finally
        {
            File.Delete(target);
        }
    }

    [Fact]
    public async Task Replay_of_one_document_processes_it_again_though_its_bytes_look_unchanged()
    {
        using var folder = new TempDirectory("folder");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        var bad = WriteCorruptJson(folder, "notes.json", "replayed walrus");
        var source = await host.AddFolderAsync("docs", folder.Path);
        await host.SyncAsync(source);

        // The parser (here: the file) is fixed without the cheap marker changing: a sync cannot tell.
        FixJsonInPlace(bad);
        var sync = await host.SyncAsync(source);
        Assert.Equal(FailureKind.Corrupt, Assert.Single(sync.Failures).Kind);

        var replay = await host.Sync.ReplayAsync(source.Id, bad, Ct);

        Assert.Equal((1, 0), (replay.Added + replay.Updated, replay.Failed));
        Assert.Equal([bad], await host.VisibleAsync("walrus", "public"));
        Assert.Empty(await host.Metadata.ListFailedDocumentsAsync(JobsTestHost.Tenant, source.Id, Ct));
        var run = await host.Metadata.FindRunAsync(replay.RunId, null, Ct);
        Assert.Equal(("replay", "succeeded"), (run!.Trigger, run.Status));
        await host.AssertConsistentAsync();
    }

    [Fact]
    public async Task Replay_of_a_source_processes_every_failed_document_and_only_those()
    {
        using var folder = new TempDirectory("folder");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        var one = WriteCorruptJson(folder, "one.json", "replayed narwhal");
        var two = WriteCorruptJson(folder, "two.json", "replayed octopus");
        var fine = folder.Write("fine.md", "Finches sing at dawn.");
        var source = await host.AddFolderAsync("docs", folder.Path);
        await host.SyncAsync(source);
        FixJsonInPlace(one);
        FixJsonInPlace(two);

        var replay = await host.Sync.ReplayAsync(source.Id, null, Ct);

        Assert.Equal((2, 0, 0), (replay.Added + replay.Updated, replay.Unchanged, replay.Failed));
        Assert.Equal([one], await host.VisibleAsync("narwhal", "public"));
        Assert.Equal([two], await host.VisibleAsync("octopus", "public"));
        Assert.Equal(1, (await host.DocumentsAsync(source))[fine].ActiveVersion);
        Assert.Empty(await host.Metadata.ListFailedDocumentsAsync(JobsTestHost.Tenant, source.Id, Ct));
        var runs = await host.Metadata.ListRunsAsync(source.Id, 10, Ct);
        Assert.Equal(["replay", "manual"], runs.Select(r => r.Trigger));
        Assert.Equal(2, runs[0].Summary!.Added + runs[0].Summary!.Updated);
        await host.AssertConsistentAsync();
    }

    [Fact]
    public async Task Replay_of_a_document_no_longer_listed_says_the_next_sync_deletes_it()
    {
        using var folder = new TempDirectory("folder");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path);
        var bad = WriteCorruptJson(folder, "notes.json", "vanished vole");
        var source = await host.AddFolderAsync("docs", folder.Path);
        await host.SyncAsync(source);
        File.Delete(bad);

        var error = await Assert.ThrowsAsync<RagNotFoundException>(() => host.Sync.ReplayAsync(source.Id, bad, Ct));

        Assert.Contains(bad, error.Message, StringComparison.Ordinal);
    }

    /// <summary>Invalid JSON of exactly the length of its fixed form (one brace short, one space more).</summary>
    private static string WriteCorruptJson(TempDirectory folder, string name, string text)
        => folder.Write(name, $"{{\"note\": \"{text}\" ");

    /// <summary>Makes the JSON valid with the same size and modification time, so the cheap marker stays the same.</summary>
    private static void FixJsonInPlace(string path)
    {
        var modified = File.GetLastWriteTimeUtc(path);
        var text = File.ReadAllText(path);
        File.WriteAllText(path, text[..^1] + "}");
        File.SetLastWriteTimeUtc(path, modified);
    }
}
