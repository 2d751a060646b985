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
                var catalog = services.GetRequiredService<SourceCatalog>();
                var sources = (await catalog.ListAsync(request.Tenant, ct)).ToDictionary(s => s.Id);
                Guid? sourceId = request.Source.Length == 0 ? null : (await catalog.GetAsync(request.Tenant, request.Source, ct)).Id;
                response = new ListFailuresResponse();
                response.Documents.AddRange((await services.GetRequiredService<IMetadataStore>().ListFailedDocumentsAsync(request.Tenant, sourceId, ct))
                    .Select(d => AdminMapping.ToWire(d, sources.TryGetValue(d.SourceId, out var s) ? s.Name : string.Empty)));
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
                response = await ReplayLocallyAsync(services, request, ct);
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

    private static async Task<ReplayResponse> ReplayLocallyAsync(IServiceProvider services, ReplayRequest request, CancellationToken ct)
    {
        var metadata = services.GetRequiredService<IMetadataStore>();
        var sync = services.GetRequiredService<SourceSyncService>();
        if (request.TargetCase == ReplayRequest.TargetOneofCase.Source)
        {
            var source = await services.GetRequiredService<SourceCatalog>().GetAsync(request.Tenant, request.Source, ct);
            return new ReplayResponse { Run = await AdminMapping.RecordedRunAsync(metadata, await sync.ReplayAsync(source.Id, null, ct), source, ct) };
        }

        var id = Guid.TryParse(request.DocumentId, out var g) ? g : throw new RagValidationException("DOCUMENT_ID", $"'{request.DocumentId}' is not a document id");
        var details = await metadata.GetDocumentAsync(request.Tenant, id, ct) ?? throw new RagNotFoundException($"document {id} does not exist in tenant '{request.Tenant}'");
        var owner = await metadata.GetSourceAsync(details.SourceId, ct) ?? throw new RagNotFoundException($"the source of document {id} does not exist");
        return new ReplayResponse { Run = await AdminMapping.RecordedRunAsync(metadata, await sync.ReplayAsync(owner.Id, details.Document.ExternalKey, ct), owner, ct) };
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
                var catalog = services.GetRequiredService<SourceCatalog>();
                var sources = (await catalog.ListAsync(request.Tenant, ct)).ToDictionary(s => s.Id);
                Guid? sourceId = request.Source.Length == 0 ? null : (await catalog.GetAsync(request.Tenant, request.Source, ct)).Id;
                response = new ListRunsResponse();
                response.Runs.AddRange((await services.GetRequiredService<IMetadataStore>().ListRunsAsync(sourceId, request.Limit * 4, ct))
                    .Where(r => r.Tenant == request.Tenant)
                    .Take(request.Limit)
                    .Select(r => AdminMapping.ToWire(r, r.SourceId is { } s && sources.TryGetValue(s, out var src) ? src.Name : null)));
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
