namespace RagPlatform.Cli.Tests.Jobs;

/// <summary>Roles that cannot work with the metadata store given are refused up front, saying what to set.</summary>
[Collection(JobsProcessesCollection.Name)]
public sealed class ServeRoleTests
{
    [Fact]
    public async Task An_indexer_worker_on_sqlite_metadata_is_refused_with_the_settings_it_needs()
    {
        await using var cluster = JobsCluster.OnSqlite();

        var result = await CliProcess.RunAsync(["serve", "--role", "indexer", "--data", cluster.DataDirectory("worker")], cluster.Environment);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("RAG__Metadata__Provider=Postgres", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--role all", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sync_asked_of_a_retrieval_server_on_sqlite_fails_at_once_instead_of_waiting_for_a_worker()
    {
        using var corpus = new SyncCorpus("retrieval-only", files: 3, seed: 1);
        await using var cluster = JobsCluster.OnSqlite();
        var server = await cluster.StartAsync("retrieval", "all");
        await cluster.AddFolderSourceAsync(server, "files", corpus.Path);

        var result = await CliProcess.RunAsync(["sources", "sync", "files", "--wait", "--server", server.Url!], cluster.Environment);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no job host can run a sync", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("FailedPrecondition", result.Stderr, StringComparison.Ordinal);
    }
}
