namespace RagPlatform.Ingestion.Parsing;

/// <summary>The structural role of a block of normalised text; the chunker prefers to break between blocks.</summary>
public enum BlockKind
{
    Heading,
    Paragraph,
    ListItem,
    Table,
    Code,
    Quote,

    /// <summary>One record of a JSON or CSV file.</summary>
    Record,
}

/// <summary>
/// A block of <see cref="ParsedDocument.Text"/>: <c>Text[Start..End]</c> is exactly its text.
/// Headings carry their level (1 = top); PDF blocks carry their 1-based page number.
/// </summary>
public sealed record TextBlock(BlockKind Kind, int Start, int End, int HeadingLevel = 0, int? Page = null)
{
    public int Length => End - Start;
}

/// <summary>
/// A document after parsing and normalisation. <see cref="Text"/> is the normalised text that
/// citations point into: Unicode NFC, <c>\n</c> line ends, no runs of spaces or tabs, no trailing
/// spaces, blocks separated by one blank line (<c>\n\n</c>). <see cref="Blocks"/> are in order,
/// do not overlap, and cover every non-separator character.
/// </summary>
public sealed class ParsedDocument
{
    /// <summary><c>text</c>, <c>markdown</c>, <c>html</c>, <c>pdf</c>, <c>docx</c>, <c>json</c> or <c>csv</c>.</summary>
    public required string Format { get; init; }

    /// <summary>The document's own title (HTML title, first heading, PDF info); empty when it has none.</summary>
    public required string Title { get; init; }

    public required string Text { get; init; }

    public required IReadOnlyList<TextBlock> Blocks { get; init; }

    /// <summary>Pages, for paged formats (PDF); null otherwise.</summary>
    public int? PageCount { get; init; }

    /// <summary>Properties the format carries (author, creation date, front matter), as strings.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
