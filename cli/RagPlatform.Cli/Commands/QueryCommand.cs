using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Cli.Hosting;
using RagPlatform.Contracts.V1;
using RagPlatform.Core;
using RagPlatform.Retrieval;
using RagPlatform.Retrieval.Grpc;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag query "TEXT" [--tenant T] [--principal user:X] [--groups group:G1,...] [--top-k N] [--mode M] [--server URL] [--data DIR] [--json]</c>.
/// In-process on the data directory, or through gRPC with <c>--server</c>; both print the same.
/// </summary>
internal static class QueryCommand
{
    public static Command Create()
    {
        var text = new Argument<string>("TEXT") { Description = "What to search for" };
        var tenant = CommonOptions.Tenant();
        var principal = new Option<string?>("--principal") { Description = "The caller: user:NAME (everyone is also granted public)", HelpName = "user:X" };
        var groups = new Option<string?>("--groups") { Description = "The caller's groups, comma-separated", HelpName = "group:G1,group:G2" };
        var topK = new Option<int>("--top-k") { Description = "Hits to return (1 to 100)", DefaultValueFactory = _ => 10 };
        var mode = new Option<string>("--mode") { Description = "hybrid, keyword or vector", DefaultValueFactory = _ => "hybrid" };
        mode.AcceptOnlyFromAmong("hybrid", "keyword", "vector");
        var rerank = new Option<bool>("--rerank") { Description = "Rerank with the configured cross-encoder" };
        var server = new Option<string?>("--server") { Description = "Query a running `rag serve` instead of the data directory", HelpName = "URL" };
        var data = CommonOptions.Data();
        var json = CommonOptions.Json();
        var verbose = CommonOptions.Verbose();
        var command = new Command("query", "Retrieve the chunks a caller may see, with scores and citations")
        {
            text, tenant, principal, groups, topK, mode, rerank, server, data, json, verbose,
        };
        command.SetAction(async (parse, ct) =>
        {
            var request = new RetrieveRequest
            {
                Tenant = parse.GetValue(tenant)!,
                Query = parse.GetValue(text)!,
                TopK = parse.GetValue(topK),
                Mode = parse.GetValue(mode) switch
                {
                    "keyword" => Contracts.V1.RetrievalMode.Keyword,
                    "vector" => Contracts.V1.RetrievalMode.Vector,
                    _ => Contracts.V1.RetrievalMode.Hybrid,
                },
                Rerank = parse.GetValue(rerank),
                Principal = new Principal { User = parse.GetValue(principal) ?? string.Empty },
            };
            request.Principal.Groups.AddRange((parse.GetValue(groups) ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            try
            {
                var response = parse.GetValue(server) is { } url
                    ? await RemoteAsync(url, request, ct)
                    : await InProcessAsync(parse.GetValue(data), parse.GetValue(verbose), request, ct);
                Print(response, parse.GetValue(json));
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is RagValidationException or RagTooLargeException or RagPreconditionException)
            {
                Console.Error.WriteLine($"rag query: {ex.Message}");
                return ExitCodes.Usage;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.ResourceExhausted or StatusCode.FailedPrecondition)
            {
                Console.Error.WriteLine($"rag query: {ex.Status.Detail}");
                return ExitCodes.Usage;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable)
            {
                Console.Error.WriteLine($"rag query: could not reach the server at {parse.GetValue(server)}: is `rag serve` running there?");
                return ExitCodes.Failed;
            }
            catch (RpcException ex)
            {
                Console.Error.WriteLine($"rag query: the server at {parse.GetValue(server)} answered {ex.StatusCode}: {ex.Status.Detail}");
                return ExitCodes.Failed;
            }
        });
        return command;
    }

    internal static async Task<RetrieveResponse> InProcessAsync(string? data, bool verbose, RetrieveRequest request, CancellationToken ct)
    {
        var query = RetrievalRequests.ToQuery(request);
        await using var services = CliHost.Build(CliHost.BuildConfiguration(data), verbose);
        var result = await services.GetRequiredService<Retriever>().RetrieveAsync(query, ct);
        return RetrievalRequests.ToResponse(result, request.Explain);
    }

    internal static async Task<RetrieveResponse> RemoteAsync(string url, RetrieveRequest request, CancellationToken ct)
    {
        using var channel = GrpcChannel.ForAddress(url);
        var client = new RetrievalService.RetrievalServiceClient(channel);
        return await client.RetrieveAsync(request, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: ct);
    }

    internal static void Print(RetrieveResponse response, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(ToJson(response)));
            return;
        }

        Console.WriteLine($"mode: {Name(response.ModeUsed)}, {response.Hits.Count} hits, {response.TimingsUs.GetValueOrDefault("total") / 1000.0:0.0} ms");
        foreach (var skipped in response.Skipped)
        {
            Console.WriteLine($"  skipped {skipped.Stage}: {skipped.Reason}");
        }

        var rank = 0;
        foreach (var hit in response.Hits)
        {
            rank++;
            var c = hit.Citation;
            var where = c.HasPageStart ? $" p.{c.PageStart}{(c.PageEnd != c.PageStart ? $"-{c.PageEnd}" : string.Empty)}" : string.Empty;
            var section = c.HeadingPath.Count > 0 ? $" § {string.Join(" > ", c.HeadingPath)}" : string.Empty;
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rank,2}. {hit.Title}{section}{where}  [score {hit.Scores.FinalScore:0.0000}]"));
            Console.WriteLine($"    {(hit.Uri.Length > 0 ? hit.Uri : hit.DocumentId)}  v{c.Version} chars {c.Start}-{c.End}");
            Console.WriteLine($"    {Highlight(c.Snippet) ?? Trim(hit.Text)}");
        }
    }

    /// <summary>The JSON shape of <c>rag query --json</c>, documented in the README.</summary>
    internal static object ToJson(RetrieveResponse response) => new
    {
        hits = response.Hits.Select(h => new
        {
            chunk_id = h.ChunkId,
            document_id = h.DocumentId,
            title = h.Title,
            uri = h.Uri,
            text = h.Text,
            scores = new
            {
                keyword_rank = h.Scores.HasKeywordRank ? h.Scores.KeywordRank : (int?)null,
                keyword = h.Scores.HasKeywordScore ? h.Scores.KeywordScore : (float?)null,
                vector_rank = h.Scores.HasVectorRank ? h.Scores.VectorRank : (int?)null,
                vector = h.Scores.HasVectorScore ? h.Scores.VectorScore : (float?)null,
                fused = h.Scores.FusedScore,
                rerank = h.Scores.HasRerankScore ? h.Scores.RerankScore : (float?)null,
                final = h.Scores.FinalScore,
            },
            citation = new
            {
                version = h.Citation.Version,
                start = h.Citation.Start,
                end = h.Citation.End,
                byte_start = h.Citation.ByteStart,
                byte_end = h.Citation.ByteEnd,
                page_start = h.Citation.HasPageStart ? h.Citation.PageStart : (int?)null,
                page_end = h.Citation.HasPageEnd ? h.Citation.PageEnd : (int?)null,
                section = string.Join(" > ", h.Citation.HeadingPath),
                snippet = h.Citation.Snippet is { } s ? new { text = s.Text, start = s.Start, highlights = s.Highlights.Select(r => new[] { r.Start, r.End }) } : null,
            },
        }),
        mode = Name(response.ModeUsed),
        skipped = response.Skipped.Select(s => new { stage = s.Stage, reason = s.Reason }),
        timings_us = response.TimingsUs,
    };

    private static string Name(Contracts.V1.RetrievalMode mode) => mode switch
    {
        Contracts.V1.RetrievalMode.Keyword => "keyword",
        Contracts.V1.RetrievalMode.Vector => "vector",
        _ => "hybrid",
    };

    private static string? Highlight(Contracts.V1.Snippet? snippet)
    {
        if (snippet is null)
        {
            return null;
        }

        var text = new StringBuilder(snippet.Text);
        for (var i = snippet.Highlights.Count - 1; i >= 0; i--)
        {
            text.Insert(snippet.Highlights[i].End, '»').Insert(snippet.Highlights[i].Start, '«');
        }

        return text.ToString().ReplaceLineEndings(" ");
    }

    private static string Trim(string text) => (text.Length > 240 ? text[..240] + "…" : text).ReplaceLineEndings(" ");
}
