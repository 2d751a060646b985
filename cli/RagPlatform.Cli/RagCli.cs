using System.CommandLine;
using RagPlatform.Cli.Commands;

namespace RagPlatform.Cli;

/// <summary>The <c>rag</c> command tree.</summary>
internal static class RagCli
{
    public static RootCommand Create()
    {
        var root = new RootCommand("RagPlatform: ingest documents into hybrid indexes and retrieve permission-aware chunks with citations.");
        root.Subcommands.Add(UpCommand.Create());
        root.Subcommands.Add(IngestCommand.Create());
        root.Subcommands.Add(QueryCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(SourcesCommand.Create());
        root.Subcommands.Add(JobsCommand.Create());
        root.Subcommands.Add(ReconcileCommand.Create());
        root.Subcommands.Add(FreshnessCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        return root;
    }
}
