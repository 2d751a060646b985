using RagPlatform.Core;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Text;
using RagPlatform.Ingestion.Chunking.Internal;
using RagPlatform.Ingestion.Parsing;

namespace RagPlatform.Ingestion.Chunking;

/// <summary>
/// Cuts a parsed document into chunks that fit the embedder's token budget and follow the
/// document's structure. A chunk never spans two sections (a heading starts one, and its text is in
/// the section's first chunk so that heading words are searchable). Inside a section, whole blocks
/// are packed greedily; a block too large for one chunk is cut between lines (tables, lists, code,
/// records), then sentences, then words, and only a single word longer than the budget is cut
/// between characters. Each chunk after the first of a section repeats whole trailing sentences of
/// the one before, up to <see cref="ChunkingOptions.OverlapTokens"/>.
/// </summary>
/// <remarks>
/// Guarantees, for every chunk: <c>document.Text[Start..End] == Text</c>;
/// <c>TokenCount == tokens.CountTokens(Text) &lt;= MaxTokens</c>; no leading or trailing
/// whitespace; ordinals in text order, each chunk ending after the one before; and every
/// non-whitespace character of the document in at least one chunk. Output depends only on the
/// document, the options and the counter. Thread-safe when the counter is.
/// </remarks>
public sealed class StructuredChunker
{
    private const int MinimumMaxTokens = 16;

    private readonly ITokenCounter _tokens;

    /// <param name="tokens">Counts tokens as the embedding model will, so that budgets hold at embedding time.</param>
    public StructuredChunker(ITokenCounter tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        _tokens = tokens;
    }

    /// <summary>The chunks of <paramref name="document"/>, in text order; none for a document without text.</summary>
    /// <exception cref="RagValidationException">The options are out of range; the exception names the setting.</exception>
    /// <exception cref="ArgumentException">The document's blocks do not fit its text (a parser bug).</exception>
    /// <exception cref="InvalidOperationException">The counter counts a single character as more tokens than the budget.</exception>
    public IReadOnlyList<TextChunk> Chunk(ParsedDocument document, ChunkingOptions options)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        return new ChunkBuilder(document, _tokens, options.MaxTokens, options.OverlapTokens).Build();
    }

    /// <summary>Checks the options as <see cref="Chunk"/> does, e.g. when a source's chunking profile is saved.</summary>
    /// <exception cref="RagValidationException">A setting is out of range.</exception>
    public static void Validate(ChunkingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        // Below 16 tokens a chunk cannot hold a sentence of ordinary prose, nor the overlap beside it.
        if (options.MaxTokens < MinimumMaxTokens)
        {
            throw new RagValidationException(
                "Chunking:MaxTokens",
                $"is {options.MaxTokens}, but a chunk must allow at least {MinimumMaxTokens} tokens; set it to {MinimumMaxTokens} or more (256 suits small BERT-family embedders).");
        }

        // An overlap of half the budget or more would leave each chunk less new text than repeated text.
        var maxOverlap = (options.MaxTokens / 2) - 1;
        if (options.OverlapTokens < 0 || options.OverlapTokens > maxOverlap)
        {
            throw new RagValidationException(
                "Chunking:OverlapTokens",
                $"is {options.OverlapTokens}, but it must be from 0 to {maxOverlap} (less than half of Chunking:MaxTokens, which is {options.MaxTokens}); lower it or raise Chunking:MaxTokens.");
        }
    }
}
