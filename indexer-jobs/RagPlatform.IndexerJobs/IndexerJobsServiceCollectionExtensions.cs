using Hangfire;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Metadata;
using RagPlatform.IndexerJobs;
using RagPlatform.IndexerJobs.Freshness;
using RagPlatform.IndexerJobs.Grpc;
using RagPlatform.IndexerJobs.Jobs;
using RagPlatform.IndexerJobs.Reconciliation;
using RagPlatform.IndexerJobs.Sources;
using RagPlatform.IndexerJobs.Sync;

namespace Microsoft.Extensions.DependencyInjection;

public static class IndexerJobsServiceCollectionExtensions
{
    /// <summary>
    /// How long a stopping job host waits for running jobs. On shutdown a sync stops between batches
    /// and a batch already staged completes, which takes seconds; the rest is margin for a slow disk.
    /// </summary>
    internal static readonly TimeSpan ShutdownTimeout = TimeSpan.FromMinutes(1);

    // What the host adds to Hangfire's wait: stopping Kestrel and flushing the indexes on dispose.
    private static readonly TimeSpan ShutdownMargin = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The source, sync, reconciliation and freshness services, without a job host (for a CLI working
    /// on a data directory: it runs syncs itself).
    /// </summary>
    public static IServiceCollection AddRagSources(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddRagIngestion();
        services.AddOptions<JobsOptions>().Bind(configuration.GetSection(JobsOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddHttpClient(UrlLister.HttpClientName, c => c.DefaultRequestHeaders.UserAgent.ParseAdd("RagPlatform/1.0"));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISourceLister, FolderLister>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISourceLister, UrlLister>());
        services.TryAddSingleton<ISyncScheduler, NoSyncScheduler>();
        services.TryAddSingleton<SourceSyncLocks>();
        services.TryAddSingleton<SourceSyncService>();
        services.TryAddSingleton<SourceCatalog>();
        services.TryAddSingleton<Reconciler>();
        services.TryAddSingleton<JobsAdmin>();
        services.TryAddSingleton<FreshnessReporter>();
        return services;
    }

    /// <summary>
    /// The job host on Hangfire: in-memory storage with SQLite metadata (one machine), PostgreSQL
    /// storage with PostgreSQL metadata (any number of workers sharing the queue). Which parts run
    /// follows the role: syncs run in <see cref="PlatformRole.All"/> and <see cref="PlatformRole.Indexer"/>;
    /// the journal applier and reconciliation where the indexes are (All and Retrieval).
    /// </summary>
    public static IServiceCollection AddRagJobs(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddRagSources(configuration);
        var rag = configuration.GetSection(RagOptions.SectionName).Get<RagOptions>() ?? new RagOptions();
        var jobs = configuration.GetSection(JobsOptions.SectionName).Get<JobsOptions>() ?? new JobsOptions();
        services.Replace(rag.Role == PlatformRole.Retrieval && rag.Metadata.Provider != MetadataProvider.Postgres
            ? ServiceDescriptor.Singleton<ISyncScheduler, NoWorkerSyncScheduler>()
            : ServiceDescriptor.Singleton<ISyncScheduler, HangfireSyncScheduler>());
        services.AddHangfire((sp, config) =>
        {
            config.SetDataCompatibilityLevel(CompatibilityLevel.Version_180).UseSimpleAssemblyNameTypeSerializer().UseRecommendedSerializerSettings();
            var metadata = sp.GetRequiredService<IOptions<RagOptions>>().Value.Metadata;
            if (metadata.Provider == MetadataProvider.Postgres)
            {
                config.UsePostgreSqlStorage(
                    o => o.UseNpgsqlConnection(metadata.ConnectionString),
                    new PostgreSqlStorageOptions
                    {
                        SchemaName = "hangfire",
                        PrepareSchemaIfNecessary = true,
                        InvisibilityTimeout = sp.GetRequiredService<IOptions<JobsOptions>>().Value.InvisibilityTimeout,

                        // A live worker keeps its job's fetch time fresh, so a sync longer than the
                        // invisibility timeout is never handed to a second worker while the first still
                        // runs it; only a dead worker's job is, once the timeout passes.
                        UseSlidingInvisibilityTimeout = true,
                        QueuePollInterval = TimeSpan.FromMilliseconds(500),
                        DistributedLockTimeout = TimeSpan.FromMinutes(1),
                    });
            }
            else
            {
                // Job ids that a restarted process never hands out again: runs are found by job id
                // (TriggerSync with wait), and a counter restarting at 1 would find an old run.
                config.UseInMemoryStorage(new InMemoryStorageOptions { IdType = InMemoryStorageIdType.Guid });
            }
        });

        if (rag.Role is PlatformRole.All or PlatformRole.Indexer)
        {
            services.AddHangfireServer(o =>
            {
                o.ServerName = ServerName(rag.Role);
                o.WorkerCount = jobs.WorkerCount;
                o.Queues = rag.Role == PlatformRole.All ? [ReconcileJob.Queue, SourceSyncJob.Queue] : [SourceSyncJob.Queue];
                o.SchedulePollingInterval = TimeSpan.FromSeconds(1);
                o.ShutdownTimeout = ShutdownTimeout;
            });
            services.AddHostedService<ScheduleRegistrar>();
        }
        else if (rag.Metadata.Provider == MetadataProvider.Postgres)
        {
            // Indexer workers register the reconciliation, but only the index owner can run it:
            // without a server on its queue here, those jobs would wait in the shared queue forever.
            services.AddHangfireServer(o =>
            {
                o.ServerName = ServerName(rag.Role);
                o.WorkerCount = 1;
                o.Queues = [ReconcileJob.Queue];
                o.ShutdownTimeout = ShutdownTimeout;
            });
        }

        // The host must wait for Hangfire's shutdown (a sync finishing its batch), not give up first
        // and let the process end mid-commit. The generic host's default (30 s) is shorter.
        services.Configure<HostOptions>(o =>
        {
            if (o.ShutdownTimeout < ShutdownTimeout + ShutdownMargin)
            {
                o.ShutdownTimeout = ShutdownTimeout + ShutdownMargin;
            }
        });

        if (rag.Role is PlatformRole.All or PlatformRole.Retrieval)
        {
            services.AddHostedService<JournalApplierService>();
        }

        services.TryAddTransient<SourceSyncJob>();
        services.TryAddTransient<ReconcileJob>();
        return services;
    }

    /// <summary>Names the process in Hangfire's server list (and in job histories): machine, process id and role.</summary>
    private static string ServerName(PlatformRole role) => $"{Environment.MachineName}:{Environment.ProcessId}:{role.ToString().ToLowerInvariant()}";
}
