using RagPlatform.Core.Indexing;
using RagPlatform.Storage.Keyword;
using RagPlatform.Storage.Tests.Indexing;

namespace RagPlatform.Storage.Tests.Keyword;

public sealed class LuceneKeywordIndexConformanceTests : ChunkIndexConformanceTests<LuceneKeywordIndex>
{
    protected override LuceneKeywordIndex CreateIndex(string directory) => LuceneKeywordIndex.Open(directory);

    protected override ValueTask<IReadOnlyList<ScoredChunk>> SearchAllAsync(LuceneKeywordIndex index, SearchFilter filter, int limit)
        => index.SearchAsync("lorem", filter, limit, Ct);
}
