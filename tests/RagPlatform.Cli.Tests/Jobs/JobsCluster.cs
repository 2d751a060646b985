using System.Text.Json;
using Npgsql;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Documents;
using RagPlatform.Core.Metadata;
using RagPlatform.Testing;

namespace RagPlatform.Cli.Tests.Jobs;

/// <summary>
/// The tests of this folder start several `rag serve` processes, each using the machine's cores for
/// tens of seconds, so they run one class at a time and share one PostgreSQL cluster (each class
/// takes its own database).
/// </summary>
[CollectionDefinition(Name)]
public sealed class JobsProcessesCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "rag serve processes";
}

/// <summary>
/// What the processes of one test share: the settings every `rag serve` and CLI process gets
/// through the environment, the metadata store they all use (read here to watch them), and the
/// servers started, stopped at the end.
/// </summary>
internal sealed class JobsCluster : IAsyncDisposable
{
    private readonly TempDirectory _model = SharedModels.Embedder();
    private readonly TempDirectory _data = new("jobs-data");
    private readonly List<ServeProcess> _servers = [];

    private JobsCluster(MetadataProvider provider, string? connectionString, IDictionary<string, string?> settings)
    {
        Provider = provider;
        ConnectionString = connectionString ?? $"Data Source={System.IO.Path.Combine(DataDirectory("all"), "metadata.db")};Pooling=True";
        Environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            // A real (tiny) model on one thread and small commit batches: a sync of a few hundred files
            // takes several seconds, in many batches, so a process can be stopped in the middle of one.
            ["RAG__Embeddings__ModelDirectory"] = _model.Path,
            ["RAG__Embeddings__IntraOpThreads"] = "1",
            ["RAG__Limits__CommitBatchSize"] = "4",
            ["RAG__Jobs__ReconcileSchedule"] = string.Empty,
        };
        if (provider == MetadataProvider.Postgres)
        {
            Environment["RAG__Metadata__Provider"] = "Postgres";
            Environment["RAG__Metadata__ConnectionString"] = connectionString;
        }

        foreach (var (key, value) in settings)
        {
            Environment[key] = value;
        }

        Metadata = Microsoft.Extensions.DependencyInjection.StorageServiceCollectionExtensions.CreateMetadataStore(provider, ConnectionString);
    }

    public MetadataProvider Provider { get; }

    public string ConnectionString { get; }

    /// <summary>The environment of every process of the test.</summary>
    public Dictionary<string, string?> Environment { get; }

    public IMetadataStore Metadata { get; }

    public string ModelDirectory => _model.Path;

    /// <summary>Processes share a PostgreSQL database through their settings; with SQLite they share the data directory.</summary>
    public static JobsCluster OnPostgres(string connectionString, IDictionary<string, string?>? settings = null)
        => new(MetadataProvider.Postgres, connectionString, settings ?? new Dictionary<string, string?>());

    public static JobsCluster OnSqlite(IDictionary<string, string?>? settings = null)
        => new(MetadataProvider.Sqlite, null, settings ?? new Dictionary<string, string?>());

    /// <summary>A data directory per process name (indexes of the owner; indexer workers keep nothing there).</summary>
    public string DataDirectory(string name)
    {
        var dir = _data.Combine(name);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public async Task<ServeProcess> StartAsync(string role, string name)
    {
        var server = await ServeProcess.StartAsync(role, DataDirectory(name), Environment, TestContext.Current.CancellationToken);
        _servers.Add(server);
        return server;
    }

    /// <summary>Runs the CLI as a user would, with the cluster's settings; fails the test on a non-zero exit.</summary>
    public async Task<string> CliAsync(params string[] args)
    {
        var result = await CliProcess.RunAsync(args, Environment, TimeSpan.FromMinutes(3));
        Assert.True(result.ExitCode == 0, $"rag {string.Join(' ', args)}: {CliProcess.Describe(result)}\n{Logs()}");
        return result.Stdout;
    }

    /// <summary>Registers a folder source through a server and returns it as the metadata store has it.</summary>
    public async Task<SourceInfo> AddFolderSourceAsync(ServeProcess server, string name, string folder)
    {
        await CliAsync("sources", "add", name, "--folder", folder, "--acl", "public", "--server", server.Url!, "--json");
        return (await Metadata.FindSourceAsync("default", name, TestContext.Current.CancellationToken))!;
    }

    /// <summary>Queues a sync through a server (as `rag sources sync NAME --server URL` does) and returns the job id.</summary>
    public async Task<string> TriggerSyncAsync(ServeProcess server, string name)
    {
        using var json = JsonDocument.Parse(await CliAsync("sources", "sync", name, "--server", server.Url!, "--json"));
        return json.RootElement.GetProperty("job_id").GetString()!;
    }

    /// <summary>The latest run of a job (a job that was handed over records a run per attempt).</summary>
    public Task<RunInfo?> RunOfJobAsync(string jobId)
        => Metadata.FindRunAsync(null, jobId, TestContext.Current.CancellationToken);

    /// <summary>Waits for the latest run of a job to finish; <paramref name="after"/> is an earlier attempt's run, not the one to wait for.</summary>
    public async Task<RunInfo> FinishedRunOfJobAsync(string jobId, TimeSpan timeout, Guid? after = null)
        => await Eventually.WaitAsync(
            async () => await RunOfJobAsync(jobId) is { FinishedAt: not null } run && run.Id != after ? run : null,
            timeout,
            $"the run of job {jobId} to finish",
            Logs);

    /// <summary>Waits until the index owner has applied everything the workers staged.</summary>
    public async Task JournalAppliedAsync(TimeSpan timeout)
        => await Eventually.UntilAsync(
            async () => (await Metadata.ListPendingOperationsAsync(TestContext.Current.CancellationToken)).Count == 0,
            timeout,
            "the index owner to apply the journal",
            Logs);

    /// <summary>
    /// `rag reconcile --check --json` through the index owner: the keyword and vector indexes against
    /// the metadata store, and the metadata store against the folder listings. Returns the sources' reports.
    /// </summary>
    public async Task<List<JsonElement>> ReconcileCheckAsync(ServeProcess owner)
    {
        using var json = JsonDocument.Parse(await CliAsync("reconcile", "--check", "--json", "--server", owner.Url!));
        return json.RootElement.GetProperty("sources").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    /// <summary>Which Hangfire server processed each job (PostgreSQL job storage), by job id.</summary>
    public async Task<Dictionary<string, List<string>>> ProcessingServersAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand("SELECT jobid::text, data->>'ServerId' FROM hangfire.state WHERE name = 'Processing' ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var servers = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            var list = servers.TryGetValue(reader.GetString(0), out var l) ? l : servers[reader.GetString(0)] = [];
            list.Add(reader.GetString(1));
        }

        return servers;
    }

    /// <summary>
    /// Every file of the folder is one live, indexed document whose active version is its latest
    /// (nothing staged and left behind) and holds the file's current content; every other document
    /// of the source is deleted. Returns the live documents.
    /// </summary>
    public async Task<IReadOnlyList<DocumentSnapshot>> AssertSourceMatchesFolderAsync(SourceInfo source, SyncCorpus corpus)
    {
        var ct = TestContext.Current.CancellationToken;
        var documents = await Metadata.ListDocumentsAsync(source.Id, ct);
        var live = documents.Where(d => d.State != DocumentState.Deleted).OrderBy(d => d.ExternalKey, StringComparer.Ordinal).ToList();
        Assert.Equal(corpus.Files, live.Select(d => d.ExternalKey).ToList());
        foreach (var doc in live)
        {
            Assert.True(
                doc is { State: DocumentState.Indexed, PendingVersion: 0 } && doc.ActiveVersion == doc.LatestVersion,
                $"{doc.ExternalKey}: state {doc.State}, active version {doc.ActiveVersion}, latest {doc.LatestVersion}, staged {doc.PendingVersion}");
            var text = await Metadata.GetVersionTextAsync(source.Tenant, doc.Id, doc.ActiveVersion, ct);
            Assert.Contains(SyncCorpus.Marker(doc.ExternalKey), text, StringComparison.Ordinal);
        }

        return live;
    }

    /// <summary>Every store agrees with the metadata store, and the metadata store with the folder.</summary>
    public static void AssertNoDrift(JsonElement report, int documents)
    {
        Assert.Equal(documents, report.GetProperty("documents").GetInt32());
        foreach (var field in new[] { "keyword_missing", "keyword_orphans", "vector_incomplete", "vector_orphans", "pending_operations", "source_new", "source_missing", "source_changed" })
        {
            Assert.True(report.GetProperty(field).GetInt32() == 0, $"{field} is {report.GetProperty(field).GetInt32()}: {report}");
        }
    }

    /// <summary>The output of every server of the test, for failure messages.</summary>
    public string Logs()
        => string.Join("\n", _servers.Select(s => $"--- rag serve --role {s.Role} (pid {s.Id}{(s.ExitCode is { } code ? $", exited {code}" : string.Empty)}) ---\n{s.Log}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.StopAsync();
        }

        // Shown with the test's result: what every process said, for a failure or a closer look.
        TestContext.Current.TestOutputHelper?.WriteLine(Logs());
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        NpgsqlConnection.ClearAllPools();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _model.Dispose();
        _data.Dispose();
    }
}
