using RagPlatform.Core.Documents;
using RagPlatform.Core.Metadata;
using RagPlatform.IndexerJobs.Freshness;

namespace RagPlatform.IndexerJobs.Tests.Freshness;

/// <summary>Freshness figures from known timestamps, computed exactly.</summary>
public sealed class FreshnessCalculatorTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Window = TimeSpan.FromHours(1);

    [Fact]
    public void Lags_cover_documents_indexed_within_the_window_and_pending_ones()
    {
        var docs = new[]
        {
            Indexed("d1", changed: Now.AddMinutes(-30), indexed: Now.AddMinutes(-29)),                              // 60 s
            Indexed("d2", changed: Now.AddMinutes(-50), indexed: Now.AddMinutes(-40)),                              // 600 s
            Indexed("d3", changed: Now.AddMinutes(-20), indexed: Now.AddMinutes(-20).AddSeconds(30)),               // 30 s
            Indexed("outside", changed: Now.AddHours(-3), indexed: Now.AddHours(-2)),                               // left out: before the window
            Pending("p1", firstSeen: Now.AddMinutes(-3), changed: Now.AddMinutes(-2)),                              // 120 s so far
            Doc("gone", DocumentState.Deleted) with { ChangedAt = Now.AddMinutes(-5), IndexedAt = Now.AddMinutes(-1) },
            Doc("broken", DocumentState.Failed) with { FailureKind = FailureKind.Corrupt },
        };

        var f = FreshnessCalculator.Compute(Source(), docs, lastSuccess: Now.AddMinutes(-1), Now, Window, stalest: 2);

        Assert.Equal(1, f.Pending);
        Assert.Equal(1, f.Failed);
        Assert.Equal(TimeSpan.FromSeconds(60), f.LagP50);   // [30, 60, 120, 600]: rank ceil(0.5 * 4) = 2
        Assert.Equal(TimeSpan.FromSeconds(600), f.LagP95);  // rank ceil(0.95 * 4) = 4
        Assert.Equal(TimeSpan.FromSeconds(600), f.LagMax);
        Assert.Equal(Now.AddMinutes(-1), f.LastSuccess);
        Assert.Equal(["d2", "p1"], f.Stalest.Select(s => s.ExternalKey));
        Assert.True(f.Stalest[1].Pending);
        Assert.Null(f.Stalest[1].IndexedAt);
        Assert.Equal(Now.AddMinutes(-40), f.Stalest[0].IndexedAt);
    }

    [Fact]
    public void First_ingestion_of_an_old_file_counts_from_when_the_platform_first_saw_it()
    {
        var old = Doc("old.md", DocumentState.Indexed) with
        {
            CreatedAt = Now.AddMinutes(-10),
            ChangedAt = Now.AddDays(-300),
            IndexedAt = Now.AddMinutes(-9),
        };

        var f = FreshnessCalculator.Compute(Source(objective: TimeSpan.FromMinutes(5)), [old], Now.AddMinutes(-1), Now, Window);

        Assert.Equal(TimeSpan.FromMinutes(1), f.LagMax);
        Assert.False(f.Breached);
    }

    [Fact]
    public void A_document_with_a_staged_version_counts_as_pending_from_the_change_of_that_version()
    {
        var doc = Indexed("d", changed: Now.AddMinutes(-30), indexed: Now.AddMinutes(-29)) with
        {
            PendingVersion = 2,
            PendingChangedAt = Now.AddMinutes(-4),
        };

        var f = FreshnessCalculator.Compute(Source(), [doc], Now, Now, Window, stalest: 1);

        Assert.Equal(1, f.Pending);
        Assert.Equal(TimeSpan.FromMinutes(4), f.LagMax);
        Assert.True(Assert.Single(f.Stalest).Pending);
    }

    [Fact]
    public void A_change_time_after_indexing_gives_no_negative_lag()
    {
        var skewed = Indexed("skewed", changed: Now.AddMinutes(-1), indexed: Now.AddMinutes(-2));

        var f = FreshnessCalculator.Compute(Source(), [skewed], Now, Now, Window);

        Assert.Equal(TimeSpan.Zero, f.LagMax);
    }

    [Fact]
    public void The_window_includes_a_document_indexed_exactly_at_its_start()
    {
        var edge = Indexed("edge", changed: Now - Window - TimeSpan.FromSeconds(7), indexed: Now - Window);
        var before = Indexed("before", changed: Now - Window - TimeSpan.FromSeconds(100), indexed: Now - Window - TimeSpan.FromTicks(1));

        var f = FreshnessCalculator.Compute(Source(), [edge, before], Now, Now, Window);

        Assert.Equal(TimeSpan.FromSeconds(7), f.LagMax);
    }

    [Theory]
    [InlineData(1, 0.50, 1)]
    [InlineData(1, 0.95, 1)]
    [InlineData(10, 0.50, 5)]
    [InlineData(10, 0.95, 10)]
    [InlineData(20, 0.50, 10)]
    [InlineData(20, 0.95, 19)]
    [InlineData(7, 0.50, 4)]
    [InlineData(100, 0.95, 95)]
    [InlineData(100, 0.50, 50)]
    public void Percentiles_are_nearest_rank(int count, double p, int expectedSeconds)
    {
        var sorted = Enumerable.Range(1, count).Select(s => TimeSpan.FromSeconds(s)).ToList();

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), FreshnessCalculator.Percentile(sorted, p));
    }

    [Fact]
    public void A_source_with_no_lags_reports_zeros()
    {
        var f = FreshnessCalculator.Compute(Source(objective: TimeSpan.FromMinutes(5)), [], Now.AddMinutes(-1), Now, Window);

        Assert.Equal(TimeSpan.Zero, f.LagP50);
        Assert.Equal(TimeSpan.Zero, f.LagP95);
        Assert.Equal(TimeSpan.Zero, f.LagMax);
        Assert.False(f.Breached);
    }

    [Fact]
    public void A_slow_document_breaches_the_objective_and_is_named()
    {
        var docs = new[]
        {
            Indexed("fast", changed: Now.AddMinutes(-30), indexed: Now.AddMinutes(-29)),
            Indexed("slow", changed: Now.AddMinutes(-50), indexed: Now.AddMinutes(-40)),
        };

        var f = FreshnessCalculator.Compute(Source(objective: TimeSpan.FromMinutes(5)), docs, Now.AddMinutes(-1), Now, Window);

        Assert.True(f.Breached);
        Assert.Contains("slow", f.BreachReason, StringComparison.Ordinal);
        Assert.Contains("took 10 min", f.BreachReason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lag_equal_to_the_objective_does_not_breach_it()
    {
        var doc = Indexed("on-time", changed: Now.AddMinutes(-30), indexed: Now.AddMinutes(-25));

        var f = FreshnessCalculator.Compute(Source(objective: TimeSpan.FromMinutes(5)), [doc], Now.AddMinutes(-1), Now, Window);

        Assert.False(f.Breached);
        Assert.Null(f.BreachReason);
    }

    [Fact]
    public void A_pending_document_waiting_longer_than_the_objective_breaches_it()
    {
        var docs = new[]
        {
            Indexed("fast", changed: Now.AddMinutes(-30), indexed: Now.AddMinutes(-29)),
            Pending("stuck", firstSeen: Now.AddMinutes(-20), changed: Now.AddMinutes(-20)),
        };

        var f = FreshnessCalculator.Compute(Source(objective: TimeSpan.FromMinutes(15)), docs, Now.AddMinutes(-1), Now, Window);

        Assert.True(f.Breached);
        Assert.Contains("stuck has waited 20 min", f.BreachReason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_scheduled_source_without_a_recent_successful_sync_breaches_its_objective()
    {
        var fast = Indexed("fast", changed: Now.AddHours(-2).AddSeconds(-1), indexed: Now.AddHours(-2));

        var stale = FreshnessCalculator.Compute(Source(objective: TimeSpan.FromHours(1)), [fast], lastSuccess: Now.AddHours(-2), Now, TimeSpan.FromHours(24));
        var never = FreshnessCalculator.Compute(Source(objective: TimeSpan.FromHours(1)) with { CreatedAt = Now.AddHours(-3) }, [], lastSuccess: null, Now, Window);
        var recent = FreshnessCalculator.Compute(Source(objective: TimeSpan.FromHours(1)), [fast], lastSuccess: Now.AddMinutes(-59), Now, TimeSpan.FromHours(24));

        Assert.True(stale.Breached);
        Assert.Contains("no successful sync for 2 h", stale.BreachReason, StringComparison.Ordinal);
        Assert.True(never.Breached);
        Assert.Contains("no successful sync since the source was registered 3 h ago", never.BreachReason, StringComparison.Ordinal);
        Assert.False(recent.Breached);
    }

    [Fact]
    public void Only_a_listed_enabled_source_on_a_schedule_is_expected_to_sync()
    {
        var objective = TimeSpan.FromHours(1);
        var longAgo = Now.AddDays(-2);

        var unscheduled = FreshnessCalculator.Compute(Source(objective: objective) with { Schedule = null }, [], longAgo, Now, Window);
        var disabled = FreshnessCalculator.Compute(Source(objective: objective) with { Enabled = false }, [], longAgo, Now, Window);
        var push = FreshnessCalculator.Compute(Source(objective: objective) with { Kind = SourceKind.Push, Schedule = null }, [], null, Now, Window);

        Assert.False(unscheduled.Breached);
        Assert.False(disabled.Breached);
        Assert.False(push.Breached);
    }

    [Fact]
    public void Without_an_objective_nothing_is_breached()
    {
        var docs = new[]
        {
            Indexed("slow", changed: Now.AddMinutes(-59), indexed: Now.AddMinutes(-1)),
            Pending("stuck", firstSeen: Now.AddDays(-3), changed: Now.AddDays(-3)),
        };

        var f = FreshnessCalculator.Compute(Source(objective: null), docs, lastSuccess: null, Now, Window);

        Assert.False(f.Breached);
        Assert.Null(f.BreachReason);
        Assert.Equal(TimeSpan.FromDays(3), f.LagMax);
    }

    private static SourceInfo Source(TimeSpan? objective = null) => new()
    {
        Id = Guid.NewGuid(),
        Tenant = "t1",
        Name = "docs",
        Kind = SourceKind.Folder,
        Schedule = "*/5 * * * *",
        FreshnessObjective = objective,
        CreatedAt = Now.AddDays(-10),
        UpdatedAt = Now.AddDays(-10),
    };

    private static DocumentSnapshot Doc(string key, DocumentState state) => new()
    {
        Id = Guid.NewGuid(),
        ExternalKey = key,
        State = state,
        ActiveVersion = state == DocumentState.Indexed ? 1 : 0,
        LatestVersion = 1,
        Acl = "public",
        Title = key,
        MetadataJson = "{}",
        CreatedAt = Now.AddDays(-2),
    };

    private static DocumentSnapshot Indexed(string key, DateTimeOffset changed, DateTimeOffset indexed)
        => Doc(key, DocumentState.Indexed) with { ChangedAt = changed, IndexedAt = indexed };

    private static DocumentSnapshot Pending(string key, DateTimeOffset firstSeen, DateTimeOffset changed)
        => Doc(key, DocumentState.Pending) with { CreatedAt = firstSeen, PendingVersion = 1, PendingChangedAt = changed };
}
