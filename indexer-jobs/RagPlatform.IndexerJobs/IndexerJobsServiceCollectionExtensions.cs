using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Configuration;
using RagPlatform.IndexerJobs;
using RagPlatform.IndexerJobs.Freshness;
using RagPlatform.IndexerJobs.Jobs;
using RagPlatform.IndexerJobs.Reconciliation;
using RagPlatform.IndexerJobs.Sources;
using RagPlatform.IndexerJobs.Sync;

namespace Microsoft.Extensions.DependencyInjection;

public static class IndexerJobsServiceCollectionExtensions
{
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
        services.TryAddSingleton<SourceSyncService>();
        services.TryAddSingleton<SourceCatalog>();
        services.TryAddSingleton<Reconciler>();
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
        services.Replace(ServiceDescriptor.Singleton<ISyncScheduler, HangfireSyncScheduler>());
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
                        QueuePollInterval = TimeSpan.FromMilliseconds(500),
                        DistributedLockTimeout = TimeSpan.FromMinutes(1),
                    });
            }
            else
            {
                config.UseInMemoryStorage();
            }
        });

        if (rag.Role is PlatformRole.All or PlatformRole.Indexer)
        {
            services.AddHangfireServer(o =>
            {
                o.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:{rag.Role.ToString().ToLowerInvariant()}";
                o.WorkerCount = jobs.WorkerCount;
                o.Queues = rag.Role == PlatformRole.All ? [ReconcileJob.Queue, SourceSyncJob.Queue] : [SourceSyncJob.Queue];
                o.SchedulePollingInterval = TimeSpan.FromSeconds(1);

                // On shutdown a sync stops between batches; a batch being committed finishes.
                o.ShutdownTimeout = TimeSpan.FromMinutes(1);
            });
            services.AddHostedService<ScheduleRegistrar>();
        }

        if (rag.Role is PlatformRole.All or PlatformRole.Retrieval)
        {
            services.AddHostedService<JournalApplierService>();
        }

        services.TryAddTransient<SourceSyncJob>();
        services.TryAddTransient<ReconcileJob>();
        return services;
    }
}
