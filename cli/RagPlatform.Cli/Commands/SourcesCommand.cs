using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Cli.Hosting;
using RagPlatform.Contracts.V1;
using RagPlatform.Core;
using RagPlatform.IndexerJobs.Grpc;
using RagPlatform.IndexerJobs.Sources;
using RagPlatform.IndexerJobs.Sync;

namespace RagPlatform.Cli.Commands;

/// <summary><c>rag sources add|list|show|remove|sync</c>, on the data directory or through <c>--server</c>.</summary>
internal static class SourcesCommand
{
    public static Command Create()
    {
        var command = new Command("sources", "Register sources (folders, URL lists, push), schedule and run their syncs");
        command.Subcommands.Add(Add());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Remove());
        command.Subcommands.Add(Sync());
        return command;
    }

    private static Command Add()
    {
        var name = new Argument<string>("NAME");
        var folder = new Option<string?>("--folder") { Description = "Sync this folder (recursively)", HelpName = "DIR" };
        var include = new Option<string[]>("--include") { Description = "Glob of files to include, relative to the folder (repeatable; default everything)", HelpName = "GLOB", AllowMultipleArgumentsPerToken = false };
        var exclude = new Option<string[]>("--exclude") { Description = "Glob of files to leave out (repeatable)", HelpName = "GLOB" };
        var urls = new Option<string?>("--urls") { Description = "Sync the http(s) URLs listed in this file, one per line", HelpName = "FILE" };
        var push = new Option<bool>("--push") { Description = "Documents arrive through IngestionService.UpsertDocuments" };
        var tenant = CommonOptions.Tenant();
        var schedule = new Option<string?>("--schedule") { Description = "Cron of the recurring sync, UTC (e.g. '*/15 * * * *')", HelpName = "CRON" };
        var acl = new Option<string?>("--acl") { Description = "Default ACL of the documents (NAME.acl sidecars and .rag-acl files override it in folders)", HelpName = "P1,P2" };
        var freshness = new Option<string?>("--freshness") { Description = "Freshness objective: the longest tolerated lag from a change to searchable (15m, 2h, 1d)", HelpName = "DURATION" };
        var chunkTokens = new Option<int?>("--chunk-tokens") { Description = "Chunk budget of this source's documents, in tokens", HelpName = "N" };
        var server = AdminOutput.Server();
        var data = CommonOptions.Data();
        var json = CommonOptions.Json();
        var command = new Command("add", "Register a source")
        {
            name, folder, include, exclude, urls, push, tenant, schedule, acl, freshness, chunkTokens, server, data, json,
        };
        command.SetAction(async (parse, ct) => await Run(async () =>
        {
            var kinds = new[] { parse.GetValue(folder) is not null, parse.GetValue(urls) is not null, parse.GetValue(push) }.Count(k => k);
            if (kinds != 1)
            {
                throw new RagValidationException("--folder/--urls/--push", "give exactly one of them");
            }

            var spec = new SourceSpec
            {
                Schedule = parse.GetValue(schedule) ?? string.Empty,
                FreshnessObjective = parse.GetValue(freshness) is { } f ? Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(AdminOutput.ParseDuration(f, "--freshness")) : null,
            };
            if (parse.GetValue(folder) is { } dir)
            {
                spec.Folder = new FolderSource { Path = Path.GetFullPath(dir) };
                spec.Folder.Include.AddRange(parse.GetValue(include) ?? []);
                spec.Folder.Exclude.AddRange(parse.GetValue(exclude) ?? []);
            }
            else if (parse.GetValue(urls) is { } file)
            {
                spec.Urls = new UrlListSource { File = Path.GetFullPath(file) };
            }
            else
            {
                spec.Push = new PushSource();
            }

            spec.Acl.AddRange((parse.GetValue(acl) ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            if (parse.GetValue(chunkTokens) is { } tokens)
            {
                spec.ChunkTokens = tokens;
            }

            var request = new CreateSourceRequest { Tenant = parse.GetValue(tenant)!, Name = parse.GetValue(name)!, Spec = spec };
            Source source;
            if (parse.GetValue(server) is { } url)
            {
                using var channel = AdminOutput.Channel(url);
                source = await new SourcesService.SourcesServiceClient(channel).CreateSourceAsync(request, cancellationToken: ct);
            }
            else
            {
                await using var services = await LocalAsync(parse.GetValue(data), ct);
                source = AdminMapping.ToWire(await services.GetRequiredService<SourceCatalog>().CreateAsync(request.Tenant, request.Name, AdminMapping.ToSpecification(request.Spec), ct));
            }

            Print(source, parse.GetValue(json));
        }));
        return command;
    }

    private static Command List()
    {
        var tenant = new Option<string?>("--tenant") { Description = "Only this tenant's sources" };
        var server = AdminOutput.Server();
        var data = CommonOptions.Data();
        var json = CommonOptions.Json();
        var command = new Command("list", "List sources") { tenant, server, data, json };
        command.SetAction(async (parse, ct) => await Run(async () =>
        {
            ListSourcesResponse response;
            if (parse.GetValue(server) is { } url)
            {
                using var channel = AdminOutput.Channel(url);
                response = await new SourcesService.SourcesServiceClient(channel).ListSourcesAsync(new ListSourcesRequest { Tenant = parse.GetValue(tenant) ?? string.Empty }, cancellationToken: ct);
            }
            else
            {
                await using var services = await LocalAsync(parse.GetValue(data), ct);
                response = new ListSourcesResponse();
                response.Sources.AddRange((await services.GetRequiredService<SourceCatalog>().ListAsync(parse.GetValue(tenant), ct)).Select(AdminMapping.ToWire));
            }

            if (parse.GetValue(json))
            {
                AdminOutput.PrintJson(response);
                return;
            }

            foreach (var s in response.Sources)
            {
                Console.WriteLine($"{s.Tenant}/{s.Name}  {s.Kind}  {Where(s)}  schedule: {(s.Spec.Schedule.Length > 0 ? s.Spec.Schedule : "none")}{(s.Spec.Disabled ? "  (disabled)" : string.Empty)}");
            }
        }));
        return command;
    }

    private static Command Show()
    {
        var (name, tenant, server, data, json) = (new Argument<string>("NAME"), CommonOptions.Tenant(), AdminOutput.Server(), CommonOptions.Data(), CommonOptions.Json());
        var command = new Command("show", "Show a source's settings") { name, tenant, server, data, json };
        command.SetAction(async (parse, ct) => await Run(async () =>
        {
            Source source;
            if (parse.GetValue(server) is { } url)
            {
                using var channel = AdminOutput.Channel(url);
                source = await new SourcesService.SourcesServiceClient(channel).GetSourceAsync(new GetSourceRequest { Tenant = parse.GetValue(tenant)!, Name = parse.GetValue(name)! }, cancellationToken: ct);
            }
            else
            {
                await using var services = await LocalAsync(parse.GetValue(data), ct);
                source = AdminMapping.ToWire(await services.GetRequiredService<SourceCatalog>().GetAsync(parse.GetValue(tenant)!, parse.GetValue(name)!, ct));
            }

            Print(source, parse.GetValue(json));
        }));
        return command;
    }

    private static Command Remove()
    {
        var (name, tenant, server, data, json) = (new Argument<string>("NAME"), CommonOptions.Tenant(), AdminOutput.Server(), CommonOptions.Data(), CommonOptions.Json());
        var command = new Command("remove", "Delete a source's documents from every store, then the source") { name, tenant, server, data, json };
        command.SetAction(async (parse, ct) => await Run(async () =>
        {
            DeleteSourceResponse response;
            if (parse.GetValue(server) is { } url)
            {
                using var channel = AdminOutput.Channel(url);
                response = await new SourcesService.SourcesServiceClient(channel).DeleteSourceAsync(new DeleteSourceRequest { Tenant = parse.GetValue(tenant)!, Name = parse.GetValue(name)! }, cancellationToken: ct);
            }
            else
            {
                await using var services = await LocalAsync(parse.GetValue(data), ct);
                response = new DeleteSourceResponse { DocumentsDeleted = await services.GetRequiredService<SourceCatalog>().DeleteAsync(parse.GetValue(tenant)!, parse.GetValue(name)!, ct) };
            }

            if (parse.GetValue(json))
            {
                AdminOutput.PrintJson(response);
            }
            else
            {
                Console.WriteLine($"removed source '{parse.GetValue(name)}' and {response.DocumentsDeleted} documents");
            }
        }));
        return command;
    }

    private static Command Sync()
    {
        var (name, tenant, server, data, json) = (new Argument<string>("NAME"), CommonOptions.Tenant(), AdminOutput.Server(), CommonOptions.Data(), CommonOptions.Json());
        var wait = new Option<bool>("--wait") { Description = "With --server: wait for the sync to finish and print its run" };
        var force = new Option<bool>("--force") { Description = "Reprocess every document even when unchanged" };
        var command = new Command("sync", "Sync a source now (on the data directory it runs here and waits)") { name, tenant, wait, force, server, data, json };
        command.SetAction(async (parse, ct) => await Run(async () =>
        {
            TriggerSyncResponse response;
            if (parse.GetValue(server) is { } url)
            {
                using var channel = AdminOutput.Channel(url);
                response = await new SourcesService.SourcesServiceClient(channel).TriggerSyncAsync(
                    new TriggerSyncRequest { Tenant = parse.GetValue(tenant)!, Name = parse.GetValue(name)!, Wait = parse.GetValue(wait), Force = parse.GetValue(force) },
                    cancellationToken: ct);
            }
            else
            {
                await using var services = await LocalAsync(parse.GetValue(data), ct);
                var source = await services.GetRequiredService<SourceCatalog>().GetAsync(parse.GetValue(tenant)!, parse.GetValue(name)!, ct);
                var result = await services.GetRequiredService<SourceSyncService>().SyncAsync(source.Id, "manual", jobId: null, parse.GetValue(force), ct);
                response = new TriggerSyncResponse { Run = result is null ? null : await AdminMapping.RecordedRunAsync(services.GetRequiredService<RagPlatform.Core.Metadata.IMetadataStore>(), result, source, ct) };
            }

            if (parse.GetValue(json))
            {
                AdminOutput.PrintJson(response);
            }
            else if (response.Run is { } run)
            {
                JobsCommand.PrintRun(run);
            }
            else
            {
                Console.WriteLine(response.JobId.Length > 0 ? $"sync queued as job {response.JobId}" : "nothing to sync (a push source)");
            }
        }));
        return command;
    }

    /// <summary>The services on a data directory, with the schema created or upgraded.</summary>
    internal static async Task<ServiceProvider> LocalAsync(string? data, CancellationToken cancellationToken)
    {
        var services = CliHost.Build(CliHost.BuildConfiguration(data));
        await services.GetRequiredService<RagPlatform.Core.Metadata.IMetadataStore>().MigrateAsync(cancellationToken);
        return services;
    }

    /// <summary>Runs an admin action, mapping wrong input and server errors to messages and exit codes.</summary>
    internal static async Task<int> Run(Func<Task> action)
    {
        try
        {
            await action();
            return ExitCodes.Ok;
        }
        catch (Exception ex) when (ex is RagValidationException or RagPreconditionException or RagConflictException or RagNotFoundException)
        {
            Console.Error.WriteLine($"rag: {ex.Message}");
            return ex is RagValidationException ? ExitCodes.Usage : ExitCodes.Failed;
        }
        catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.Unavailable)
        {
            Console.Error.WriteLine("rag: could not reach the server: is `rag serve` running at the --server URL?");
            return ExitCodes.Failed;
        }
        catch (Grpc.Core.RpcException ex)
        {
            Console.Error.WriteLine($"rag: {ex.Status.Detail} ({ex.StatusCode})");
            return ex.StatusCode == Grpc.Core.StatusCode.InvalidArgument ? ExitCodes.Usage : ExitCodes.Failed;
        }
    }

    private static void Print(Source s, bool json)
    {
        if (json)
        {
            AdminOutput.PrintJson(s);
            return;
        }

        Console.WriteLine($"{s.Tenant}/{s.Name} ({s.Kind}, id {s.Id})");
        Console.WriteLine($"  where:      {Where(s)}");
        Console.WriteLine($"  schedule:   {(s.Spec.Schedule.Length > 0 ? s.Spec.Schedule : "none")}{(s.Spec.Disabled ? " (disabled)" : string.Empty)}");
        Console.WriteLine($"  acl:        {(s.Spec.Acl.Count > 0 ? string.Join(',', s.Spec.Acl) : "none (visible to nobody but an admin)")}");
        Console.WriteLine($"  freshness:  {(s.Spec.FreshnessObjective is { } f ? AdminOutput.Seconds(f.ToTimeSpan().TotalSeconds) : "no objective")}");
        Console.WriteLine($"  chunking:   {(s.Spec.HasChunkTokens ? $"{s.Spec.ChunkTokens} tokens" : "platform default")}");
    }

    private static string Where(Source s) => s.Spec.KindCase switch
    {
        SourceSpec.KindOneofCase.Folder => s.Spec.Folder.Path + (s.Spec.Folder.Include.Count > 0 ? $" include {string.Join(' ', s.Spec.Folder.Include)}" : string.Empty) + (s.Spec.Folder.Exclude.Count > 0 ? $" exclude {string.Join(' ', s.Spec.Folder.Exclude)}" : string.Empty),
        SourceSpec.KindOneofCase.Urls => "URLs in " + s.Spec.Urls.File,
        _ => "pushed through IngestionService",
    };
}
