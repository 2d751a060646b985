using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Contracts.V1;
using RagPlatform.IndexerJobs.Grpc;
using RagPlatform.IndexerJobs.Reconciliation;
using static RagPlatform.Cli.Commands.SourcesCommand;

namespace RagPlatform.Cli.Commands;

/// <summary><c>rag reconcile [--source NAME] [--check] [--json]</c></summary>
internal static class ReconcileCommand
{
    public static Command Create()
    {
        var (tenant, server, data, json) = (new Option<string?>("--tenant") { Description = "Only this tenant" }, AdminOutput.Server(), CommonOptions.Data(), CommonOptions.Json());
        var source = new Option<string?>("--source") { Description = "Only this source", HelpName = "NAME" };
        var check = new Option<bool>("--check") { Description = "Report drift only, repair nothing" };
        var command = new Command("reconcile", "Check every store against the metadata, and the metadata against the sources; repair and report drift per source")
        {
            source, tenant, check, server, data, json,
        };
        command.SetAction(async (parse, ct) => await Run(async () =>
        {
            var request = new ReconcileRequest { Tenant = parse.GetValue(tenant) ?? string.Empty, Source = parse.GetValue(source) ?? string.Empty, CheckOnly = parse.GetValue(check) };
            ReconcileResponse response;
            if (parse.GetValue(server) is { } url)
            {
                using var channel = AdminOutput.Channel(url);
                response = await new JobsService.JobsServiceClient(channel).ReconcileAsync(request, cancellationToken: ct);
            }
            else
            {
                await using var services = await LocalAsync(parse.GetValue(data), ct);
                response = await services.GetRequiredService<JobsAdmin>().ReconcileAsync(request, ct);
            }

            if (parse.GetValue(json))
            {
                AdminOutput.PrintJson(response);
                return;
            }

            foreach (var s in response.Sources)
            {
                var drift = s.KeywordMissing + s.KeywordOrphans + s.VectorIncomplete + s.VectorOrphans + s.PendingOperations + s.SourceNew + s.SourceMissing + s.SourceChanged;
                Console.WriteLine(drift == 0
                    ? $"{s.Tenant}/{s.Source}: {s.Documents} documents, no drift"
                    : $"{s.Tenant}/{s.Source}: {s.Documents} documents; keyword {s.KeywordMissing} missing, {s.KeywordOrphans} orphaned; vectors {s.VectorIncomplete} incomplete, {s.VectorOrphans} orphaned; {s.PendingOperations} unfinished writes; source {s.SourceNew} new, {s.SourceMissing} missing, {s.SourceChanged} changed; {s.Repaired} repaired");
            }

            if (response.UnknownOrphans > 0)
            {
                Console.WriteLine($"{response.UnknownOrphans} documents in the indexes unknown to the metadata store{(request.CheckOnly ? string.Empty : " (removed)")}");
            }
        }));
        return command;
    }
}
