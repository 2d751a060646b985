using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Cli.Hosting;
using RagPlatform.Core;
using RagPlatform.Core.Security;
using RagPlatform.Retrieval;

namespace RagPlatform.Cli.Commands;

/// <summary><c>rag query "TEXT" [--tenant T] [--principal user:X] [--groups group:G1,...] [--top-k N] [--mode M] [--data DIR] [--json]</c></summary>
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
        var data = CommonOptions.Data();
        var json = CommonOptions.Json();
        var verbose = CommonOptions.Verbose();
        var command = new Command("query", "Retrieve the chunks a caller may see, with scores and citations")
        {
            text, tenant, principal, groups, topK, mode, rerank, data, json, verbose,
        };
        command.SetAction(async (parse, ct) =>
        {
            RetrievalQuery query;
            try
            {
                query = new RetrievalQuery
                {
                    Tenant = parse.GetValue(tenant)!,
                    Caller = CallerIdentity.Parse(parse.GetValue(principal), (parse.GetValue(groups) ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)),
                    Text = parse.GetValue(text)!,
                    TopK = parse.GetValue(topK),
                    Mode = Enum.Parse<RetrievalMode>(parse.GetValue(mode)!, ignoreCase: true),
                    Rerank = parse.GetValue(rerank),
                };
            }
            catch (RagValidationException ex)
            {
                Console.Error.WriteLine($"rag query: {ex.Message}");
                return ExitCodes.Usage;
            }

            await using var services = CliHost.Build(CliHost.BuildConfiguration(parse.GetValue(data)), parse.GetValue(verbose));
            try
            {
                var result = await services.GetRequiredService<Retriever>().RetrieveAsync(query, ct);
                Print(result, parse.GetValue(json));
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is RagValidationException or RagTooLargeException or RagPreconditionException)
            {
                Console.Error.WriteLine($"rag query: {ex.Message}");
                return ExitCodes.Usage;
            }
        });
        return command;
    }

    internal static void Print(RetrievalResult result, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(ToJson(result)));
            return;
        }

        Console.WriteLine($"mode: {result.ModeUsed.ToString().ToLowerInvariant()}, {result.Hits.Count} hits, {result.TimingsMicroseconds.GetValueOrDefault("total") / 1000.0:0.0} ms");
        foreach (var skipped in result.Skipped)
        {
            Console.WriteLine($"  skipped {skipped.Stage}: {skipped.Reason}");
        }

        var rank = 0;
        foreach (var hit in result.Hits)
        {
            rank++;
            var c = hit.Citation;
            var where = c.PageStart is { } p ? $" p.{p}{(c.PageEnd != p ? $"-{c.PageEnd}" : string.Empty)}" : string.Empty;
            var section = c.HeadingPath.Count > 0 ? $" § {string.Join(" > ", c.HeadingPath)}" : string.Empty;
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rank,2}. {hit.Chunk.Title}{section}{where}  [score {hit.Scores.FinalScore:0.0000}]"));
            Console.WriteLine($"    {hit.Chunk.Uri ?? hit.Chunk.ExternalKey}  v{c.Version} chars {c.Start}-{c.End}");
            Console.WriteLine($"    {Highlight(c.Snippet) ?? Trim(hit.Chunk.Text)}");
        }
    }

    internal static object ToJson(RetrievalResult result) => new
    {
        hits = result.Hits.Select(h => new
        {
            chunk_id = h.Chunk.ChunkId,
            document_id = h.Chunk.DocumentId,
            title = h.Chunk.Title,
            uri = h.Chunk.Uri,
            text = h.Chunk.Text,
            scores = new
            {
                keyword_rank = h.Scores.KeywordRank,
                keyword = h.Scores.KeywordScore,
                vector_rank = h.Scores.VectorRank,
                vector = h.Scores.VectorScore,
                fused = h.Scores.FusedScore,
                rerank = h.Scores.RerankScore,
                final = h.Scores.FinalScore,
            },
            citation = new
            {
                version = h.Citation.Version,
                start = h.Citation.Start,
                end = h.Citation.End,
                page_start = h.Citation.PageStart,
                page_end = h.Citation.PageEnd,
                section = string.Join(" > ", h.Citation.HeadingPath),
                snippet = h.Citation.Snippet is { } s ? new { text = s.Text, start = s.Start, highlights = s.Highlights.Select(r => new[] { r.Start, r.End }) } : null,
            },
        }),
        mode = result.ModeUsed.ToString().ToLowerInvariant(),
        skipped = result.Skipped.Select(s => new { stage = s.Stage, reason = s.Reason }),
        timings_us = result.TimingsMicroseconds,
    };

    private static string? Highlight(Snippet? snippet)
    {
        if (snippet is null)
        {
            return null;
        }

        var text = new System.Text.StringBuilder(snippet.Text);
        for (var i = snippet.Highlights.Count - 1; i >= 0; i--)
        {
            text.Insert(snippet.Highlights[i].End, '»').Insert(snippet.Highlights[i].Start, '«');
        }

        return text.ToString().ReplaceLineEndings(" ");
    }

    private static string Trim(string text) => (text.Length > 240 ? text[..240] + "…" : text).ReplaceLineEndings(" ");
}
