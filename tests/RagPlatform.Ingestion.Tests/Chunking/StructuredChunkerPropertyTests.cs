using RagPlatform.Core.Configuration;
using RagPlatform.Ingestion.Chunking;

namespace RagPlatform.Ingestion.Tests.Chunking;

public sealed class StructuredChunkerPropertyTests
{
    [Theory]
    [InlineData("tiktoken")]
    [InlineData("wordpiece")]
    public void Generated_documents_keep_every_invariant_for_budgets_from_16_to_512(string counterName)
    {
        var counter = Counters.Named(counterName);
        var chunker = new StructuredChunker(counter);
        int chunks = 0, overlaps = 0, documents = 0;
        for (var seed = 1; seed <= 120; seed++)
        {
            var random = new Random(seed);
            var maxTokens = random.Next(3) == 0 ? random.Next(16, 48) : random.Next(16, 513);
            var options = new ChunkingOptions
            {
                MaxTokens = maxTokens,
                OverlapTokens = random.Next(4) == 0 ? 0 : random.Next(0, maxTokens / 2),
            };
            var document = new DocumentGenerator(seed).Next();
            try
            {
                var result = chunker.Chunk(document, options);
                ChunkInvariants.Check(document, result, counter, options);
                documents += document.Text.Length > 0 ? 1 : 0;
                chunks += result.Count;
                overlaps += result.Skip(1).Zip(result).Count(pair => pair.First.Start < pair.Second.End);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new InvalidOperationException($"Generated document {seed} (max {options.MaxTokens}, overlap {options.OverlapTokens}) broke an invariant: {e.Message}", e);
            }
        }

        // Guards the generator: the invariants above must have been tried on documents that need
        // many chunks and overlaps, not only on trivial ones.
        Assert.True(chunks > 3 * documents, $"{chunks} chunks for {documents} documents");
        Assert.True(overlaps > documents, $"{overlaps} overlaps for {documents} documents");
    }

    [Theory]
    [InlineData("tiktoken")]
    [InlineData("wordpiece")]
    public void Chunking_the_same_document_twice_gives_the_same_chunks(string counterName)
    {
        var counter = Counters.Named(counterName);
        var options = new ChunkingOptions { MaxTokens = 48, OverlapTokens = 12 };
        for (var seed = 500; seed < 520; seed++)
        {
            var document = new DocumentGenerator(seed).Next();
            if (document.Text.Length == 0)
            {
                continue;
            }

            var first = new StructuredChunker(counter).Chunk(document, options);
            var second = new StructuredChunker(counter).Chunk(document, options);

            Assert.NotEmpty(first);
            Assert.Equal(first.Select(Describe), second.Select(Describe));
        }
    }

    private static string Describe(TextChunk c)
        => $"{c.Ordinal} [{c.Start}..{c.End}) {c.TokenCount} p{c.PageStart}-{c.PageEnd} {string.Join(" > ", c.HeadingPath)} {c.ContentHash} {c.Text}";
}
