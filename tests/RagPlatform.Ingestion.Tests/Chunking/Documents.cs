using RagPlatform.Ingestion.Parsing;

namespace RagPlatform.Ingestion.Tests.Chunking;

/// <summary>One block of a test document: its kind, text, heading level and page.</summary>
public sealed record BlockSpec(BlockKind Kind, string Text, int Level = 0, int? Page = null)
{
    public static BlockSpec Heading(string text, int level = 1, int? page = null) => new(BlockKind.Heading, text, level, page);

    public static BlockSpec Paragraph(string text, int? page = null) => new(BlockKind.Paragraph, text, 0, page);
}

/// <summary>Builds parsed documents the way the parsers do: blocks joined by one blank line, with exact offsets.</summary>
public static class Documents
{
    public static ParsedDocument Build(params IEnumerable<BlockSpec> specs)
    {
        var text = new System.Text.StringBuilder();
        var blocks = new List<TextBlock>();
        int? pageCount = null;
        foreach (var spec in specs)
        {
            if (blocks.Count > 0)
            {
                text.Append("\n\n");
            }

            blocks.Add(new TextBlock(spec.Kind, text.Length, text.Length + spec.Text.Length, spec.Level, spec.Page));
            text.Append(spec.Text);
            if (spec.Page is { } page)
            {
                pageCount = Math.Max(pageCount ?? 0, page);
            }
        }

        return new ParsedDocument
        {
            Format = pageCount is null ? "markdown" : "pdf",
            Title = string.Empty,
            Text = text.ToString(),
            Blocks = blocks,
            PageCount = pageCount,
        };
    }
}
