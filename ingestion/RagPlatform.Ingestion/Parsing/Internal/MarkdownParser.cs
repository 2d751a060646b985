using System.Globalization;
using System.Net;
using System.Text;
using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Extensions.Yaml;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace RagPlatform.Ingestion.Parsing.Internal;

/// <summary>
/// Markdown (CommonMark with pipe tables and YAML front matter) through Markdig. Inline markup is
/// reduced to the text a reader sees; front matter becomes metadata and is not indexed as text.
/// </summary>
internal static class MarkdownParser
{
    /// <summary>
    /// Markdig caps nesting at 128 levels by default, which keeps its parser and this walker's recursion
    /// shallow on hostile input. Pipelines are immutable and thread-safe, so one serves every call.
    /// </summary>
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .UsePipeTables()
        .UseYamlFrontMatter()
        .Build();

    public static ParsedDocument Parse(string text, string subject)
    {
        if (NestingGuard.MarkdownTooDeep(text))
        {
            return PlainTextParser.Parse(text, subject, FileFormat.Markdown);
        }

        var document = Markdown.Parse(text, Pipeline);
        var walker = new Walker(new NormalizedTextBuilder(text.Length + 16));
        walker.WalkBlocks(document, BlockKind.Paragraph);

        var title = walker.FirstH1;
        if (title is null)
        {
            foreach (var (key, value) in walker.Metadata)
            {
                if (string.Equals(key, "title", StringComparison.OrdinalIgnoreCase))
                {
                    title = value;
                    break;
                }
            }
        }

        return walker.Builder.Build(
            FileFormat.Markdown,
            title,
            walker.Metadata,
            pageCount: null,
            $"{subject} contains no text outside its markup and front matter.");
    }

    private sealed class Walker(NormalizedTextBuilder builder)
    {
        private const int MaxInlineDepth = 256;

        private readonly StringBuilder _scratch = new();

        public NormalizedTextBuilder Builder { get; } = builder;

        public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

        public string? FirstH1 { get; private set; }

        public void WalkBlocks(IEnumerable<Block> blocks, BlockKind proseKind)
        {
            foreach (var block in blocks)
            {
                switch (block)
                {
                    case YamlFrontMatterBlock frontMatter:
                        ReadFrontMatter(frontMatter);
                        break;
                    case HeadingBlock heading:
                        var headingText = InlineText(heading.Inline);
                        if (Builder.Add(BlockKind.Heading, headingText, heading.Level) && heading.Level == 1 && FirstH1 is null)
                        {
                            FirstH1 = Builder.TextOf(Builder.Blocks[^1]);
                        }

                        break;
                    case ParagraphBlock paragraph:
                        Builder.Add(proseKind, InlineText(paragraph.Inline));
                        break;
                    case ListBlock list:
                        WalkList(list, proseKind);
                        break;
                    case QuoteBlock quote:
                        WalkBlocks(quote, BlockKind.Quote);
                        break;
                    case Table table:
                        AddTable(table);
                        break;
                    case CodeBlock code:
                        Builder.AddCode(code.Lines.ToString());
                        break;
                    case HtmlBlock html:
                        if (html.Type != HtmlBlockType.Comment)
                        {
                            Builder.Add(proseKind, HtmlText.StripTags(html.Lines.ToString()));
                        }

                        break;
                    case ThematicBreakBlock or LinkReferenceDefinitionGroup or LinkReferenceDefinition or BlankLineBlock:
                        break;
                    case ContainerBlock other:
                        WalkBlocks(other, proseKind);
                        break;
                    case LeafBlock leaf:
                        Builder.Add(proseKind, leaf.Inline is null ? leaf.Lines.ToString() : InlineText(leaf.Inline));
                        break;
                }
            }
        }

        private void WalkList(ListBlock list, BlockKind proseKind)
        {
            var number = 1;
            if (list.IsOrdered && !int.TryParse(list.OrderedStart, NumberStyles.None, CultureInfo.InvariantCulture, out number))
            {
                number = 1;
            }

            var item = new StringBuilder();
            foreach (var child in list)
            {
                if (child is not ListItemBlock listItem)
                {
                    continue;
                }

                var prefix = list.IsOrdered ? $"{number.ToString(CultureInfo.InvariantCulture)}. " : "- ";
                number++;
                item.Clear().Append(prefix);
                var hasText = false;
                foreach (var part in listItem)
                {
                    if (part is ParagraphBlock or HeadingBlock)
                    {
                        var text = InlineText(((LeafBlock)part).Inline);
                        if (!string.IsNullOrWhiteSpace(text))
                        {
                            item.Append(hasText ? "\n" : string.Empty).Append(text);
                            hasText = true;
                        }

                        continue;
                    }

                    // A nested list, code block, quote or table: the item's own text comes first.
                    if (hasText)
                    {
                        Builder.Add(BlockKind.ListItem, item.ToString());
                        item.Clear();
                        hasText = false;
                    }

                    WalkBlocks([part], proseKind);
                }

                if (hasText)
                {
                    Builder.Add(BlockKind.ListItem, item.ToString());
                }
            }
        }

        private void AddTable(Table table)
        {
            var rows = new StringBuilder();
            foreach (var row in table)
            {
                if (row is not TableRow tableRow)
                {
                    continue;
                }

                var cells = new List<string>();
                foreach (var cell in tableRow)
                {
                    if (cell is TableCell tableCell)
                    {
                        var cellText = new StringBuilder();
                        foreach (var part in tableCell)
                        {
                            if (part is LeafBlock leaf && leaf.Inline is not null)
                            {
                                cellText.Append(InlineText(leaf.Inline)).Append(' ');
                            }
                        }

                        cells.Add(TextNormalizer.NormalizeLine(cellText.ToString()));
                    }
                }

                if (cells.Exists(c => c.Length > 0))
                {
                    rows.Append(rows.Length > 0 ? "\n" : string.Empty).AppendJoin(" | ", cells);
                }
            }

            Builder.Add(BlockKind.Table, rows.ToString());
        }

        private void ReadFrontMatter(YamlFrontMatterBlock frontMatter)
        {
            foreach (var lineObject in frontMatter.Lines)
            {
                var line = lineObject.ToString() ?? string.Empty;
                // Only top-level "key: value" pairs; nested maps and lists need a YAML parser and carry little to search on.
                if (line.Length == 0 || char.IsWhiteSpace(line[0]) || line[0] is '-' or '#' or '.')
                {
                    continue;
                }

                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    continue;
                }

                var key = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                if (value.Length >= 2 && ((value[0] == '"' && value[^1] == '"') || (value[0] == '\'' && value[^1] == '\'')))
                {
                    value = value[1..^1];
                }
                else if (value.Length >= 2 && value[0] == '[' && value[^1] == ']')
                {
                    value = value[1..^1];
                }

                value = TextNormalizer.NormalizeLine(value);
                if (key.Length > 0 && value.Length > 0)
                {
                    Metadata[key] = value;
                }
            }
        }

        private string InlineText(ContainerInline? inline)
        {
            _scratch.Clear();
            AppendInline(inline, 0);
            return _scratch.ToString();
        }

        private void AppendInline(ContainerInline? container, int depth)
        {
            if (container is null || depth > MaxInlineDepth)
            {
                return;
            }

            for (var node = container.FirstChild; node is not null; node = node.NextSibling)
            {
                switch (node)
                {
                    case LiteralInline literal:
                        _scratch.Append(literal.Content.AsSpan());
                        break;
                    case CodeInline code:
                        _scratch.Append(code.Content);
                        break;
                    case AutolinkInline autolink:
                        _scratch.Append(autolink.Url);
                        break;
                    case LineBreakInline lineBreak:
                        _scratch.Append(lineBreak.IsHard ? '\n' : ' ');
                        break;
                    case HtmlEntityInline entity:
                        _scratch.Append(entity.Transcoded.AsSpan());
                        break;
                    case HtmlInline:
                        // Tags only; the text between them arrives as literals.
                        break;
                    case ContainerInline child:
                        // Links keep their text, images their alt text, emphasis its text.
                        AppendInline(child, depth + 1);
                        break;
                }
            }
        }
    }
}

/// <summary>
/// Text of raw HTML without a DOM: tags dropped, comments, scripts and styles skipped, entities
/// decoded. Used for HTML blocks inside Markdown and for HTML too deeply nested to parse. Linear time.
/// </summary>
internal static class HtmlText
{
    public static string StripTags(string html)
    {
        var result = new StringBuilder(html.Length);
        var position = 0;
        while (position < html.Length)
        {
            var open = html.IndexOf('<', position);
            if (open < 0)
            {
                result.Append(html, position, html.Length - position);
                break;
            }

            result.Append(html, position, open - position);
            int resume;
            if (html.AsSpan(open).StartsWith("<!--", StringComparison.Ordinal))
            {
                var end = html.IndexOf("-->", open + 4, StringComparison.Ordinal);
                resume = end < 0 ? html.Length : end + 3;
            }
            else
            {
                var close = html.IndexOf('>', open + 1);
                if (close < 0)
                {
                    // No tag closes: the rest is text, and stopping here keeps this linear.
                    result.Append(html, open, html.Length - open);
                    break;
                }

                resume = close + 1;
                foreach (var skipped in (ReadOnlySpan<string>)["script", "style"])
                {
                    if (html.AsSpan(open + 1).StartsWith(skipped, StringComparison.OrdinalIgnoreCase))
                    {
                        var end = html.IndexOf("</" + skipped, resume, StringComparison.OrdinalIgnoreCase);
                        var endClose = end < 0 ? -1 : html.IndexOf('>', end);
                        resume = endClose < 0 ? html.Length : endClose + 1;
                    }
                }
            }

            result.Append(' ');
            position = resume;
        }

        return WebUtility.HtmlDecode(result.ToString());
    }
}
