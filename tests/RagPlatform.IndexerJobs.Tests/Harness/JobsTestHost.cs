using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RagPlatform.Core.Indexing;
using RagPlatform.Core.Metadata;
using RagPlatform.Core.Security;
using RagPlatform.IndexerJobs.Freshness;
using RagPlatform.IndexerJobs.Reconciliation;
using RagPlatform.IndexerJobs.Sources;
using RagPlatform.IndexerJobs.Sync;
using RagPlatform.Ingestion.Pipeline;

namespace RagPlatform.IndexerJobs.Tests.Harness;

/// <summary>
/// The job host's services over a temporary data directory, with real stores (SQLite, Lucene, the
/// vector index). Without Hangfire, syncs run directly and retries go to a <see cref="RecordingScheduler"/>;
/// with Hangfire, the real in-memory storage and a real BackgroundJobServer run in the host.
/// </summary>
internal sealed class JobsTestHost : IAsyncDisposable
{
    public const string Tenant = "t1";

    private readonly IHost _host;

    private JobsTestHost(IHost host, string dataDirectory, TestClock clock, RecordingScheduler? scheduler)
    {
        _host = host;
        DataDirectory = dataDirectory;
        Clock = clock;
        Scheduler = scheduler;
        if (host.Services.GetServices<ISourceLister>().OfType<UrlLister>().SingleOrDefault() is { } urls)
        {
            // Backoff between HTTP attempts is recorded instead of waited for.
            urls.Delay = (delay, _) =>
            {
                HttpBackoff.Enqueue(delay);
                return Task.CompletedTask;
            };
        }
    }

    public string DataDirectory { get; }

    public TestClock Clock { get; }

    /// <summary>Null when Hangfire schedules the syncs.</summary>
    public RecordingScheduler? Scheduler { get; }

    /// <summary>The waits the URL lister asked for between attempts at a fetch.</summary>
    public ConcurrentQueue<TimeSpan> HttpBackoff { get; } = new();

    public IServiceProvider Services => _host.Services;

    public IMetadataStore Metadata => Services.GetRequiredService<IMetadataStore>();

    public IKeywordIndex Keyword => Services.GetRequiredService<IKeywordIndex>();

    public IVectorIndex Vectors => Services.GetRequiredService<IVectorIndex>();

    public SourceCatalog Catalog => Services.GetRequiredService<SourceCatalog>();

    public SourceSyncService Sync => Services.GetRequiredService<SourceSyncService>();

    public Reconciler Reconciler => Services.GetRequiredService<Reconciler>();

    public FreshnessReporter Freshness => Services.GetRequiredService<FreshnessReporter>();

    public IngestionPipeline Pipeline => Services.GetRequiredService<IngestionPipeline>();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<JobsTestHost> StartAsync(string dataDirectory, bool hangfire = false, IDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Rag:DataDirectory"] = dataDirectory,
            ["Rag:Embeddings:IntraOpThreads"] = "1",
            ["Rag:Jobs:RetryBaseDelay"] = "00:00:10",
            ["Rag:Jobs:RetryMaxDelay"] = "00:01:00",
            ["Rag:Jobs:HttpTimeout"] = "00:00:05",
            ["Rag:Jobs:WorkerCount"] = "2",
            ["Rag:Jobs:ReconcileSchedule"] = string.Empty,
        };
        foreach (var kv in settings ?? new Dictionary<string, string?>())
        {
            values[kv.Key] = kv.Value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddConfiguration(configuration);
        var clock = new TestClock();
        builder.Services.AddSingleton<TimeProvider>(clock);
        RecordingScheduler? scheduler = null;
        builder.Services.AddRagOptions(configuration);
        if (hangfire)
        {
            builder.Services.AddRagJobs(configuration);
        }
        else
        {
            scheduler = new RecordingScheduler();
            builder.Services.AddSingleton<ISyncScheduler>(scheduler);
            builder.Services.AddRagSources(configuration);
        }

        Directory.CreateDirectory(dataDirectory);
        var host = builder.Build();
        await host.Services.GetRequiredService<IMetadataStore>().MigrateAsync(Ct);
        await host.StartAsync(Ct);
        return new JobsTestHost(host, dataDirectory, clock, scheduler);
    }

    public Task<SourceInfo> AddFolderAsync(string name, string path, string acl = "public", IReadOnlyList<string>? include = null, IReadOnlyList<string>? exclude = null, string? schedule = null, TimeSpan? objective = null)
        => Catalog.CreateAsync(Tenant, name, FolderSpec(path, acl, include, exclude, schedule, objective), Ct);

    public static SourceSpecification FolderSpec(string path, string acl = "public", IReadOnlyList<string>? include = null, IReadOnlyList<string>? exclude = null, string? schedule = null, TimeSpan? objective = null, bool enabled = true)
        => new()
        {
            Kind = SourceKind.Folder,
            Folder = new FolderSettings { Path = path, Include = include ?? [], Exclude = exclude ?? [] },
            Acl = AccessControlList.Parse(acl),
            Schedule = schedule,
            FreshnessObjective = objective,
            Enabled = enabled,
        };

    public Task<SourceInfo> AddUrlsAsync(string name, string file, string acl = "public", string? schedule = null)
        => Catalog.CreateAsync(Tenant, name, new SourceSpecification { Kind = SourceKind.Urls, Urls = new UrlListSettings { File = file }, Acl = AccessControlList.Parse(acl), Schedule = schedule }, Ct);

    public async Task<IngestionResult> SyncAsync(SourceInfo source, string trigger = "manual", bool force = false)
        => await Sync.SyncAsync(source.Id, trigger, jobId: null, force, Ct) ?? throw new InvalidOperationException($"Source {source.Name} had nothing to sync.");

    /// <summary>The documents of a source by external key, as the metadata store has them now.</summary>
    public async Task<Dictionary<string, DocumentSnapshot>> DocumentsAsync(SourceInfo source)
        => (await Metadata.ListDocumentsAsync(source.Id, Ct)).ToDictionary(d => d.ExternalKey, StringComparer.Ordinal);

    /// <summary>
    /// The external keys of the documents a caller with <paramref name="principals"/> finds for
    /// <paramref name="query"/> in the keyword index (ACL and tenant filtered inside the index), sorted.
    /// </summary>
    public async Task<IReadOnlyList<string>> VisibleAsync(string query, params string[] principals)
    {
        var hits = await Keyword.SearchAsync(
            query,
            new SearchFilter { Tenant = Tenant, Principals = new HashSet<string>(principals, StringComparer.Ordinal) },
            1000,
            Ct);
        var keys = new List<string>();
        foreach (var id in hits.Select(h => h.DocumentId).Distinct())
        {
            var details = await Metadata.GetDocumentAsync(Tenant, id, Ct) ?? throw new InvalidOperationException($"The keyword index holds document {id}, which the metadata store does not know.");
            keys.Add(details.Document.ExternalKey);
        }

        return keys.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The stores agree: no unfinished write, every searchable version complete in the indexes, nothing else there.</summary>
    public async Task<ConsistencyReport> AssertConsistentAsync()
    {
        var report = await Services.GetRequiredService<StoreConsistencyChecker>().CheckAsync(Ct);
        Assert.True(
            report.Consistent,
            $"stores disagree: {report.PendingOperations} pending, keyword missing [{string.Join(',', report.KeywordMissing)}], keyword orphans [{string.Join(',', report.KeywordOrphans)}], vectors incomplete [{string.Join(',', report.VectorIncomplete)}], vector orphans [{string.Join(',', report.VectorOrphans)}]");
        return report;
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T?>> condition, string what, TimeSpan? timeout = null)
        where T : class
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            if (await condition() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for {what}");
            }

            await Task.Delay(100, Ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(CancellationToken.None);
        if (_host is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
        else
        {
            _host.Dispose();
        }
    }
}
