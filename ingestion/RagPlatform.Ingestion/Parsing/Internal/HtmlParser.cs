using System.Globalization;
using System.Text;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;

namespace RagPlatform.Ingestion.Parsing.Internal;

/// <summary>
/// HTML through AngleSharp (the WHATWG parsing algorithm, so broken markup parses as browsers parse it).
/// Page furniture is dropped: scripts, navigation, page headers and footers, forms, hidden elements,
/// and cookie banners or menus recognisable by their class or id. The content of &lt;main&gt;, or
/// of the only &lt;article&gt;, is preferred to the whole body.
/// </summary>
internal static class HtmlParser
{
    /// <summary>Deeper than this, structure is ignored and the text is gathered without recursion.</summary>
    private const int MaxDepth = 200;

    private static readonly HashSet<string> DroppedElements = new(StringComparer.Ordinal)
    {
        "script", "style", "noscript", "template", "svg", "math", "iframe", "frame", "frameset", "object", "embed", "canvas",
        "nav", "aside", "form", "button", "select", "option", "input", "textarea", "dialog", "img", "picture", "video", "audio",
        "map", "head", "title", "meta", "link",
    };

    private static readonly HashSet<string> BlockElements = new(StringComparer.Ordinal)
    {
        "p", "div", "section", "article", "main", "body", "html", "header", "footer", "address", "figure", "figcaption", "details",
        "summary", "dl", "dt", "dd", "center", "fieldset", "legend", "hgroup", "caption", "tr", "td", "th", "tbody", "thead", "tfoot",
    };

    private static readonly HashSet<string> DroppedRoles = new(StringComparer.OrdinalIgnoreCase)
    {
        "navigation", "banner", "contentinfo", "search", "menu", "menubar", "dialog", "alertdialog",
    };

    private static readonly string[] BoilerplatePrefixes =
    [
        "menu", "navbar", "nav-", "breadcrumb", "sidebar", "skip-link", "skiplink", "share", "social", "newsletter", "advert", "ad-", "ads-", "popup", "modal",
    ];

    private static readonly string[] BoilerplateSuffixes = ["-menu", "_menu", "-nav", "_nav", "-navbar", "-sidebar", "-breadcrumb", "-breadcrumbs", "-share", "-social"];

    public static ParsedDocument Parse(string text, string subject)
    {
        if (NestingGuard.HtmlTooDeep(text))
        {
            return PlainTextParser.Parse(HtmlText.StripTags(text), subject, FileFormat.Html);
        }

        var parser = new AngleSharp.Html.Parser.HtmlParser(new HtmlParserOptions { IsScripting = false });
        using var document = parser.ParseDocument(text);

        var main = document.QuerySelector("main") ?? document.QuerySelector("[role=main]");
        var articles = main is null ? document.QuerySelectorAll("article") : null;
        var root = main ?? (articles is { Length: 1 } ? articles[0] : null) ?? document.Body ?? document.DocumentElement;

        var walker = new Walker(new NormalizedTextBuilder(text.Length + 16));
        if (root is not null)
        {
            var insideSection = root.LocalName is "main" or "article" or "section";
            walker.WalkChildren(root, new Context(BlockKind.Paragraph, InListItem: false, insideSection), 0);
            walker.Flush(BlockKind.Paragraph);
        }

        var title = document.Title;
        if (string.IsNullOrWhiteSpace(title))
        {
            title = walker.FirstH1;
        }

        return walker.Builder.Build(FileFormat.Html, title, Metadata(document), pageCount: null, $"{subject} has no visible text outside navigation, scripts and page furniture.");
    }

    private static Dictionary<string, string> Metadata(IHtmlDocument document)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var meta in document.QuerySelectorAll("meta[name]"))
        {
            var name = meta.GetAttribute("name")?.Trim().ToLowerInvariant();
            if (name is "description" or "author" or "keywords")
            {
                var content = TextNormalizer.NormalizeLine(meta.GetAttribute("content"));
                if (content.Length > 0)
                {
                    metadata.TryAdd(name, content);
                }
            }
        }

        var language = TextNormalizer.NormalizeLine(document.DocumentElement?.GetAttribute("lang"));
        if (language.Length > 0)
        {
            metadata["language"] = language;
        }

        return metadata;
    }

    private static bool IsDropped(IElement element, Context context)
    {
        var name = element.LocalName;
        if (DroppedElements.Contains(name))
        {
            return true;
        }

        // A header or footer inside an article or section is that section's own (its title, its byline);
        // only the page-level ones are site furniture.
        if (name is "header" or "footer" && !context.InsideSection)
        {
            return true;
        }

        if (element.HasAttribute("hidden")
            || string.Equals(element.GetAttribute("aria-hidden"), "true", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var role = element.GetAttribute("role");
        if (role is not null && DroppedRoles.Contains(role.Trim()))
        {
            return true;
        }

        return LooksLikeBoilerplate(element);
    }

    private static bool LooksLikeBoilerplate(IElement element)
    {
        var id = element.Id;
        var classes = element.GetAttribute("class");
        if (string.IsNullOrEmpty(id) && string.IsNullOrEmpty(classes))
        {
            return false;
        }

        var matched = IsBoilerplateName(id);
        if (!matched && classes is not null)
        {
            foreach (var name in classes.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                if (IsBoilerplateName(name))
                {
                    matched = true;
                    break;
                }
            }
        }

        // A wrapper named after a layout ("page-with-sidebar") may hold the article itself: keep anything with a top heading.
        return matched && element.QuerySelector("h1") is null;
    }

    private static bool IsBoilerplateName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        var lower = name.ToLowerInvariant();
        if (lower.Contains("cookie", StringComparison.Ordinal) || lower.Contains("consent", StringComparison.Ordinal) || lower.Contains("gdpr", StringComparison.Ordinal))
        {
            return true;
        }

        foreach (var prefix in BoilerplatePrefixes)
        {
            if (lower.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        foreach (var suffix in BoilerplateSuffixes)
        {
            if (lower.EndsWith(suffix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private readonly record struct Context(BlockKind ProseKind, bool InListItem, bool InsideSection);

    private sealed class Walker(NormalizedTextBuilder builder)
    {
        private readonly StringBuilder _buffer = new();
        private int _prefixLength;

        public NormalizedTextBuilder Builder { get; } = builder;

        public string? FirstH1 { get; private set; }

        public void WalkChildren(INode node, Context context, int depth)
        {
            // By index: AngleSharp's NextSibling searches the parent's children, which is quadratic on wide pages.
            var children = node.ChildNodes;
            for (var i = 0; i < children.Length; i++)
            {
                Walk(children[i], context, depth + 1);
            }
        }

        public void Flush(BlockKind kind)
        {
            if (_buffer.Length > 0)
            {
                if (HasText(_buffer, _prefixLength))
                {
                    Builder.Add(kind, _buffer.ToString());
                }

                _buffer.Clear();
            }

            _prefixLength = 0;
        }

        private void Flush(Context context) => Flush(context.InListItem ? BlockKind.ListItem : context.ProseKind);

        private void Walk(INode node, Context context, int depth)
        {
            if (node is IText text)
            {
                AppendCollapsed(_buffer, text.Data);
                return;
            }

            if (node is not IElement element || IsDropped(element, context))
            {
                return;
            }

            if (depth > MaxDepth)
            {
                AppendText(_buffer, element, preserveWhitespace: false);
                return;
            }

            var name = element.LocalName;
            switch (name)
            {
                case "h1" or "h2" or "h3" or "h4" or "h5" or "h6" when !context.InListItem:
                    Flush(context);
                    var heading = new StringBuilder();
                    AppendText(heading, element, preserveWhitespace: false);
                    var level = name[1] - '0';
                    if (Builder.Add(BlockKind.Heading, heading.ToString(), level) && level == 1)
                    {
                        FirstH1 ??= Builder.TextOf(Builder.Blocks[^1]);
                    }

                    return;
                case "br":
                    _buffer.Append('\n');
                    return;
                case "hr":
                    Flush(context);
                    return;
                case "pre":
                    Flush(context);
                    var code = new StringBuilder();
                    AppendText(code, element, preserveWhitespace: true);
                    Builder.AddCode(code.ToString());
                    return;
                case "table" when element is IHtmlTableElement table && !IsLayoutTable(table):
                    Flush(context);
                    AddTable(table);
                    return;
                case "ul" or "ol" or "menu":
                    Flush(context);
                    WalkList(element, context, depth);
                    return;
                case "li":
                    Flush(context);
                    _buffer.Append("- ");
                    _prefixLength = 2;
                    WalkChildren(element, context with { InListItem = true }, depth);
                    Flush(BlockKind.ListItem);
                    return;
                case "blockquote":
                    Flush(context);
                    var quote = context.InListItem ? context : context with { ProseKind = BlockKind.Quote };
                    WalkChildren(element, quote, depth);
                    Flush(quote);
                    return;
            }

            if (BlockElements.Contains(name) || name is "h1" or "h2" or "h3" or "h4" or "h5" or "h6")
            {
                var inner = name is "article" or "section" or "main" ? context with { InsideSection = true } : context;
                if (context.InListItem)
                {
                    // Paragraphs inside a list item stay in the item, on their own lines.
                    if (HasText(_buffer, _prefixLength))
                    {
                        _buffer.Append('\n');
                    }

                    WalkChildren(element, inner, depth);
                    _buffer.Append('\n');
                }
                else
                {
                    Flush(context);
                    WalkChildren(element, inner, depth);
                    Flush(inner);
                }

                return;
            }

            // Inline elements (a, em, span, code...) add their text to the current block.
            WalkChildren(element, context, depth);
        }

        private void WalkList(IElement list, Context context, int depth)
        {
            var ordered = list.LocalName == "ol";
            var number = 1;
            if (ordered && int.TryParse(list.GetAttribute("start"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var start))
            {
                number = start;
            }

            var children = list.ChildNodes;
            for (var i = 0; i < children.Length; i++)
            {
                var child = children[i];
                if (child is IElement { LocalName: "li" } item)
                {
                    if (IsDropped(item, context))
                    {
                        continue;
                    }

                    Flush(context);
                    var prefix = ordered ? $"{number.ToString(CultureInfo.InvariantCulture)}. " : "- ";
                    number++;
                    _buffer.Append(prefix);
                    _prefixLength = prefix.Length;
                    WalkChildren(item, context with { InListItem = true }, depth + 1);
                    Flush(BlockKind.ListItem);
                }
                else
                {
                    Walk(child, context, depth + 1);
                }
            }
        }

        private void AddTable(IHtmlTableElement table)
        {
            var caption = table.Caption;
            if (caption is not null)
            {
                var captionText = new StringBuilder();
                AppendText(captionText, caption, preserveWhitespace: false);
                Builder.Add(BlockKind.Paragraph, captionText.ToString());
            }

            var rows = new StringBuilder();
            var cell = new StringBuilder();
            foreach (var row in table.Rows)
            {
                var line = new List<string>();
                foreach (var tableCell in row.Cells)
                {
                    cell.Clear();
                    AppendText(cell, tableCell, preserveWhitespace: false);
                    line.Add(TextNormalizer.NormalizeLine(cell.ToString()));
                }

                if (line.Exists(c => c.Length > 0))
                {
                    rows.Append(rows.Length > 0 ? "\n" : string.Empty).AppendJoin(" | ", line);
                }
            }

            Builder.Add(BlockKind.Table, rows.ToString());
        }

        /// <summary>A table used for page layout holds blocks (paragraphs, headings, lists, other tables) rather than values.</summary>
        private static bool IsLayoutTable(IHtmlTableElement table)
            => table.QuerySelector("table, p, h1, h2, h3, h4, h5, h6, ul, ol, pre, blockquote") is not null;

        private static bool HasText(StringBuilder buffer, int from)
        {
            for (var i = from; i < buffer.Length; i++)
            {
                if (!char.IsWhiteSpace(buffer[i]))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>HTML source line breaks are just spaces; only &lt;br&gt; and blocks break lines.</summary>
        private static void AppendCollapsed(StringBuilder target, string text)
        {
            foreach (var c in text)
            {
                target.Append(c is '\n' or '\r' or '\f' ? ' ' : c);
            }
        }

        /// <summary>The text under an element, without recursion (depth is unbounded in hostile markup).</summary>
        private static void AppendText(StringBuilder target, INode root, bool preserveWhitespace)
        {
            var stack = new Stack<INode>();
            stack.Push(root);
            while (stack.Count > 0)
            {
                var node = stack.Pop();
                if (node is IText text)
                {
                    if (preserveWhitespace)
                    {
                        target.Append(text.Data);
                    }
                    else
                    {
                        AppendCollapsed(target, text.Data);
                    }

                    continue;
                }

                if (node is IElement element)
                {
                    if (!ReferenceEquals(node, root) && element.LocalName is "script" or "style" or "template" or "noscript")
                    {
                        continue;
                    }

                    if (element.LocalName == "br")
                    {
                        target.Append(preserveWhitespace ? '\n' : ' ');
                        continue;
                    }
                }
                else if (!ReferenceEquals(node, root))
                {
                    // Comments and processing instructions carry no visible text.
                    continue;
                }

                var children = node.ChildNodes;
                for (var i = children.Length - 1; i >= 0; i--)
                {
                    stack.Push(children[i]);
                }
            }
        }
    }
}
