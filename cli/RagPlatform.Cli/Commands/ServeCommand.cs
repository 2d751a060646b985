using System.CommandLine;
using Microsoft.Extensions.Hosting;
using RagPlatform.Cli.Hosting;

namespace RagPlatform.Cli.Commands;

/// <summary><c>rag serve [--data DIR] [--urls http://127.0.0.1:PORT]</c></summary>
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
        var verbose = CommonOptions.Verbose();
        var command = new Command("serve", "Run the gRPC retrieval and ingestion services on the embedded stores")
        {
            data, urls, verbose,
        };
        command.SetAction(async (parse, ct) =>
        {
            await using var app = RagServer.Build(CliHost.BuildConfiguration(parse.GetValue(data)), parse.GetValue(urls)!, parse.GetValue(verbose));
            await RagServer.PrepareAsync(app.Services, ct);
            await app.StartAsync(ct);
            Console.Error.WriteLine($"rag: serving rag.v1 (retrieval, ingestion, health, reflection) on {string.Join(", ", app.Urls)}; Ctrl+C stops");
            await app.WaitForShutdownAsync(ct);
            return ExitCodes.Ok;
        });
        return command;
    }
}
