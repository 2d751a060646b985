using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Core.Metadata;
using RagPlatform.IndexerJobs.Sources;
using RagPlatform.IndexerJobs.Sync;
using RagPlatform.IndexerJobs.Tests.Harness;
using RagPlatform.Testing;

namespace RagPlatform.IndexerJobs.Tests.Jobs;

/// <summary>Schedules on a real Hangfire server (in-memory storage) in the test process: triggered through Hangfire's API, never waited for by the clock.</summary>
[Collection(HangfireCollection.Name)]
public sealed class ScheduleTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_source_with_a_cron_gets_a_recurring_sync_whose_run_is_recorded_when_it_fires()
    {
        using var folder = new TempDirectory("folder");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path, hangfire: true);
        var a = folder.Write("a.md", "Ospreys fish in the estuary.");
        var source = await host.AddFolderAsync("docs", folder.Path, schedule: "0 3 * * *");

        var job = Assert.Single(RecurringSyncs(host), j => j.Id == RecurringId(source));
        Assert.Equal("0 3 * * *", job.Cron);

        var jobId = ((IRecurringJobManagerV2)host.Services.GetRequiredService<IRecurringJobManager>()).TriggerJob(RecurringId(source));

        var run = await JobsTestHost.EventuallyAsync(
            async () => (await host.Metadata.ListRunsAsync(source.Id, 10, Ct)).FirstOrDefault(r => r.FinishedAt is not null),
            "the triggered sync to record its run");
        Assert.Equal(("schedule", "succeeded", jobId), (run.Trigger, run.Status, run.JobId));
        Assert.Equal(1, run.Summary!.Added);
        Assert.Equal([a], await host.VisibleAsync("ospreys", "public"));
        await host.AssertConsistentAsync();
    }

    [Fact]
    public async Task Disabling_a_source_clearing_its_schedule_or_removing_it_removes_its_recurring_sync()
    {
        using var folder = new TempDirectory("folder");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path, hangfire: true);
        var source = await host.AddFolderAsync("docs", folder.Path, schedule: "*/5 * * * *");
        Assert.Contains(RecurringSyncs(host), j => j.Id == RecurringId(source));

        await host.Catalog.UpdateAsync(JobsTestHost.Tenant, "docs", JobsTestHost.FolderSpec(folder.Path, schedule: "*/5 * * * *", enabled: false), Ct);
        Assert.DoesNotContain(RecurringSyncs(host), j => j.Id == RecurringId(source));

        await host.Catalog.UpdateAsync(JobsTestHost.Tenant, "docs", JobsTestHost.FolderSpec(folder.Path, schedule: "*/10 * * * *"), Ct);
        Assert.Equal("*/10 * * * *", Assert.Single(RecurringSyncs(host), j => j.Id == RecurringId(source)).Cron);

        await host.Catalog.UpdateAsync(JobsTestHost.Tenant, "docs", JobsTestHost.FolderSpec(folder.Path, schedule: null), Ct);
        Assert.DoesNotContain(RecurringSyncs(host), j => j.Id == RecurringId(source));

        await host.Catalog.UpdateAsync(JobsTestHost.Tenant, "docs", JobsTestHost.FolderSpec(folder.Path, schedule: "*/10 * * * *"), Ct);
        Assert.Contains(RecurringSyncs(host), j => j.Id == RecurringId(source));
        await host.Catalog.DeleteAsync(JobsTestHost.Tenant, "docs", Ct);
        Assert.DoesNotContain(RecurringSyncs(host), j => j.Id == RecurringId(source));
    }

    [Fact]
    public async Task Two_syncs_of_one_source_triggered_at_once_never_overlap()
    {
        await using var server = await HttpTestServer.StartAsync();
        using var dir = new TempDirectory("urls");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path, hangfire: true, settings: new Dictionary<string, string?> { ["Rag:Jobs:HttpConcurrency"] = "1" });
        foreach (var name in new[] { "a.txt", "b.txt", "c.txt" })
        {
            server.Serve(name, new() { Body = $"Pelicans number {name}.", ETag = $"\"{name}\"", Delay = TimeSpan.FromMilliseconds(300) });
        }

        var source = await host.AddUrlsAsync("web", server.WriteUrlList(dir, "a.txt", "b.txt", "c.txt"));
        var scheduler = host.Services.GetRequiredService<ISyncScheduler>();

        var jobs = new[] { scheduler.Enqueue(source.Id, "manual", force: false), scheduler.Enqueue(source.Id, "manual", force: false) };

        var runs = await JobsTestHost.EventuallyAsync(
            async () => (await host.Metadata.ListRunsAsync(source.Id, 10, Ct)) is { Count: 2 } r && r.All(x => x.FinishedAt is not null) ? r : null,
            "both syncs to record their runs");
        Assert.Equal(jobs.Order(StringComparer.Ordinal), runs.Select(r => r.JobId!).Order(StringComparer.Ordinal));
        var (earlier, later) = (runs[1], runs[0]);
        Assert.True(earlier.FinishedAt <= later.StartedAt, $"runs overlap: {earlier.StartedAt:O}-{earlier.FinishedAt:O} and {later.StartedAt:O}-{later.FinishedAt:O}");

        // The listing runs before the pipeline: one fetch at a time means the second sync did not even list during the first.
        Assert.Equal(6, server.Requests.Count);
        Assert.Equal(1, server.MaxInFlight);
        Assert.Equal((3, 3), (earlier.Summary!.Added, later.Summary!.Unchanged));
    }

    [Fact]
    public async Task A_transient_failure_schedules_a_retry_sync_in_hangfire_after_the_first_backoff()
    {
        await using var server = await HttpTestServer.StartAsync();
        using var dir = new TempDirectory("urls");
        using var data = new TempDirectory("data");
        await using var host = await JobsTestHost.StartAsync(data.Path, hangfire: true, settings: new Dictionary<string, string?> { ["Rag:Jobs:HttpAttempts"] = "1", ["Rag:Jobs:RetryBaseDelay"] = "00:10:00", ["Rag:Jobs:RetryMaxDelay"] = "01:00:00" });
        server.Serve("down.txt", new() { Status = 502 });
        var source = await host.AddUrlsAsync("web", server.WriteUrlList(dir, "down.txt"));

        host.Services.GetRequiredService<ISyncScheduler>().Enqueue(source.Id, "manual", force: false);
        await JobsTestHost.EventuallyAsync(
            async () => (await host.Metadata.ListRunsAsync(source.Id, 10, Ct)).FirstOrDefault(r => r.FinishedAt is not null),
            "the sync to record its run");

        var scheduled = await JobsTestHost.EventuallyAsync(
            () => Task.FromResult(host.Services.GetRequiredService<JobStorage>().GetMonitoringApi().ScheduledJobs(0, 10).Select(j => j.Value).FirstOrDefault()),
            "a scheduled retry");
        Assert.Equal(typeof(IndexerJobs.Jobs.SourceSyncJob), scheduled.Job.Type);
        Assert.Equal(source.Id, scheduled.Job.Args[0]);
        Assert.Equal("retry", scheduled.Job.Args[1]);
        Assert.Equal(TimeSpan.FromMinutes(10), RoundToSeconds(scheduled.EnqueueAt - scheduled.ScheduledAt!.Value));
    }

    private static TimeSpan RoundToSeconds(TimeSpan span) => TimeSpan.FromSeconds(Math.Round(span.TotalSeconds));

    private static string RecurringId(SourceInfo source) => $"sync:{source.Id:N}";

    private static List<RecurringJobDto> RecurringSyncs(JobsTestHost host)
    {
        using var connection = host.Services.GetRequiredService<JobStorage>().GetConnection();
        return connection.GetRecurringJobs().Where(j => j.Id.StartsWith("sync:", StringComparison.Ordinal)).ToList();
    }
}
