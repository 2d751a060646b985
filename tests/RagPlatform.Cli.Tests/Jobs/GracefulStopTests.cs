using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Cli.Hosting;
using RagPlatform.Ingestion.Pipeline;
using RagPlatform.Testing;

namespace RagPlatform.Cli.Tests.Jobs;

/// <summary>
/// A job host is stopped with SIGTERM while a sync runs: it finishes the batch in flight, records the
/// run as cancelled and exits 0 within its shutdown timeout, leaving nothing half-written; the sync
/// is then completed, by the restarted process (in-memory job storage) or by another worker that
/// gets the job back at once (PostgreSQL job storage).
/// </summary>
[Collection(JobsProcessesCollection.Name)]
public sealed class GracefulStopTests(PostgresServer postgres)
{
    private const int Files = 240;

    /// <summary>Hangfire's wait for running jobs plus the host's margin (IndexerJobsServiceCollectionExtensions).</summary>
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(75);

    private static readonly TimeSpan SyncTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Sigterm_during_a_sync_finishes_the_batch_in_flight_and_a_restart_resumes_the_sync()
    {
        var ct = TestContext.Current.CancellationToken;
        using var corpus = new SyncCorpus("stop", Files, seed: 7);

        // Larger batches than the other tests: a batch of 16 documents is being written when the signal comes.
        await using var cluster = JobsCluster.OnSqlite(new Dictionary<string, string?> { ["RAG__Limits__CommitBatchSize"] = "16" });
        var server = await cluster.StartAsync("all", "all");
        var source = await cluster.AddFolderSourceAsync(server, "files", corpus.Path);
        var jobId = await cluster.TriggerSyncAsync(server, "files");
        await Eventually.UntilAsync(
            async () => (await cluster.Metadata.ListDocumentsAsync(source.Id, ct)).Count >= 48,
            SyncTimeout,
            "the sync to commit a few batches",
            cluster.Logs);

        var clock = Stopwatch.StartNew();
        await server.TerminateAsync();
        var exited = await server.WaitForExitAsync(ShutdownTimeout);
        var stopTime = clock.Elapsed;
        TestContext.Current.TestOutputHelper?.WriteLine($"SIGTERM to exit: {stopTime.TotalSeconds:0.00} s");

        Assert.True(exited, $"rag serve still runs {ShutdownTimeout} after SIGTERM\n{cluster.Logs()}");
        Assert.True(server.ExitCode == 0, $"exit code {server.ExitCode}\n{cluster.Logs()}");
        var stopped = (await cluster.RunOfJobAsync(jobId))!;
        Assert.Equal("cancelled", stopped.Status);
        Assert.InRange(stopped.Summary!.Added, 1, Files - 1);

        // Nothing half-written: no journal entry open, every document the run staged is searchable,
        // and the indexes hold exactly those documents' chunks.
        Assert.Empty(await cluster.Metadata.ListPendingOperationsAsync(ct));
        var documents = await cluster.Metadata.ListDocumentsAsync(source.Id, ct);
        Assert.All(documents, d => Assert.True(d.ActiveVersion == 1 && d.LatestVersion == 1, $"{d.ExternalKey}: active {d.ActiveVersion}, latest {d.LatestVersion}"));
        Assert.Equal(stopped.Summary.Added, documents.Count);
        await AssertStoresAgreeAsync(cluster, documents.Count);

        // Started again, the server resumes the sync that did not finish, without being asked.
        var restarted = await cluster.StartAsync("all", "all");
        var resumed = await Eventually.WaitAsync(
            async () => (await cluster.Metadata.ListRunsAsync(source.Id, 10, ct)).FirstOrDefault(r => r.Trigger == "resume" && r.FinishedAt is not null),
            SyncTimeout,
            "the restarted server to resume the sync",
            cluster.Logs);
        Assert.True(resumed.Status == "succeeded", $"{resumed.Status}: {resumed.Summary?.Error}\n{cluster.Logs()}");
        Assert.NotEqual(jobId, resumed.JobId);
        Assert.Equal((Files - documents.Count, documents.Count, 0), (resumed.Summary!.Added, resumed.Summary.Unchanged, resumed.Summary.Updated));

        var live = await cluster.AssertSourceMatchesFolderAsync(source, corpus);
        JobsCluster.AssertNoDrift(Assert.Single(await cluster.ReconcileCheckAsync(restarted)), Files);
        Assert.Equal(Files, live.Count);
    }

    [Fact]
    public async Task Sigterm_to_an_indexer_worker_gives_its_sync_back_to_the_queue_for_another_worker()
    {
        var ct = TestContext.Current.CancellationToken;
        using var corpus = new SyncCorpus("stop-indexer", Files, seed: 8);
        await using var cluster = JobsCluster.OnPostgres(
            await postgres.CreateDatabaseAsync("jobs_stop"),
            new Dictionary<string, string?>
            {
                // Far longer than the test: the second worker can only get the job because the first gave it back.
                ["RAG__Jobs__InvisibilityTimeout"] = "01:00:00",
            });
        var owner = await cluster.StartAsync("retrieval", "owner");
        var first = await cluster.StartAsync("indexer", "worker-1");
        var source = await cluster.AddFolderSourceAsync(owner, "files", corpus.Path);
        var jobId = await cluster.TriggerSyncAsync(owner, "files");
        await Eventually.UntilAsync(
            async () => (await cluster.Metadata.ListDocumentsAsync(source.Id, ct)).Count >= 24,
            SyncTimeout,
            "the first worker to stage some documents",
            cluster.Logs);

        var clock = Stopwatch.StartNew();
        await first.TerminateAsync();
        var exited = await first.WaitForExitAsync(ShutdownTimeout);
        TestContext.Current.TestOutputHelper?.WriteLine($"SIGTERM to exit (indexer): {clock.Elapsed.TotalSeconds:0.00} s");

        Assert.True(exited, $"the indexer worker still runs {ShutdownTimeout} after SIGTERM\n{cluster.Logs()}");
        Assert.True(first.ExitCode == 0, $"exit code {first.ExitCode}\n{cluster.Logs()}");
        var stopped = (await cluster.RunOfJobAsync(jobId))!;
        Assert.Equal("cancelled", stopped.Status);
        Assert.InRange(stopped.Summary!.Added, 1, Files - 1);

        // What it staged is whole, waiting in the journal for the index owner: every document it wrote
        // is a complete staged or already applied first version, and the run counted exactly those.
        var documents = await cluster.Metadata.ListDocumentsAsync(source.Id, ct);
        Assert.Equal(stopped.Summary.Added, documents.Count);
        Assert.All(documents, d => Assert.True(d.LatestVersion == 1 && (d.ActiveVersion == 1 || d.PendingVersion == 1), $"{d.ExternalKey}: active {d.ActiveVersion}, staged {d.PendingVersion}, latest {d.LatestVersion}"));

        var second = await cluster.StartAsync("indexer", "worker-2");
        var finished = await cluster.FinishedRunOfJobAsync(jobId, SyncTimeout, after: stopped.Id);
        await cluster.JournalAppliedAsync(SyncTimeout);

        Assert.True(finished.Status == "succeeded", $"{finished.Status}: {finished.Summary?.Error}\n{cluster.Logs()}");
        Assert.Equal((Files - documents.Count, documents.Count), (finished.Summary!.Added, finished.Summary.Unchanged));
        var servers = (await cluster.ProcessingServersAsync())[jobId];
        Assert.Equal(2, servers.Count);
        Assert.Contains($":{second.Id}:indexer", servers[1], StringComparison.Ordinal);
        var live = await cluster.AssertSourceMatchesFolderAsync(source, corpus);
        JobsCluster.AssertNoDrift(Assert.Single(await cluster.ReconcileCheckAsync(owner)), live.Count);
    }

    private static async Task AssertStoresAgreeAsync(JobsCluster cluster, int documents)
    {
        var configuration = CliHost.BuildConfiguration(cluster.DataDirectory("all"), new Dictionary<string, string?> { ["Rag:Embeddings:ModelDirectory"] = cluster.ModelDirectory });
        await using var services = CliHost.Build(configuration);
        var report = await services.GetRequiredService<StoreConsistencyChecker>().CheckAsync(TestContext.Current.CancellationToken);
        Assert.True(report.Consistent, JsonSerializer.Serialize(report));
        Assert.Equal(documents, report.Documents);
    }
}
