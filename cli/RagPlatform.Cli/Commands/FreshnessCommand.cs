using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Contracts.V1;
using RagPlatform.IndexerJobs.Freshness;
using RagPlatform.IndexerJobs.Grpc;
using static RagPlatform.Cli.Commands.SourcesCommand;

namespace RagPlatform.Cli.Commands;

/// <summary><c>rag freshness [--tenant T] [--source NAME] [--window 24h] [--stalest N] [--json]</c></summary>
internal static class FreshnessCommand
{
    public static Command Create()
    {
        var (tenant, server, data, json) = (new Option<string?>("--tenant") { Description = "Only this tenant" }, AdminOutput.Server(), CommonOptions.Data(), CommonOptions.Json());
        var source = new Option<string?>("--source") { Description = "Only this source", HelpName = "NAME" };
        var window = new Option<string>("--window") { Description = "Lags of documents that became searchable within this window", DefaultValueFactory = _ => "24h", HelpName = "DURATION" };
        var stalest = new Option<int>("--stalest") { Description = "List each source's N stalest documents", DefaultValueFactory = _ => 0, HelpName = "N" };
        var command = new Command("freshness", "How stale the index is per source: last successful sync, pending and failed documents, lag p50/p95/max, objective breached")
        {
            tenant, source, window, stalest, server, data, json,
        };
        command.SetAction(async (parse, ct) => await Run(async () =>
        {
            var request = new GetFreshnessRequest
            {
                Tenant = parse.GetValue(tenant) ?? string.Empty,
                Source = parse.GetValue(source) ?? string.Empty,
                Window = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(AdminOutput.ParseDuration(parse.GetValue(window)!, "--window")),
                Stalest = parse.GetValue(stalest),
            };
            GetFreshnessResponse response;
            if (parse.GetValue(server) is { } url)
            {
                using var channel = AdminOutput.Channel(url);
                response = await new FreshnessService.FreshnessServiceClient(channel).GetFreshnessAsync(request, cancellationToken: ct);
            }
            else
            {
                await using var services = await LocalAsync(parse.GetValue(data), ct);
                var report = await services.GetRequiredService<FreshnessReporter>().ReportAsync(request.Tenant, request.Source, request.Window.ToTimeSpan(), request.Stalest, ct);
                response = new GetFreshnessResponse();
                response.Sources.AddRange(report.Select(AdminMapping.ToWire));
            }

            Print(response, parse.GetValue(json));
        }));
        return command;
    }

    private static void Print(GetFreshnessResponse response, bool json)
    {
        if (json)
        {
            // The documented shape: {"sources":[{"name","tenant","last_success","pending","failed","lag_p50_s","lag_p95_s","lag_max_s","objective_s","breached"}]}.
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                sources = response.Sources.Select(s => new
                {
                    name = s.Name,
                    tenant = s.Tenant,
                    last_success = s.LastSuccess?.ToDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                    pending = s.Pending,
                    failed = s.Failed,
                    lag_p50_s = Math.Round(s.LagP50S, 3),
                    lag_p95_s = Math.Round(s.LagP95S, 3),
                    lag_max_s = Math.Round(s.LagMaxS, 3),
                    objective_s = s.ObjectiveS,
                    breached = s.Breached,
                    breach_reason = s.BreachReason.Length > 0 ? s.BreachReason : null,
                    stalest = s.Stalest.Select(d => new { document_id = d.DocumentId, external_key = d.ExternalKey, lag_s = Math.Round(d.LagS, 3), pending = d.Pending }),
                }),
            }));
            return;
        }

        foreach (var s in response.Sources)
        {
            var objective = s.ObjectiveS > 0 ? $"objective {AdminOutput.Seconds(s.ObjectiveS)}{(s.Breached ? " BREACHED: " + s.BreachReason : " met")}" : "no objective";
            var last = s.LastSuccess?.ToDateTimeOffset().ToString("u", CultureInfo.InvariantCulture) ?? "never";
            Console.WriteLine($"{s.Tenant}/{s.Name}: last success {last}; {s.Pending} pending, {s.Failed} failed; lag p50 {AdminOutput.Seconds(s.LagP50S)}, p95 {AdminOutput.Seconds(s.LagP95S)}, max {AdminOutput.Seconds(s.LagMaxS)}; {objective}");
            foreach (var d in s.Stalest)
            {
                Console.WriteLine($"    {AdminOutput.Seconds(d.LagS),10}  {(d.Pending ? "pending" : "indexed")}  {d.ExternalKey}");
            }
        }
    }
}
