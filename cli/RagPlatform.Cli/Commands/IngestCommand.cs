using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Cli.Hosting;
using RagPlatform.Core;
using RagPlatform.Core.Security;
using RagPlatform.Ingestion.Pipeline;
using RagPlatform.Ingestion.Sources;

namespace RagPlatform.Cli.Commands;

/// <summary><c>rag ingest PATH... [--tenant T] [--source NAME] [--acl P1,P2] [--data DIR] [--json]</c></summary>
internal static class IngestCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("PATH") { Description = "Files and folders to ingest (folders recursively)", Arity = ArgumentArity.OneOrMore };
        var tenant = CommonOptions.Tenant();
        var source = new Option<string>("--source") { Description = "Source the documents belong to; a file missing from a folder ingested before into the same source is deleted", DefaultValueFactory = _ => "default", HelpName = "NAME" };
        var acl = new Option<string?>("--acl") { Description = "Who may see the documents: user:NAME, group:NAME or public, comma-separated (default: nobody but an admin)", HelpName = "P1,P2" };
        var force = new Option<bool>("--force") { Description = "Reprocess every document even when unchanged" };
        var data = CommonOptions.Data();
        var json = CommonOptions.Json();
        var verbose = CommonOptions.Verbose();
        var command = new Command("ingest", "Parse, chunk, embed and index files and folders, incrementally")
        {
            paths, tenant, source, acl, force, data, json, verbose,
        };
        command.SetAction(async (parse, ct) =>
        {
            AccessControlList access;
            try
            {
                access = AccessControlList.Parse(parse.GetValue(acl), "--acl");
                ValidateName(parse.GetValue(tenant)!, "--tenant");
                ValidateName(parse.GetValue(source)!, "--source");
            }
            catch (RagValidationException ex)
            {
                Console.Error.WriteLine($"rag ingest: {ex.Message}");
                return ExitCodes.Usage;
            }

            var asJson = parse.GetValue(json);
            await using var services = CliHost.Build(CliHost.BuildConfiguration(parse.GetValue(data)), parse.GetValue(verbose));
            var result = await RunAsync(services, parse.GetValue(paths)!, parse.GetValue(tenant)!, parse.GetValue(source)!, access, parse.GetValue(force), asJson, ct);
            Print(result, asJson);
            return result.Succeeded == 0 && result.Failed > 0 ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return command;
    }

    internal static async Task<IngestionResult> RunAsync(IServiceProvider services, IReadOnlyList<string> paths, string tenant, string sourceName, AccessControlList acl, bool force, bool json, CancellationToken ct)
    {
        if (acl.IsEmpty && !json)
        {
            Console.Error.WriteLine("note: no --acl given: the documents are visible to nobody but an admin (deny by default). Pass --acl public to share them with the tenant.");
        }

        using var progress = ConsoleProgress.ForTerminal(json);
        var result = await services.GetRequiredService<PathIngestor>().IngestAsync(
            new PathIngestionRequest { Paths = paths, Tenant = tenant, Source = sourceName, Acl = acl, Force = force },
            progress,
            ct);
        if (result.KeywordOnlyReason is { } reason && !json)
        {
            Console.Error.WriteLine($"note: {reason}");
        }

        return result;
    }

    private static void Print(IngestionResult result, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                documents = new { added = result.Added, updated = result.Updated, unchanged = result.Unchanged, deleted = result.Deleted, failed = result.Failed },
                chunks = result.Chunks,
                failures = result.Failures.Select(f => new { path = f.ExternalKey, error = f.Reason, kind = f.Kind.ToString().ToLowerInvariant() }),
                elapsed_ms = (long)result.Elapsed.TotalMilliseconds,
                keyword_only = result.KeywordOnlyReason is not null,
            }));
            return;
        }

        Console.WriteLine($"{result.Added} added, {result.Updated} updated, {result.Unchanged} unchanged, {result.Deleted} deleted, {result.Failed} failed; {result.Chunks} chunks in {result.Elapsed.TotalSeconds:0.00} s");
        foreach (var failure in result.Failures)
        {
            Console.WriteLine($"  failed: {failure.ExternalKey}: {failure.Reason}");
        }
    }

    internal static void ValidateName(string value, string option)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > 128 || value.Any(char.IsControl))
        {
            throw new RagValidationException(option, $"'{value}' is not a valid name: use 1 to 128 printable characters");
        }
    }
}
