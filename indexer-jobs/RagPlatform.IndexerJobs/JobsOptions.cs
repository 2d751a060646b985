using System.ComponentModel.DataAnnotations;

namespace RagPlatform.IndexerJobs;

/// <summary>Job host settings, bound from <c>Rag:Jobs</c>.</summary>
public sealed class JobsOptions
{
    public const string SectionName = "Rag:Jobs";

    /// <summary>Attempts at a document that fails transiently (unreadable, timeout, endpoint down) before it waits for a replay.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Delay before the first retry of transient failures; doubles per attempt up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the index owner applies what indexer workers staged.</summary>
    public TimeSpan ApplyInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Cron of the reconciliation job (UTC); empty for none.</summary>
    public string ReconcileSchedule { get; set; } = "17 3 * * *";

    /// <summary>
    /// After this long without a heartbeat, a job whose worker died is handed to another worker
    /// (PostgreSQL storage). Long enough for a slow batch, short enough that a crash is repaired soon.
    /// </summary>
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a sync waits for another sync of the same source to finish.</summary>
    public TimeSpan SyncLockTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Jobs a worker runs at once (syncs of different sources).</summary>
    [Range(1, 64)]
    public int WorkerCount { get; set; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary>URL sources: time allowed for one fetch.</summary>
    public TimeSpan HttpTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>URL sources: attempts per fetch on 5xx, 429 and timeouts, with exponential backoff from <see cref="HttpRetryBaseDelay"/>.</summary>
    [Range(1, 10)]
    public int HttpAttempts { get; set; } = 3;

    public TimeSpan HttpRetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>URL sources: fetches in flight at once.</summary>
    [Range(1, 64)]
    public int HttpConcurrency { get; set; } = 4;

    /// <summary>The delay before retry number <paramref name="attempt"/> (1-based) of transient failures.</summary>
    public TimeSpan RetryDelay(int attempt)
    {
        var factor = Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        var delay = TimeSpan.FromTicks((long)Math.Min(RetryBaseDelay.Ticks * factor, RetryMaxDelay.Ticks));
        return delay;
    }
}
