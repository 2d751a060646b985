using Xunit;
using System.Diagnostics;
using Npgsql;

namespace RagPlatform.Testing;

/// <summary>
/// A real PostgreSQL server for tests. The README's test command starts one throwaway cluster and
/// passes it in <c>RAG_TEST_POSTGRES</c>; when that is unset (a test run from an IDE), this fixture
/// starts its own with <c>scripts/pg-throwaway</c>. Each test class takes its own database, so
/// classes run in parallel without seeing each other's rows. If no server can be started, the
/// tests that need it fail with the reason; they are never skipped.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private string? _ownClusterDir;

    public string AdminConnectionString { get; private set; } = string.Empty;

    public async ValueTask InitializeAsync()
    {
        var given = Environment.GetEnvironmentVariable("RAG_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(given))
        {
            AdminConnectionString = given;
            return;
        }

        _ownClusterDir = Path.Combine(Path.GetTempPath(), $"rag-pg-{Guid.NewGuid():N}");
        var (code, stdout, stderr) = await RunScriptAsync("start", _ownClusterDir);
        if (code != 0)
        {
            throw new InvalidOperationException(
                $"Could not start a throwaway PostgreSQL cluster (scripts/pg-throwaway exited {code}): {stderr.Trim()}. " +
                "Install PostgreSQL 15 or set RAG_TEST_POSTGRES to a superuser connection string.");
        }

        AdminConnectionString = stdout.Trim();
    }

    /// <summary>Creates an empty database and returns a connection string to it.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "t")
    {
        var name = $"{prefix}_{Guid.NewGuid():N}".ToLowerInvariant();
        await using (var conn = new NpgsqlConnection(AdminConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
            await cmd.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_ownClusterDir is not null)
        {
            await RunScriptAsync("stop", _ownClusterDir);
        }
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunScriptAsync(string verb, string dir)
    {
        var script = Path.Combine(RepositoryPaths.RepositoryRoot, "scripts", "pg-throwaway");
        var psi = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(verb);
        psi.ArgumentList.Add(dir);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
