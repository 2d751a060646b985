using System.CommandLine;

namespace RagPlatform.Cli.Commands;

/// <summary><c>rag bench ...</c>: commands that print figures. Tests never assert on timings; these do the measuring.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Benchmarks that print throughput and latency figures");
        command.Subcommands.Add(BenchIngestCommand.Create());
        command.Subcommands.Add(BenchQueryCommand.Create());
        command.Subcommands.Add(BenchSyncCommand.Create());
        return command;
    }
}
