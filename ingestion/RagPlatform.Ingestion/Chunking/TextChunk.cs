namespace RagPlatform.Ingestion.Chunking;

/// <summary>
/// A span of a document's normalised text. <c>document.Text[Start..End] == Text</c> always, so a
/// citation can be checked against the stored text of its version.
/// </summary>
public sealed record TextChunk
{
    public required int Ordinal { get; init; }

    public required int Start { get; init; }

    public required int End { get; init; }

    public required string Text { get; init; }

    /// <summary>Tokens by the configured counter; never above the chunk budget.</summary>
    public required int TokenCount { get; init; }

    /// <summary>First and last 1-based page the chunk touches (paged formats only).</summary>
    public int? PageStart { get; init; }

    public int? PageEnd { get; init; }

    /// <summary>Headings above the chunk, outermost first.</summary>
    public required IReadOnlyList<string> HeadingPath { get; init; }

    /// <summary>Lower-case hex SHA-256 of the UTF-8 <see cref="Text"/>; keys the embedding cache.</summary>
    public required string ContentHash { get; init; }
}
