using RagPlatform.Core;
using RagPlatform.Core.Metadata;
using RagPlatform.IndexerJobs.Sync;

namespace RagPlatform.IndexerJobs.Jobs;

/// <summary>
/// For an index owner that runs no job host and whose metadata no indexer worker can share (the
/// retrieval role on SQLite): a queued sync would wait forever, so asking for one fails at once and
/// says what to run instead. Retries of a sync run here (by reconciliation) are left to the next one.
/// </summary>
internal sealed class NoWorkerSyncScheduler : ISyncScheduler
{
    public void Register(SourceInfo source)
    {
    }

    public void Unregister(Guid sourceId)
    {
    }

    public string Enqueue(Guid sourceId, string trigger, bool force)
        => throw new RagPreconditionException(
            "this server runs the retrieval role on SQLite metadata, so no job host can run a sync for it: " +
            "run `rag serve --role all` instead, or this server and `rag serve --role indexer` workers on PostgreSQL " +
            "(RAG__Metadata__Provider=Postgres, RAG__Metadata__ConnectionString=...)");

    public string Schedule(Guid sourceId, string trigger, TimeSpan delay) => string.Empty;
}
