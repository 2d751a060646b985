using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Contracts.V1;
using RagPlatform.Core;
using RagPlatform.Core.Metadata;
using RagPlatform.IndexerJobs.Grpc;
using RagPlatform.IndexerJobs.Sources;
using RagPlatform.IndexerJobs.Sync;
using static RagPlatform.Cli.Commands.SourcesCommand;

namespace RagPlatform.Cli.Commands;

/// <summary><c>rag jobs failures|replay|runs</c>: dead letters, replay, run history.</summary>
internal static class JobsCommand
{
    public static Command Create()
    {
        var command = new Command("jobs", "Failed documents (dead letters), replay, and the history of runs");
        command.Subcommands.Add(Failures());
        command.Subcommands.Add(Replay());
        command.Subcommands.Add(Runs());
        return command;
    }

    private static Command Failures()
    {
        var (tenant, server, data, json) = (CommonOptions.Tenant(), AdminOutput.Server(), CommonOptions.Data(), CommonOptions.Json());
        var source = new Option<string?>("--source") { Description = "Only this source's failures", HelpName = "NAME" };
        var command = new Command("failures", "Documents whose last attempt failed, with class and reason") { source, tenant, server, data, json };
        command.SetAction(async (parse, ct) => await Run(async () =>
        {
            var request = new ListFailuresRequest { Tenant = parse.GetValue(tenant)!, Source = parse.GetValue(source) ?? string.Empty };
            ListFailuresResponse response;
            if (parse.GetValue(server) is { } url)
            {
                using var channel = AdminOutput.Channel(url);
                response = await new JobsService.JobsServiceClient(channel).ListFailuresAsync(request, cancellationToken: ct);
            }
            else
            {
                await using var services = await LocalAsync(parse.GetValue(data), ct);
                response = await services.GetRequiredService<JobsAdmin>().ListFailuresAsync(request, ct);
            }

            if (parse.GetValue(json))
            {
                AdminOutput.PrintJson(response);
                return;
            }

            Console.WriteLine($"{response.Documents.Count} failed documents");
            foreach (var d in response.Documents)
            {
                var retry = d.Transient ? $"transient, {d.Attempts} attempts" : "permanent: not retried until it changes";
                var still = d.ActiveVersion > 0 ? $"; version {d.ActiveVersion} still searchable" : string.Empty;
                Console.WriteLine($"  {d.Source}: {d.ExternalKey} [{d.FailureKind}, {retry}{still}]\n    {d.Reason}\n    id {d.DocumentId}");
            }
        }));
        return command;
    }

    private static Command Replay()
    {
        var (tenant, server, data, json) = (CommonOptions.Tenant(), AdminOutput.Server(), CommonOptions.Data(), CommonOptions.Json());
        var document = new Argument<string?>("DOCUMENT_ID") { Description = "The failed document to process again", Arity = ArgumentArity.ZeroOrOne };
        var source = new Option<string?>("--source") { Description = "Process every failed document of this source again", HelpName = "NAME" };
        var command = new Command("replay", "Process failed documents again, even though they did not change") { document, source, tenant, server, data, json };
        command.SetAction(async (parse, ct) => await Run(async () =>
        {
            var request = new ReplayRequest { Tenant = parse.GetValue(tenant)! };
            if (parse.GetValue(document) is { } id && parse.GetValue(source) is null)
            {
                request.DocumentId = id;
            }
            else if (parse.GetValue(source) is { } name && parse.GetValue(document) is null)
            {
                request.Source = name;
            }
            else
            {
                throw new RagValidationException("DOCUMENT_ID/--source", "give either a document id or --source NAME");
            }

            ReplayResponse response;
            if (parse.GetValue(server) is { } url)
            {
                using var channel = AdminOutput.Channel(url);
                response = await new JobsService.JobsServiceClient(channel).ReplayAsync(request, cancellationToken: ct);
            }
            else
            {
                await using var services = await LocalAsync(parse.GetValue(data), ct);
                response = await services.GetRequiredService<JobsAdmin>().ReplayAsync(request, ct);
            }

            if (parse.GetValue(json))
            {
                AdminOutput.PrintJson(response);
            }
            else
            {
                PrintRun(response.Run);
            }
        }));
        return command;
    }

    private static Command Runs()
    {
        var (tenant, server, data, json) = (CommonOptions.Tenant(), AdminOutput.Server(), CommonOptions.Data(), CommonOptions.Json());
        var source = new Option<string?>("--source") { Description = "Only this source's runs", HelpName = "NAME" };
        var limit = new Option<int>("--limit") { Description = "How many of the latest runs", DefaultValueFactory = _ => 20 };
        var command = new Command("runs", "The latest runs: trigger, times, counts, failures") { source, limit, tenant, server, data, json };
        command.SetAction(async (parse, ct) => await Run(async () =>
        {
            var request = new ListRunsRequest { Tenant = parse.GetValue(tenant)!, Source = parse.GetValue(source) ?? string.Empty, Limit = parse.GetValue(limit) };
            ListRunsResponse response;
            if (parse.GetValue(server) is { } url)
            {
                using var channel = AdminOutput.Channel(url);
                response = await new JobsService.JobsServiceClient(channel).ListRunsAsync(request, cancellationToken: ct);
            }
            else
            {
                await using var services = await LocalAsync(parse.GetValue(data), ct);
                response = await services.GetRequiredService<JobsAdmin>().ListRunsAsync(request, ct);
            }

            if (parse.GetValue(json))
            {
                AdminOutput.PrintJson(response);
                return;
            }

            foreach (var run in response.Runs)
            {
                PrintRun(run);
            }
        }));
        return command;
    }

    internal static void PrintRun(Run run)
    {
        var when = run.StartedAt is { } started ? started.ToDateTimeOffset().ToString("u", System.Globalization.CultureInfo.InvariantCulture) : "now";
        var took = run.FinishedAt is { } finished && run.StartedAt is { } s ? $" in {AdminOutput.Seconds((finished.ToDateTimeOffset() - s.ToDateTimeOffset()).TotalSeconds)}" : string.Empty;
        Console.WriteLine($"{when} {run.Source} ({run.Trigger}) {run.Status}{took}: {run.Added} added, {run.Updated} updated, {run.Unchanged} unchanged, {run.Deleted} deleted, {run.Failed} failed; {run.Chunks} chunks");
        if (run.Error.Length > 0)
        {
            Console.WriteLine($"  error: {run.Error}");
        }

        foreach (var f in run.Failures.Take(20))
        {
            Console.WriteLine($"  failed: {f.ExternalKey} [{f.Kind}] {f.Reason}");
        }
    }
}
