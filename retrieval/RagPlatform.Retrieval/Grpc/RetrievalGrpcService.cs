using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using RagPlatform.Contracts.V1;
using RagPlatform.Core;
using RagPlatform.Core.Indexing;
using RagPlatform.Core.Security;

namespace RagPlatform.Retrieval.Grpc;

/// <summary><c>rag.v1.RetrievalService</c>: maps the request, calls <see cref="Retriever"/>, maps the response.</summary>
[GrpcMessageSizeLimit]
internal sealed class RetrievalGrpcService(Retriever retriever) : RetrievalService.RetrievalServiceBase
{
    public override async Task<RetrieveResponse> Retrieve(RetrieveRequest request, ServerCallContext context)
    {
        var query = RetrievalRequests.ToQuery(request);
        var result = await retriever.RetrieveAsync(query, context.CancellationToken);

        // Finished, but late: the caller has given up on it, and the cancellation may not have fired yet.
        // The error interceptor answers DEADLINE_EXCEEDED, the same as when a stage was cut.
        if (context.Deadline <= DateTime.UtcNow)
        {
            throw new OperationCanceledException("the deadline passed", context.CancellationToken);
        }

        return RetrievalRequests.ToResponse(result, request.Explain);
    }
}

/// <summary>Translation between the wire messages and the retriever's types, shared by the service and its clients.</summary>
public static class RetrievalRequests
{
    public static RetrievalQuery ToQuery(RetrieveRequest request)
    {
        if (request.HasTopK && request.TopK is < 1 or > RetrievalOptions.MaxTopK)
        {
            throw new RagValidationException("top_k", $"must be between 1 and {RetrievalOptions.MaxTopK}, got {request.TopK}");
        }

        var principal = request.Principal ?? new Contracts.V1.Principal();
        return new RetrievalQuery
        {
            Tenant = request.Tenant,
            Caller = Caller(principal),
            Text = request.Query,
            TopK = request.HasTopK ? request.TopK : 10,
            Mode = request.Mode switch
            {
                Contracts.V1.RetrievalMode.Unspecified or Contracts.V1.RetrievalMode.Hybrid => RetrievalMode.Hybrid,
                Contracts.V1.RetrievalMode.Keyword => RetrievalMode.Keyword,
                Contracts.V1.RetrievalMode.Vector => RetrievalMode.Vector,
                _ => throw new RagValidationException("mode", $"{(int)request.Mode} is not a retrieval mode; use HYBRID, KEYWORD or VECTOR"),
            },
            Fusion = ToFusion(request.Fusion),
            Metadata = (request.Filters?.Metadata ?? []).Select(ToMetadataFilter).ToList(),
            SourceIds = Ids(request.Filters?.SourceIds, "filters.source_ids"),
            DocumentIds = Ids(request.Filters?.DocumentIds, "filters.document_ids"),
            ChangedAfter = request.Filters?.ChangedAfter?.ToDateTimeOffset(),
            MinScore = request.HasMinScore ? request.MinScore : null,
            Rerank = request.Rerank,
            MmrLambda = request.Diversity is { HasMmrLambda: true } d ? d.MmrLambda : null,
            Snippets = !request.HasSnippets || request.Snippets,
            CandidateDepth = request.HasCandidateDepth ? request.CandidateDepth : null,
        };
    }

    public static RetrieveResponse ToResponse(RetrievalResult result, bool explain)
    {
        var response = new RetrieveResponse { ModeUsed = ToWire(result.ModeUsed) };
        response.Skipped.AddRange(result.Skipped.Select(s => new Contracts.V1.SkippedStage { Stage = s.Stage, Reason = s.Reason }));
        response.TimingsUs.Add(result.TimingsMicroseconds.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal));
        foreach (var hit in result.Hits)
        {
            var chunk = hit.Chunk;
            var c = hit.Citation;
            var wire = new Hit
            {
                ChunkId = chunk.ChunkId,
                DocumentId = chunk.DocumentId.ToString(),
                Title = chunk.Title,
                Uri = chunk.Uri ?? string.Empty,
                Text = chunk.Text,
                Scores = ToWire(hit.Scores),
                Citation = new Contracts.V1.Citation
                {
                    DocumentId = c.DocumentId.ToString(),
                    Version = c.Version,
                    ChunkId = c.ChunkId,
                    Start = c.Start,
                    End = c.End,
                    ByteStart = chunk.ByteStart,
                    ByteEnd = chunk.ByteEnd,
                },
                Explanation = explain ? Explain(hit.Scores) : string.Empty,
            };
            if (c.PageStart is { } ps)
            {
                wire.Citation.PageStart = ps;
            }

            if (c.PageEnd is { } pe)
            {
                wire.Citation.PageEnd = pe;
            }

            wire.Citation.HeadingPath.AddRange(c.HeadingPath);
            if (c.Snippet is { } snippet)
            {
                wire.Citation.Snippet = new Contracts.V1.Snippet { Text = snippet.Text, Start = snippet.Start };
                wire.Citation.Snippet.Highlights.AddRange(snippet.Highlights.Select(h => new TextRange { Start = h.Start, End = h.End }));
            }

            wire.Metadata.Add(JsonSerializer.Deserialize<Dictionary<string, string>>(chunk.MetadataJson) ?? []);
            response.Hits.Add(wire);
        }

        return response;
    }

    private static CallerIdentity Caller(Contracts.V1.Principal principal)
    {
        Core.Security.Principal? user = null;
        if (!string.IsNullOrWhiteSpace(principal.User))
        {
            user = Core.Security.Principal.Parse(principal.User, "principal.user");
            if (user.Value.Kind != PrincipalKind.User)
            {
                throw new RagValidationException("principal.user", $"'{principal.User}' is not a user; write user:NAME");
            }
        }

        var groups = principal.Groups.Select((g, i) => Core.Security.Principal.Parse(g, $"principal.groups[{i}]")).ToList();
        var notGroup = groups.FindIndex(g => g.Kind != PrincipalKind.Group);
        if (notGroup >= 0)
        {
            throw new RagValidationException($"principal.groups[{notGroup}]", $"'{principal.Groups[notGroup]}' is not a group; write group:NAME");
        }

        return new CallerIdentity(user, groups);
    }

    private static Fusion ToFusion(Contracts.V1.Fusion? fusion) => fusion?.MethodCase switch
    {
        null or Contracts.V1.Fusion.MethodOneofCase.None => Fusion.Default,
        Contracts.V1.Fusion.MethodOneofCase.Rrf => new ReciprocalRankFusion(fusion.Rrf.HasK ? fusion.Rrf.K : 60),
        _ => new WeightedFusion(fusion.Weighted.KeywordWeight, fusion.Weighted.VectorWeight),
    };

    private static Core.Indexing.MetadataFilter ToMetadataFilter(Contracts.V1.MetadataFilter filter, int index)
    {
        var field = $"filters.metadata[{index}]";
        if (string.IsNullOrWhiteSpace(filter.Key))
        {
            throw new RagValidationException($"{field}.key", "is empty; name the metadata key");
        }

        switch (filter.ConditionCase)
        {
            case Contracts.V1.MetadataFilter.ConditionOneofCase.Equals_:
                return Core.Indexing.MetadataFilter.Eq(filter.Key, filter.Equals_);
            case Contracts.V1.MetadataFilter.ConditionOneofCase.In:
                if (filter.In.Values.Count == 0)
                {
                    throw new RagValidationException($"{field}.in", "has no values; give at least one");
                }

                return Core.Indexing.MetadataFilter.OneOf(filter.Key, [.. filter.In.Values]);
            case Contracts.V1.MetadataFilter.ConditionOneofCase.Range:
                var r = filter.Range;
                if (r.HasGt && r.HasGte)
                {
                    throw new RagValidationException($"{field}.range", "sets both gt and gte; set one lower bound");
                }

                if (r.HasLt && r.HasLte)
                {
                    throw new RagValidationException($"{field}.range", "sets both lt and lte; set one upper bound");
                }

                if (!r.HasGt && !r.HasGte && !r.HasLt && !r.HasLte)
                {
                    throw new RagValidationException($"{field}.range", "has no bound; set gt, gte, lt or lte");
                }

                return Core.Indexing.MetadataFilter.Between(
                    filter.Key,
                    r.HasGt ? r.Gt : r.HasGte ? r.Gte : null,
                    r.HasLt ? r.Lt : r.HasLte ? r.Lte : null,
                    minInclusive: !r.HasGt,
                    maxInclusive: !r.HasLt);
            default:
                throw new RagValidationException($"{field}.condition", "is missing; set equals, in or range");
        }
    }

    private static Guid[]? Ids(Google.Protobuf.Collections.RepeatedField<string>? ids, string field)
    {
        if (ids is null || ids.Count == 0)
        {
            return null;
        }

        return ids.Select((id, i) => Guid.TryParse(id, out var g) ? g : throw new RagValidationException($"{field}[{i}]", $"'{id}' is not an id (a UUID)")).ToArray();
    }

    public static Contracts.V1.RetrievalMode ToWire(RetrievalMode mode) => mode switch
    {
        RetrievalMode.Keyword => Contracts.V1.RetrievalMode.Keyword,
        RetrievalMode.Vector => Contracts.V1.RetrievalMode.Vector,
        _ => Contracts.V1.RetrievalMode.Hybrid,
    };

    private static Contracts.V1.Scores ToWire(HitScores s)
    {
        var scores = new Contracts.V1.Scores { FusedScore = s.FusedScore, FinalScore = s.FinalScore };
        if (s.KeywordRank is { } kr)
        {
            scores.KeywordRank = kr;
        }

        if (s.KeywordScore is { } ks)
        {
            scores.KeywordScore = ks;
        }

        if (s.VectorRank is { } vr)
        {
            scores.VectorRank = vr;
        }

        if (s.VectorScore is { } vs)
        {
            scores.VectorScore = vs;
        }

        if (s.RerankScore is { } rs)
        {
            scores.RerankScore = rs;
        }

        return scores;
    }

    private static string Explain(HitScores s)
    {
        var parts = new List<string>();
        if (s.KeywordRank is { } kr)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"keyword #{kr} (bm25 {s.KeywordScore:0.###})"));
        }

        if (s.VectorRank is { } vr)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"vector #{vr} (cosine {s.VectorScore:0.###})"));
        }

        var text = string.Join(" + ", parts) + string.Create(CultureInfo.InvariantCulture, $" -> fused {s.FusedScore:0.#####}");
        return s.RerankScore is { } rr ? text + string.Create(CultureInfo.InvariantCulture, $"; reranked {rr:0.###}") : text;
    }
}
