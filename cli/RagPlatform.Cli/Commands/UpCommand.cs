using System.CommandLine;
using Microsoft.Extensions.Hosting;
using RagPlatform.Cli.Hosting;
using RagPlatform.Contracts.V1;
using RagPlatform.Core.Security;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag up</c>: the platform on its embedded defaults. Ingests the sample corpus (this
/// repository's own documentation: README.md and docs/) into the data directory, incrementally,
/// starts the gRPC services on it, answers a sample query through them and keeps serving.
/// </summary>
internal static class UpCommand
{
    public const string SampleQuery = "what happens to the indexes when ingestion is killed halfway";

    public static Command Create()
    {
        var data = CommonOptions.Data();
        var urlsOption = ServeCommand.Urls();
        var verbose = CommonOptions.Verbose();
        var command = new Command("up", "Run the platform on embedded defaults: ingest the sample corpus (this project's docs), serve gRPC, answer a query through it")
        {
            data, urlsOption, verbose,
        };
        command.SetAction(async (parse, ct) =>
        {
            var root = SharedLocations.RepositoryRoot;
            if (root is null)
            {
                Console.Error.WriteLine("rag up: the sample corpus is this repository's docs; run it from a clone of RagPlatform.");
                return ExitCodes.Usage;
            }

            var configuration = CliHost.BuildConfiguration(parse.GetValue(data));
            var services = CliHost.Build(configuration, parse.GetValue(verbose));
            string[] corpus = [Path.Combine(root, "README.md"), Path.Combine(root, "docs")];
            Console.WriteLine($"Ingesting the sample corpus ({string.Join(", ", corpus.Select(p => Path.GetRelativePath(root, p)))}) as tenant 'default', source 'sample', visible to everyone in the tenant...");
            var ingest = await IngestCommand.RunAsync(services, corpus, "default", "sample", AccessControlList.PublicOnly, force: false, json: false, ct);
            Console.WriteLine($"{ingest.Added} added, {ingest.Updated} updated, {ingest.Unchanged} unchanged, {ingest.Deleted} deleted, {ingest.Failed} failed; {ingest.Chunks} chunks in {ingest.Elapsed.TotalSeconds:0.00} s");
            await services.DisposeAsync();

            // The same data directory, now served over gRPC; the query goes through the service.
            var urls = parse.GetValue(urlsOption)!;
            await using var app = RagServer.Build(configuration, urls, parse.GetValue(verbose));
            await RagServer.PrepareAsync(app.Services, ct);
            await app.StartAsync(ct);
            var url = app.Urls.First();
            Console.WriteLine($"\nThe gRPC services (rag.v1 retrieval, ingestion, sources, jobs and freshness; health; reflection) are listening on {url}, with the job host in the same process.");
            Console.WriteLine($"\nrag query \"{SampleQuery}\" --top-k 3 --server {url}");
            var request = new RetrieveRequest { Tenant = "default", Query = SampleQuery, TopK = 3 };
            var response = await QueryCommand.RemoteAsync(url, request, ct);
            QueryCommand.Print(response, json: false);
            Console.WriteLine($"\nStill serving on {url}; try ./rag query \"your question\" --server {url}. Ctrl+C stops.");
            await app.WaitForShutdownAsync(ct);
            return response.Hits.Count > 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }
}
