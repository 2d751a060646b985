using System.Diagnostics;
using System.Reflection;
using System.Text;
using RagPlatform.Testing;

namespace RagPlatform.Cli.Tests;

/// <summary>Runs the built <c>rag</c> CLI as a child process, as a user would.</summary>
internal static class CliProcess
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(3);

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>The CLI assembly built alongside the tests, in the same configuration.</summary>
    public static string CliDll
    {
        get
        {
            var configuration = typeof(CliProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            var dll = Path.Combine(RepositoryPaths.RepositoryRoot, "cli", "RagPlatform.Cli", "bin", configuration, "net10.0", "RagPlatform.Cli.dll");
            return File.Exists(dll) ? dll : throw new InvalidOperationException($"The CLI is not built at {dll}; build the solution first.");
        }
    }

    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IDictionary<string, string?>? environment = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(CliDll);
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        foreach (var kv in environment ?? new Dictionary<string, string?>())
        {
            psi.Environment[kv.Key] = kv.Value;
        }

        return psi;
    }

    public static async Task<Result> RunAsync(IEnumerable<string> args, IDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        using var process = Process.Start(StartInfo(args, environment))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // Killing closes the pipes, so everything written so far can still be read: a hang is only
            // diagnosable from where the output stops.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException(
                $"rag {string.Join(' ', args)} did not finish in {timeout ?? DefaultTimeout} and was killed (pid {process.Id})." +
                $"\nstdout so far: {Shown(await stdout)}\nstderr so far: {Shown(await stderr)}");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    private static string Shown(string output) => output.Length == 0 ? "(nothing)" : output;

    public static string Describe(Result r) => new StringBuilder().Append("exit ").Append(r.ExitCode).Append("\nstdout: ").Append(r.Stdout).Append("\nstderr: ").Append(r.Stderr).ToString();
}
