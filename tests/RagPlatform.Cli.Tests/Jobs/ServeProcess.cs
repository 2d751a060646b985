using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RagPlatform.Cli.Tests.Jobs;

/// <summary>
/// A <c>rag serve</c> child process: started with a role and environment, ready once it says so on
/// standard error, stopped the way an operator or the OS stops it (SIGTERM, SIGKILL).
/// </summary>
internal sealed class ServeProcess : IAsyncDisposable
{
    /// <summary>Generous: two cores shared with parallel builds, and a cold JIT.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);

    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServeProcess(Process process, string role, string? url)
    {
        _process = process;
        Role = role;
        Url = url;
    }

    public string Role { get; }

    /// <summary>The gRPC endpoint; null for an indexer worker, which opens no port.</summary>
    public string? Url { get; }

    public int Id { get; private set; }

    /// <summary>The exit code once the process has exited; null while it runs.</summary>
    public int? ExitCode { get; private set; }

    /// <summary>Everything the process wrote so far, for failure messages.</summary>
    public string Log
    {
        get
        {
            lock (_gate)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<ServeProcess> StartAsync(string role, string dataDirectory, IDictionary<string, string?> environment, CancellationToken cancellationToken)
    {
        var url = role == "indexer" ? null : $"http://127.0.0.1:{FreePort()}";
        List<string> args = ["serve", "--role", role, "--data", dataDirectory, "--verbose"];
        if (url is not null)
        {
            args.AddRange(["--urls", url]);
        }

        var process = new Process { StartInfo = CliProcess.StartInfo(args, environment), EnableRaisingEvents = true };
        var server = new ServeProcess(process, role, url);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.Exited += (_, _) =>
        {
            server.ExitCode = process.ExitCode;
            server._ready.TrySetException(new InvalidOperationException($"rag serve --role {role} exited before it was ready. Output:\n{server.Log}"));
        };
        process.Start();
        server.Id = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server._ready.Task.WaitAsync(StartTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            await server.DisposeAsync();
            throw new TimeoutException($"rag serve --role {role} did not become ready in {StartTimeout}. Output:\n{server.Log}");
        }

        return server;
    }

    /// <summary>SIGKILL: the process gets no chance to clean up, as when it crashes or the OOM killer takes it.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync(CancellationToken.None);
        ExitCode = _process.ExitCode;
    }

    /// <summary>SIGTERM, what systemd, Kubernetes and <c>kill</c> send to stop a service (.NET's Process.Kill only sends SIGKILL).</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", Id.ToString(System.Globalization.CultureInfo.InvariantCulture) }, UseShellExecute = false })!;
        await kill.WaitForExitAsync(CancellationToken.None);
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -TERM {Id} exited {kill.ExitCode}");
        }
    }

    /// <summary>Waits for the process to exit; false when it is still running after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            ExitCode = _process.ExitCode;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Kills the process if it still runs (the end of a test), and waits until its output is read.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync(CancellationToken.None);
        ExitCode = _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _log.AppendLine(line);
        }

        if (line.StartsWith("rag: serving", StringComparison.Ordinal) || line.StartsWith("rag: indexer worker running", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
