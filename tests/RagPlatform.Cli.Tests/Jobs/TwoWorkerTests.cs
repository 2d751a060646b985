using RagPlatform.Core.Metadata;
using RagPlatform.Testing;

namespace RagPlatform.Cli.Tests.Jobs;

/// <summary>
/// Two indexer workers share one PostgreSQL-backed queue, and one index owner applies what they
/// stage. Every source is triggered twice at once: the syncs spread over both workers, two syncs of
/// one source never overlap, and every document is processed exactly once.
/// </summary>
[Collection(JobsProcessesCollection.Name)]
public sealed class TwoWorkerTests(PostgresServer postgres)
{
    private const int Sources = 4;
    private const int FilesPerSource = 120;
    private static readonly TimeSpan SyncTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Two_indexer_workers_share_the_queue_and_process_every_document_exactly_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var corpora = Enumerable.Range(0, Sources).Select(i => new SyncCorpus($"src{i}", FilesPerSource, seed: 10 + i)).ToList();
        try
        {
            await using var cluster = JobsCluster.OnPostgres(
                await postgres.CreateDatabaseAsync("jobs_two"),
                new Dictionary<string, string?>
                {
                    // Shorter than a sync: a live worker's job must not be handed to the other worker meanwhile.
                    ["RAG__Jobs__InvisibilityTimeout"] = "00:00:03",
                    ["RAG__Jobs__WorkerCount"] = "2",
                });
            var owner = await cluster.StartAsync("retrieval", "owner");
            var workers = new[] { await cluster.StartAsync("indexer", "worker-1"), await cluster.StartAsync("indexer", "worker-2") };
            var sources = new List<SourceInfo>();
            for (var i = 0; i < Sources; i++)
            {
                sources.Add(await cluster.AddFolderSourceAsync(owner, $"src{i}", corpora[i].Path));
            }

            // All at once, each source twice: the second sync of a source must wait for the first.
            var jobs = new List<(SourceInfo Source, string JobId)>();
            foreach (var round in new[] { 0, 1 })
            {
                foreach (var source in sources)
                {
                    jobs.Add((source, await cluster.TriggerSyncAsync(owner, source.Name)));
                }
            }

            var runs = new List<(SourceInfo Source, string JobId, RunInfo Run)>();
            foreach (var (source, jobId) in jobs)
            {
                runs.Add((source, jobId, await cluster.FinishedRunOfJobAsync(jobId, SyncTimeout)));
            }

            await cluster.JournalAppliedAsync(SyncTimeout);

            foreach (var (source, jobId, run) in runs)
            {
                Assert.True(run.Status == "succeeded", $"job {jobId} of {source.Name}: {run.Status} {run.Summary?.Error}\n{cluster.Logs()}");
            }

            // Each job ran once, on one worker; the work was spread over both workers.
            var servers = await cluster.ProcessingServersAsync();
            Assert.All(jobs, j => Assert.Single(servers[j.JobId]));
            foreach (var worker in workers)
            {
                Assert.Contains(servers.Values, s => s[0].Contains($":{worker.Id}:indexer", StringComparison.Ordinal));
            }

            foreach (var (source, i) in sources.Select((s, i) => (s, i)))
            {
                var ofSource = runs.Where(r => r.Source.Id == source.Id).Select(r => r.Run).ToList();
                var recorded = (await cluster.Metadata.ListRunsAsync(source.Id, 10, ct)).Where(r => r.JobId is not null).ToList();
                Assert.Equal(2, recorded.Count);

                // The two syncs of a source did not overlap: one added everything, the other found it all staged or indexed.
                var ordered = ofSource.OrderBy(r => r.StartedAt).ToList();
                Assert.True(ordered[1].StartedAt >= ordered[0].FinishedAt, $"{source.Name}: the second sync started at {ordered[1].StartedAt:O}, before the first finished at {ordered[0].FinishedAt:O}");
                Assert.Equal((FilesPerSource, 0), (ordered[0].Summary!.Added, ordered[0].Summary!.Unchanged));
                Assert.Equal((0, FilesPerSource), (ordered[1].Summary!.Added, ordered[1].Summary!.Unchanged));
                Assert.Equal(0, ofSource.Sum(r => r.Summary!.Updated + r.Summary.Failed + r.Summary.Deleted));

                // No document was staged twice: each one's first version is its only one, and it is searchable.
                var live = await cluster.AssertSourceMatchesFolderAsync(source, corpora[i]);
                Assert.All(live, d => Assert.Equal((1, 1), (d.LatestVersion, d.ActiveVersion)));
            }

            var reports = await cluster.ReconcileCheckAsync(owner);
            Assert.Equal(Sources, reports.Count);
            Assert.All(reports, r => JobsCluster.AssertNoDrift(r, FilesPerSource));
        }
        finally
        {
            corpora.ForEach(c => c.Dispose());
        }
    }
}
