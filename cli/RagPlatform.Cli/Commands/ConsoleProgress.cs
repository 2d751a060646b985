using System.Diagnostics;
using RagPlatform.Ingestion.Pipeline;

namespace RagPlatform.Cli.Commands;

/// <summary>A one-line progress bar on standard error, redrawn at most ten times a second.</summary>
internal sealed class ConsoleProgress : IProgress<IngestionProgress>, IDisposable
{
    private const int Width = 30;
    private readonly Stopwatch _since = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private long _lastDraw = -1000;
    private bool _drawn;

    /// <summary>Only when a person watches: standard error is a terminal.</summary>
    public static ConsoleProgress? ForTerminal(bool json) => json || Console.IsErrorRedirected ? null : new ConsoleProgress();

    public void Report(IngestionProgress value)
    {
        lock (_gate)
        {
            var now = _since.ElapsedMilliseconds;
            if (now - _lastDraw < 100 && value.Done < value.Total)
            {
                return;
            }

            _lastDraw = now;
            var fraction = value.Total == 0 ? 1 : (double)value.Done / value.Total;
            var filled = (int)Math.Round(fraction * Width);
            var name = value.Current is null ? string.Empty : Path.GetFileName(value.Current);
            if (name.Length > 40)
            {
                name = "…" + name[^39..];
            }

            Console.Error.Write($"\r[{new string('#', filled)}{new string('.', Width - filled)}] {value.Done}/{value.Total} {name}".PadRight(Math.Max(0, Console.WindowWidth - 1)));
            _drawn = true;
        }
    }

    public void Dispose()
    {
        if (_drawn)
        {
            Console.Error.WriteLine();
        }
    }
}
