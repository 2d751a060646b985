using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using RagPlatform.Cli.Hosting;
using RagPlatform.Core.Configuration;

namespace RagPlatform.Cli.Commands;

/// <summary><c>rag serve [--data DIR] [--urls http://127.0.0.1:PORT] [--role all|indexer|retrieval]</c></summary>
internal static class ServeCommand
{
    public static Option<string> Urls() => new("--urls")
    {
        Description = "Where to listen; loopback by default. Use http://0.0.0.0:PORT only behind TLS and an access policy",
        DefaultValueFactory = _ => RagServer.DefaultUrls,
        HelpName = "URL",
    };

    public static Command Create()
    {
        var data = CommonOptions.Data();
        var urls = Urls();
        var role = new Option<string>("--role")
        {
            Description = "all (services, job host and indexes in one process), indexer (only the job host: syncs and stages; needs PostgreSQL metadata to share the queue) or retrieval (services and indexes, no job host)",
            DefaultValueFactory = _ => "all",
        };
        role.AcceptOnlyFromAmong("all", "indexer", "retrieval");
        var verbose = CommonOptions.Verbose();
        var command = new Command("serve", "Run the platform: gRPC services (retrieval, ingestion, sources, jobs, freshness), the job host, or both")
        {
            data, urls, role, verbose,
        };
        command.SetAction(async (parse, ct) =>
        {
            var configuration = CliHost.BuildConfiguration(parse.GetValue(data), new Dictionary<string, string?> { ["Rag:Role"] = parse.GetValue(role) });
            if (parse.GetValue(role) == "indexer")
            {
                if (configuration.GetSection("Rag:Metadata").GetValue<MetadataProvider>("Provider") != MetadataProvider.Postgres)
                {
                    // On SQLite the worker's queue would be its own, in memory: syncs queued through the index
                    // owner would never reach it, and what it staged would reach no other machine.
                    Console.Error.WriteLine(
                        "rag: --role indexer shares the job queue and the metadata with the index owner through PostgreSQL: " +
                        "set RAG__Metadata__Provider=Postgres and RAG__Metadata__ConnectionString=... for this worker and the index owner, " +
                        "or run everything in one process with --role all");
                    return ExitCodes.Usage;
                }

                using var host = RagServer.BuildIndexer(configuration, parse.GetValue(verbose));
                await RagServer.PrepareAsync(host.Services, ct);
                await host.StartAsync(ct);
                Console.Error.WriteLine("rag: indexer worker running (syncs sources and stages changes for the index owner); Ctrl+C stops");
                await host.WaitForShutdownAsync(ct);
                return ExitCodes.Ok;
            }

            await using var app = RagServer.Build(configuration, parse.GetValue(urls)!, parse.GetValue(verbose));
            await RagServer.PrepareAsync(app.Services, ct);
            await app.StartAsync(ct);
            Console.Error.WriteLine($"rag: serving rag.v1 (retrieval, ingestion, sources, jobs, freshness, health, reflection) on {string.Join(", ", app.Urls)}; Ctrl+C stops");
            await app.WaitForShutdownAsync(ct);
            return ExitCodes.Ok;
        });
        return command;
    }
}
