using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Core;
using RagPlatform.Core.Indexing;
using RagPlatform.Core.Inference;
using RagPlatform.Core.Metadata;
using RagPlatform.Core.Security;
using RagPlatform.Inference;
using RagPlatform.Retrieval.Internal;

namespace RagPlatform.Retrieval;

/// <summary>
/// Answers a query: keyword and vector candidates fetched concurrently with tenant and ACL filters
/// inside both searches, fused, checked against the metadata store (only active versions of live
/// documents, and the caller must be granted by the stored ACL), optionally reranked and
/// diversified, each hit with its scores and a citation into its exact version.
/// </summary>
public sealed class Retriever(
    IKeywordIndex keyword,
    IVectorIndex vectors,
    IMetadataStore metadata,
    InferenceModels models,
    ITermMatcher matcher,
    IOptions<RetrievalOptions> options,
    ILogger<Retriever> logger)
{
    /// <summary>Searches per query when candidates turn out superseded between the index snapshot and the metadata read.</summary>
    private const int MaxSearchAttempts = 3;

    private readonly StoredAclCache _acls = new();

    public async Task<RetrievalResult> RetrieveAsync(RetrievalQuery query, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        Validate(query, settings);
        var timings = new Dictionary<string, long>(StringComparer.Ordinal);
        var skipped = new List<SkippedStage>();
        var total = Stopwatch.StartNew();

        var mode = Plan(query, skipped);
        var depth = Math.Max(query.CandidateDepth ?? settings.CandidateDepth, query.TopK);
        var filter = new SearchFilter
        {
            Tenant = query.Tenant,
            Principals = query.Caller.Principals,
            SourceIds = query.SourceIds,
            DocumentIds = query.DocumentIds,
            ChangedAfter = query.ChangedAfter,
            Metadata = query.Metadata,
        };

        // Embedded once: a second search (below) reuses it.
        var queryVector = mode == RetrievalMode.Keyword ? null : EmbedQueryAsync(query.Text, timings, cancellationToken);
        var sw = new Stopwatch();
        var wanted = 0;
        List<(FusedCandidate Candidate, LiveChunk Chunk)> live;
        for (var attempt = 1; ; attempt++)
        {
            // Candidates from both indexes at once. The keyword search is synchronous CPU work: in hybrid mode it goes
            // to another thread so that it overlaps the query embedding and the vector scan; alone, it runs right here
            // (a hop to the thread pool would only add a context switch to every keyword query).
            var keywordTask = mode switch
            {
                RetrievalMode.Vector => Task.FromResult<IReadOnlyList<ScoredChunk>>([]),
                RetrievalMode.Keyword => Timed("keyword", timings, () => keyword.SearchAsync(query.Text, filter, depth, cancellationToken)),
                _ => Task.Run(() => Timed("keyword", timings, () => keyword.SearchAsync(query.Text, filter, depth, cancellationToken)), cancellationToken),
            };
            var vectorTask = mode == RetrievalMode.Keyword
                ? Task.FromResult<IReadOnlyList<ScoredChunk>>([])
                : VectorCandidatesAsync(queryVector!, filter, depth, timings, cancellationToken);
            await Task.WhenAll(keywordTask, vectorTask);
            var keywordHits = await keywordTask;
            var vectorHits = await vectorTask;
            cancellationToken.ThrowIfCancellationRequested();

            sw.Restart();
            var fused = FusionMath.Fuse(keywordHits, vectorHits, query.Fusion);
            timings["fusion"] = Micros(sw);

            // Only chunks that are servable now, to this caller: the metadata store has the last word.
            wanted = query.Rerank && models.Reranker is not null ? Math.Max(settings.RerankDepth, query.TopK)
                : query.MmrLambda is not null ? Math.Min(fused.Count, query.TopK * 3)
                : query.TopK;
            sw.Restart();
            (live, var superseded) = await HydrateAsync(query, fused, wanted, cancellationToken);
            timings["hydrate"] = Micros(sw);

            // A candidate the metadata store no longer serves was superseded or deleted after the index snapshot
            // was taken. A new version is in the indexes before it becomes active, so a second search finds it;
            // without it, a document being updated would vanish from the answer for a moment.
            if (live.Count >= wanted || superseded == 0 || attempt == MaxSearchAttempts)
            {
                break;
            }
        }

        var scored = live.Select(l => (Candidate: l.Candidate, Chunk: l.Chunk, Rerank: (float?)null, Final: l.Candidate.Fused)).ToList();
        if (query.Rerank)
        {
            if (models.Reranker is not { } reranker)
            {
                skipped.Add(new SkippedStage("rerank", "no reranker model is configured (set Rag:Reranker:ModelDirectory)"));
            }
            else if (scored.Count > 0)
            {
                sw.Restart();
                var scores = await reranker.ScoreAsync(query.Text, scored.Select(s => s.Chunk.Text).ToList(), cancellationToken);
                scored = scored.Select((s, i) => (s.Candidate, s.Chunk, (float?)scores[i], (double)scores[i]))
                    .OrderByDescending(s => s.Item4).ThenBy(s => s.Chunk.ChunkId, StringComparer.Ordinal).ToList();
                timings["rerank"] = Micros(sw);
            }
        }

        if (query.MinScore is { } min)
        {
            scored = scored.Where(s => s.Final >= min).ToList();
        }

        if (query.MmrLambda is { } lambda && scored.Count > 1)
        {
            sw.Restart();
            var stored = await vectors.GetVectorsAsync(scored.Select(s => s.Chunk.ChunkId).ToList(), cancellationToken);
            if (stored.Count == 0)
            {
                skipped.Add(new SkippedStage("mmr", "no chunk embeddings are indexed (keyword-only), so diversity cannot be measured"));
            }
            else
            {
                var top = scored[0].Final;
                var bottom = scored[^1].Final;
                var relevance = scored.Select(s => FusionMath.Normalise(s.Final, bottom, top)).ToList();
                var picked = Mmr.Select(relevance, scored.Select(s => stored.GetValueOrDefault(s.Chunk.ChunkId)).ToList(), query.TopK, lambda);
                scored = picked.Select(i => scored[i]).ToList();
                timings["mmr"] = Micros(sw);
            }
        }

        sw.Restart();
        var queryTerms = query.Snippets ? matcher.AnalyzeQuery(query.Text) : null;
        var hits = new List<RetrievalHit>(Math.Min(query.TopK, scored.Count));
        foreach (var s in scored.Take(query.TopK))
        {
            var chunk = s.Chunk;
            hits.Add(new RetrievalHit
            {
                Chunk = chunk,
                Scores = new HitScores
                {
                    KeywordRank = s.Candidate.KeywordRank,
                    KeywordScore = s.Candidate.KeywordScore,
                    VectorRank = s.Candidate.VectorRank,
                    VectorScore = s.Candidate.VectorScore,
                    FusedScore = s.Candidate.Fused,
                    RerankScore = s.Rerank,
                    FinalScore = s.Final,
                },
                Citation = new Citation
                {
                    DocumentId = chunk.DocumentId,
                    Version = chunk.Version,
                    ChunkId = chunk.ChunkId,
                    Start = chunk.Start,
                    End = chunk.End,
                    PageStart = chunk.PageStart,
                    PageEnd = chunk.PageEnd,
                    HeadingPath = chunk.HeadingPath,
                    Snippet = queryTerms is null ? null : SnippetBuilder.Build(chunk.Text, chunk.Start, matcher.FindTerms(chunk.Text, queryTerms), settings.SnippetCharacters),
                },
            });
        }

        timings["citations"] = Micros(sw);
        timings["total"] = Micros(total);
        return new RetrievalResult { Hits = hits, ModeUsed = mode, Skipped = skipped, TimingsMicroseconds = timings };
    }

    private RetrievalMode Plan(RetrievalQuery query, List<SkippedStage> skipped)
    {
        if (query.Mode == RetrievalMode.Keyword || models.Embedder is not null)
        {
            return query.Mode;
        }

        if (query.Mode == RetrievalMode.Vector)
        {
            throw new RagPreconditionException($"vector mode needs an embedding model, and none is configured: {models.Status}. Use keyword or hybrid mode.");
        }

        skipped.Add(new SkippedStage("vector", $"hybrid ran as keyword: {models.Status}"));
        return RetrievalMode.Keyword;
    }

    private async Task<ReadOnlyMemory<float>> EmbedQueryAsync(string text, Dictionary<string, long> timings, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        var embedding = await models.Embedder!.GenerateAsync([text], EmbeddingInputKind.QueryOptions, cancellationToken);
        lock (timings)
        {
            timings["embed_query"] = Micros(sw);
        }

        return embedding[0].Vector;
    }

    private async Task<IReadOnlyList<ScoredChunk>> VectorCandidatesAsync(Task<ReadOnlyMemory<float>> queryVector, SearchFilter filter, int depth, Dictionary<string, long> timings, CancellationToken cancellationToken)
    {
        var vector = await queryVector;
        var sw = Stopwatch.StartNew();
        var hits = await vectors.SearchAsync(vector, filter, depth, cancellationToken);
        lock (timings)
        {
            timings["vector"] = Micros(sw);
        }

        return hits;
    }

    private async Task<(List<(FusedCandidate Candidate, LiveChunk Chunk)> Live, int Superseded)> HydrateAsync(RetrievalQuery query, List<FusedCandidate> fused, int wanted, CancellationToken cancellationToken)
    {
        var result = new List<(FusedCandidate, LiveChunk)>(wanted);
        var superseded = 0;
        var next = 0;
        while (result.Count < wanted && next < fused.Count)
        {
            // A few extra per round: a chunk may have just been superseded or deleted.
            var slice = fused.GetRange(next, Math.Min(wanted - result.Count + 8, fused.Count - next));
            next += slice.Count;
            var rows = await metadata.GetLiveChunksAsync(query.Tenant, slice.ConvertAll(c => c.ChunkId), cancellationToken);
            var byId = new Dictionary<string, LiveChunk>(rows.Count, StringComparer.Ordinal);
            foreach (var row in rows)
            {
                byId[row.ChunkId] = row;
            }

            foreach (var candidate in slice)
            {
                if (!byId.TryGetValue(candidate.ChunkId, out var chunk))
                {
                    superseded++;
                    continue;
                }

                if (!_acls.Permits(chunk.Acl, query.Caller))
                {
                    // The index let it through, the stored ACL does not: an ACL change not yet applied to the index.
                    logger.LogWarning("Dropped chunk {ChunkId}: its document's ACL no longer grants the caller (index update pending)", chunk.ChunkId);
                    continue;
                }

                result.Add((candidate, chunk));
                if (result.Count == wanted)
                {
                    break;
                }
            }
        }

        return (result, superseded);
    }

    internal static void Validate(RetrievalQuery query, RetrievalOptions settings)
    {
        if (string.IsNullOrWhiteSpace(query.Tenant))
        {
            throw new RagValidationException("tenant", "is empty; name the tenant to search");
        }

        if (string.IsNullOrWhiteSpace(query.Text))
        {
            throw new RagValidationException("query", "is empty; send the text to search for");
        }

        if (query.Text.Length > settings.MaxQueryCharacters)
        {
            throw new RagTooLargeException($"query: {query.Text.Length} characters is over the limit of {settings.MaxQueryCharacters}; shorten the query");
        }

        if (query.TopK is < 1 or > RetrievalOptions.MaxInternalTopK)
        {
            throw new RagValidationException("top_k", $"must be between 1 and {RetrievalOptions.MaxInternalTopK}, got {query.TopK}");
        }

        if (query.CandidateDepth is < 1 or > 1000)
        {
            throw new RagValidationException("candidate_depth", $"must be between 1 and 1000, got {query.CandidateDepth}");
        }

        switch (query.Fusion)
        {
            case ReciprocalRankFusion { K: < 1 } rrf:
                throw new RagValidationException("fusion.rrf.k", $"must be at least 1, got {rrf.K}");
            case WeightedFusion w when w.KeywordWeight < 0 || w.VectorWeight < 0 || !double.IsFinite(w.KeywordWeight) || !double.IsFinite(w.VectorWeight) || w.KeywordWeight + w.VectorWeight <= 0:
                throw new RagValidationException("fusion.weighted", $"weights must be finite, non-negative and not both zero, got keyword={w.KeywordWeight} vector={w.VectorWeight}");
        }

        if (query.MmrLambda is { } lambda && (lambda < 0 || lambda > 1 || double.IsNaN(lambda)))
        {
            throw new RagValidationException("diversity.mmr_lambda", $"must be between 0 and 1, got {lambda}");
        }

        if (query.MinScore is { } min && !double.IsFinite(min))
        {
            throw new RagValidationException("min_score", "must be a finite number");
        }

        foreach (var f in query.Metadata)
        {
            if (string.IsNullOrWhiteSpace(f.Key))
            {
                throw new RagValidationException("filters.metadata.key", "is empty; name the metadata key to filter on");
            }

            if (f.Kind is MetadataFilterKind.Equals or MetadataFilterKind.In && f.Values.Count == 0)
            {
                throw new RagValidationException($"filters.metadata[{f.Key}]", "needs at least one value");
            }

            if (f.Kind == MetadataFilterKind.Range && f.Min is null && f.Max is null)
            {
                throw new RagValidationException($"filters.metadata[{f.Key}]", "a range needs a lower or an upper bound");
            }
        }
    }

    private static async Task<IReadOnlyList<ScoredChunk>> Timed(string stage, Dictionary<string, long> timings, Func<ValueTask<IReadOnlyList<ScoredChunk>>> search)
    {
        var sw = Stopwatch.StartNew();
        var result = await search();
        lock (timings)
        {
            timings[stage] = Micros(sw);
        }

        return result;
    }

    private static long Micros(Stopwatch sw) => (long)sw.Elapsed.TotalMicroseconds;
}
