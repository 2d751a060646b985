using RagPlatform.Core.Documents;
using RagPlatform.Testing;

namespace RagPlatform.Cli.Tests.Jobs;

/// <summary>
/// A process syncing a folder is killed (SIGKILL) in the middle of the sync and files change. On
/// PostgreSQL a second indexer worker takes the job over once the dead one's fetch of it times out;
/// on SQLite the restarted server resumes the sync itself. Nothing the dead process staged is lost
/// or applied twice, and the stores end in agreement with the folder.
/// </summary>
[Collection(JobsProcessesCollection.Name)]
public sealed class WorkerKillTests(PostgresServer postgres)
{
    private static readonly TimeSpan SyncTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task An_embedded_server_killed_mid_sync_resumes_the_sync_after_restart_and_loses_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        using var corpus = new SyncCorpus("kill-embedded", files: 240, seed: 5);
        await using var cluster = JobsCluster.OnSqlite();
        var server = await cluster.StartAsync("all", "all");
        var source = await cluster.AddFolderSourceAsync(server, "files", corpus.Path);
        var jobId = await cluster.TriggerSyncAsync(server, "files");
        await Eventually.UntilAsync(
            async () => (await cluster.Metadata.ListDocumentsAsync(source.Id, ct)).Count >= 24,
            SyncTimeout,
            "the server to commit some documents",
            cluster.Logs);
        await server.KillAsync();

        var killedRun = (await cluster.RunOfJobAsync(jobId))!;
        var atKill = await cluster.Metadata.ListDocumentsAsync(source.Id, ct);
        Assert.Equal("running", killedRun.Status);
        Assert.InRange(atKill.Count, 24, corpus.Files.Count - 1);
        foreach (var n in new[] { 0, 1, 2, 120, 121, 239 })
        {
            corpus.Write(n, revision: 1);
        }

        corpus.Delete(3);
        corpus.Delete(200);
        corpus.Write(240, revision: 0);

        var restarted = await cluster.StartAsync("all", "all");
        var resumed = await Eventually.WaitAsync(
            async () => (await cluster.Metadata.ListRunsAsync(source.Id, 10, ct)).FirstOrDefault(r => r.Trigger == "resume" && r.FinishedAt is not null),
            SyncTimeout,
            "the restarted server to resume the sync",
            cluster.Logs);

        Assert.True(resumed.Status == "succeeded", $"{resumed.Status}: {resumed.Summary?.Error}\n{cluster.Logs()}");
        var runs = await cluster.Metadata.ListRunsAsync(source.Id, 10, ct);
        var closed = Assert.Single(runs, r => r.Id == killedRun.Id);
        Assert.Equal("failed", closed.Status);
        Assert.Contains("interrupted", closed.Summary!.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(runs, r => r.FinishedAt is null);
        Assert.Empty(await cluster.Metadata.ListPendingOperationsAsync(ct));
        var live = await cluster.AssertSourceMatchesFolderAsync(source, corpus);
        JobsCluster.AssertNoDrift(Assert.Single(await cluster.ReconcileCheckAsync(restarted)), live.Count);
    }

    [Fact]
    public async Task A_worker_killed_mid_sync_loses_nothing_and_another_worker_finishes_the_job()
    {
        var ct = TestContext.Current.CancellationToken;
        using var corpus = new SyncCorpus("kill", files: 240, seed: 4);
        await using var cluster = JobsCluster.OnPostgres(
            await postgres.CreateDatabaseAsync("jobs_kill"),
            new Dictionary<string, string?>
            {
                // A dead worker's job goes back to the queue after this long without its heartbeat.
                ["RAG__Jobs__InvisibilityTimeout"] = "00:00:08",
            });
        var owner = await cluster.StartAsync("retrieval", "owner");
        var first = await cluster.StartAsync("indexer", "worker-1");
        var source = await cluster.AddFolderSourceAsync(owner, "files", corpus.Path);

        var jobId = await cluster.TriggerSyncAsync(owner, "files");
        var staged = await Eventually.WaitAsync(
            async () => (await cluster.Metadata.ListDocumentsAsync(source.Id, ct)) is { Count: >= 24 } docs ? docs : null,
            SyncTimeout,
            "the first worker to stage some documents",
            cluster.Logs);
        await first.KillAsync();

        // It really was killed in the middle: its run is still recorded as running, part of the folder staged.
        var killedRun = (await cluster.RunOfJobAsync(jobId))!;
        var stagedAtKill = (await cluster.Metadata.ListDocumentsAsync(source.Id, ct)).Count;
        Assert.Null(killedRun.FinishedAt);
        Assert.Equal("running", killedRun.Status);
        Assert.InRange(stagedAtKill, staged.Count, corpus.Files.Count - 1);

        // The folder changes while no worker runs: files already staged and files not yet seen are
        // edited, some are deleted, new ones appear.
        foreach (var n in new[] { 0, 1, 2, 3, 100, 101, 150, 151, 200, 239 })
        {
            corpus.Write(n, revision: 1);
        }

        int[] deleted = [5, 6, 180];
        foreach (var n in deleted)
        {
            corpus.Delete(n);
        }

        foreach (var n in new[] { 240, 241 })
        {
            corpus.Write(n, revision: 0);
        }

        var second = await cluster.StartAsync("indexer", "worker-2");
        var handedOver = await cluster.FinishedRunOfJobAsync(jobId, SyncTimeout, after: killedRun.Id);
        await cluster.JournalAppliedAsync(SyncTimeout);

        Assert.True(handedOver.Status == "succeeded", $"{handedOver}\n{cluster.Logs()}");
        var servers = (await cluster.ProcessingServersAsync())[jobId];
        Assert.Equal(2, servers.Count);
        Assert.Contains($":{first.Id}:indexer", servers[0], StringComparison.Ordinal);
        Assert.Contains($":{second.Id}:indexer", servers[1], StringComparison.Ordinal);

        // The dead worker's run is closed, saying why, and nothing reads as running.
        var runs = await cluster.Metadata.ListRunsAsync(source.Id, 10, ct);
        var closed = Assert.Single(runs, r => r.Id == killedRun.Id);
        Assert.Equal("failed", closed.Status);
        Assert.Contains("interrupted", closed.Summary!.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(runs, r => r.FinishedAt is null);

        // Every file is indexed once with its current content; deleted files are gone from every store.
        var live = await cluster.AssertSourceMatchesFolderAsync(source, corpus);
        foreach (var n in deleted)
        {
            var doc = await cluster.Metadata.FindDocumentAsync(source.Id, corpus.Folder.Combine(SyncCorpus.FileName(n)), ct);
            Assert.True(doc is null or { State: DocumentState.Deleted }, $"{SyncCorpus.FileName(n)} was deleted from the folder but is {doc?.State}");
        }

        var report = Assert.Single(await cluster.ReconcileCheckAsync(owner));
        JobsCluster.AssertNoDrift(report, live.Count);
    }
}
