using System.Text;
using RagPlatform.Ingestion.Parsing;

namespace RagPlatform.Ingestion.Chunking.Internal;

/// <summary>A block as the chunker uses it: trimmed, never empty.</summary>
internal readonly record struct LayoutBlock(BlockKind Kind, int Start, int End, int HeadingLevel, int? Page)
{
    /// <summary>Tables, lists, code and records break between lines before they break inside one.</summary>
    public bool IsLineOriented => Kind is BlockKind.Table or BlockKind.ListItem or BlockKind.Code or BlockKind.Record;
}

/// <summary>Blocks <c>[FirstBlock, EndBlock)</c> under one heading, with the heading texts above them, outermost first.</summary>
internal readonly record struct Section(int FirstBlock, int EndBlock, IReadOnlyList<string> HeadingPath);

/// <summary>
/// The blocks and sections of a parsed document, checked and made whole: every block is trimmed,
/// and text that no block covers (a parser gap) becomes a paragraph, so that no text is lost.
/// </summary>
internal sealed class DocumentLayout
{
    private DocumentLayout(List<LayoutBlock> blocks, List<Section> sections, bool hasPages)
    {
        Blocks = blocks;
        Sections = sections;
        HasPages = hasPages;
    }

    public IReadOnlyList<LayoutBlock> Blocks { get; }

    public IReadOnlyList<Section> Sections { get; }

    public bool HasPages { get; }

    public static DocumentLayout Create(ParsedDocument document)
    {
        var text = document.Text;
        var blocks = new List<LayoutBlock>(document.Blocks.Count + 1);
        var previousEnd = 0;
        int? lastPage = null;
        for (var i = 0; i < document.Blocks.Count; i++)
        {
            var block = document.Blocks[i] ?? throw new ArgumentException(
                $"Block {i} of the parsed document is null; a parser must emit only real blocks.", nameof(document));
            if (block.Start < previousEnd || block.End < block.Start || block.End > text.Length)
            {
                throw new ArgumentException(
                    $"Block {i} ({block.Kind}, characters {block.Start}..{block.End}) does not fit the parsed document: " +
                    $"blocks must lie inside its text ({text.Length} characters), in order and without overlapping " +
                    $"(the previous block ends at {previousEnd}). This is a parser bug; the document cannot be chunked.",
                    nameof(document));
            }

            AddGap(text, previousEnd, block.Start, lastPage ?? block.Page, blocks);
            Add(text, block.Kind, block.Start, block.End, block.HeadingLevel, block.Page, blocks);
            previousEnd = block.End;
            lastPage = block.Page ?? lastPage;
        }

        AddGap(text, previousEnd, text.Length, lastPage, blocks);
        return new DocumentLayout(blocks, GroupSections(text, blocks), blocks.Exists(b => b.Page is not null));
    }

    /// <summary>The index of the block holding <paramref name="position"/>, or of the last block before it.</summary>
    public int BlockAt(int position)
    {
        int low = 0, high = Blocks.Count - 1, found = -1;
        while (low <= high)
        {
            var mid = low + ((high - low) / 2);
            if (Blocks[mid].Start <= position)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return found;
    }

    /// <summary>First and last page of the blocks that <c>[start, end)</c> touches; null for unpaged documents.</summary>
    public (int? First, int? Last) Pages(int start, int end)
    {
        if (!HasPages)
        {
            return (null, null);
        }

        int? first = null, last = null;
        for (var b = Math.Max(0, BlockAt(start)); b < Blocks.Count && Blocks[b].Start < end; b++)
        {
            if (Blocks[b].End <= start || Blocks[b].Page is not { } page)
            {
                continue;
            }

            first = first is null ? page : Math.Min(first.Value, page);
            last = last is null ? page : Math.Max(last.Value, page);
        }

        return (first, last);
    }

    private static void AddGap(string text, int start, int end, int? page, List<LayoutBlock> blocks)
        => Add(text, BlockKind.Paragraph, start, end, 0, page, blocks);

    private static void Add(string text, BlockKind kind, int start, int end, int level, int? page, List<LayoutBlock> blocks)
    {
        var trimmed = TextSegments.Trim(text, start, end);
        if (trimmed.Length > 0)
        {
            blocks.Add(new LayoutBlock(kind, trimmed.Start, trimmed.End, level, page));
        }
    }

    private static List<Section> GroupSections(string text, List<LayoutBlock> blocks)
    {
        var sections = new List<Section>();
        var headings = new List<(int Level, string Text)>();
        IReadOnlyList<string> path = [];
        var sectionStart = 0;
        for (var b = 0; b < blocks.Count; b++)
        {
            if (blocks[b].Kind != BlockKind.Heading)
            {
                continue;
            }

            if (b > sectionStart)
            {
                sections.Add(new Section(sectionStart, b, path));
            }

            // Level 0 means the parser did not know; such a heading is taken as top level.
            var level = Math.Max(1, blocks[b].HeadingLevel);
            while (headings.Count > 0 && headings[^1].Level >= level)
            {
                headings.RemoveAt(headings.Count - 1);
            }

            headings.Add((level, CollapseWhiteSpace(text.AsSpan(blocks[b].Start, blocks[b].End - blocks[b].Start))));
            path = headings.ConvertAll(h => h.Text).ToArray();
            sectionStart = b;
        }

        if (blocks.Count > sectionStart)
        {
            sections.Add(new Section(sectionStart, blocks.Count, path));
        }

        return sections;
    }

    private static string CollapseWhiteSpace(ReadOnlySpan<char> heading)
    {
        var builder = new StringBuilder(heading.Length);
        var pendingSpace = false;
        foreach (var c in heading)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(c);
        }

        return builder.ToString();
    }
}
