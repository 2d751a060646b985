using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Cli.Hosting;
using RagPlatform.Core.Security;
using RagPlatform.Retrieval;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag up</c>: the platform on its embedded defaults. Ingests the sample corpus (this
/// repository's own documentation: README.md and docs/) into the data directory, incrementally,
/// and answers a sample query.
/// </summary>
internal static class UpCommand
{
    public const string SampleQuery = "what happens to the indexes when ingestion is killed halfway";

    public static Command Create()
    {
        var data = CommonOptions.Data();
        var verbose = CommonOptions.Verbose();
        var command = new Command("up", "Ingest the sample corpus (this project's docs) and answer a query, on embedded defaults")
        {
            data, verbose,
        };
        command.SetAction(async (parse, ct) =>
        {
            var root = SharedLocations.RepositoryRoot;
            if (root is null)
            {
                Console.Error.WriteLine("rag up: the sample corpus is this repository's docs; run it from a clone of RagPlatform.");
                return ExitCodes.Usage;
            }

            await using var services = CliHost.Build(CliHost.BuildConfiguration(parse.GetValue(data)), parse.GetValue(verbose));
            string[] corpus = [Path.Combine(root, "README.md"), Path.Combine(root, "docs")];
            Console.WriteLine($"Ingesting the sample corpus ({string.Join(", ", corpus.Select(p => Path.GetRelativePath(root, p)))}) as tenant 'default', source 'sample', visible to everyone in the tenant...");
            var ingest = await IngestCommand.RunAsync(services, corpus, "default", "sample", AccessControlList.PublicOnly, force: false, json: false, ct);
            Console.WriteLine($"{ingest.Added} added, {ingest.Updated} updated, {ingest.Unchanged} unchanged, {ingest.Deleted} deleted, {ingest.Failed} failed; {ingest.Chunks} chunks in {ingest.Elapsed.TotalSeconds:0.00} s");

            Console.WriteLine($"\nrag query \"{SampleQuery}\" --top-k 3");
            var result = await services.GetRequiredService<Retriever>().RetrieveAsync(
                new RetrievalQuery { Tenant = "default", Caller = CallerIdentity.Anonymous, Text = SampleQuery, TopK = 3 },
                ct);
            QueryCommand.Print(result, json: false);
            return result.Hits.Count > 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }
}
