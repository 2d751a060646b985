using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Xml;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using RagPlatform.Core.Documents;

namespace RagPlatform.Ingestion.Parsing.Internal;

/// <summary>
/// DOCX through the Open XML SDK: headings from paragraph styles (Title, Heading 1-9, or an outline
/// level), list items from numbering, tables as rows of cells, and paragraphs. Headers, footers,
/// comments and tracked deletions are not part of the text.
/// </summary>
internal static class DocxParser
{
    /// <summary>
    /// Word XML compresses about 10:1; a zip bomb reaches 1000:1. Allow 100 times the file (at least
    /// 64 MB, at most 512 MB) before calling it a bomb.
    /// </summary>
    private const long ExpansionFactor = 100;
    private const long MinExpansionBytes = 64L * 1024 * 1024;
    private const long MaxExpansionBytes = 512L * 1024 * 1024;

    /// <summary>Content controls and custom XML can nest; real documents stay within a handful of levels.</summary>
    private const int MaxDepth = 64;

    public static ParsedDocument Parse(ReadOnlyMemory<byte> content, ZipDirectory? zip, string subject)
    {
        var allowed = Math.Clamp(ExpansionFactor * content.Length, MinExpansionBytes, MaxExpansionBytes);
        if (zip is not null && zip.TotalUncompressedBytes > allowed)
        {
            throw Bomb(subject, zip.TotalUncompressedBytes, content.Length);
        }

        var stream = MemoryMarshal.TryGetArray(content, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);
        using (stream)
        {
            WordprocessingDocument document;
            try
            {
                document = WordprocessingDocument.Open(stream, isEditable: false, new OpenSettings { MaxCharactersInPart = allowed });
            }
            catch (Exception ex) when (ex is not DocumentRejectedException)
            {
                throw new DocumentRejectedException(
                    FailureKind.Corrupt,
                    $"{subject} is not a readable DOCX package ({ex.Message.TrimEnd('.')}). Open it in Word to repair it, or re-export it.",
                    ex);
            }

            using (document)
            {
                try
                {
                    return Read(document, subject);
                }
                catch (XmlException ex) when (ex.Message.Contains("MaxCharactersInDocument", StringComparison.Ordinal))
                {
                    throw Bomb(subject, allowed, content.Length);
                }
            }
        }
    }

    private static DocumentRejectedException Bomb(string subject, long expanded, long size) => new(
        FailureKind.TooLarge,
        $"{subject} expands from {size.ToString("N0", CultureInfo.InvariantCulture)} bytes to more than " +
        $"{expanded.ToString("N0", CultureInfo.InvariantCulture)} bytes when unzipped, far beyond any real document (a zip bomb?). " +
        "It was not unpacked; if the document is genuine, split it into smaller files.");

    private static ParsedDocument Read(WordprocessingDocument document, string subject)
    {
        var main = document.MainDocumentPart;
        var body = main?.Document?.Body;
        var reader = new BodyReader(new NormalizedTextBuilder(), Styles.Load(main), Numbering.Load(main));
        if (body is not null)
        {
            reader.ReadBlocks(body, 0);
        }

        var properties = document.PackageProperties;
        var title = properties.Title;
        if (string.IsNullOrWhiteSpace(title))
        {
            title = reader.TitleParagraph ?? reader.FirstHeading;
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var author = TextNormalizer.NormalizeLine(properties.Creator);
        if (author.Length > 0)
        {
            metadata["author"] = author;
        }

        if (properties.Created is { } created)
        {
            var utc = created.Kind == DateTimeKind.Local ? created.ToUniversalTime() : DateTime.SpecifyKind(created, DateTimeKind.Utc);
            metadata["created"] = utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }

        return reader.Builder.Build(FileFormat.Docx, title, metadata, pageCount: null, $"{subject} contains no text in its body.");
    }

    private sealed class BodyReader(NormalizedTextBuilder builder, Styles styles, Numbering numbering)
    {
        private readonly StringBuilder _text = new();

        public NormalizedTextBuilder Builder { get; } = builder;

        public string? TitleParagraph { get; private set; }

        public string? FirstHeading { get; private set; }

        public void ReadBlocks(OpenXmlElement container, int depth)
        {
            if (depth > MaxDepth)
            {
                return;
            }

            foreach (var element in container.ChildElements)
            {
                switch (element)
                {
                    case Paragraph paragraph:
                        ReadParagraph(paragraph);
                        break;
                    case Table table:
                        ReadTable(table);
                        break;
                    case SdtBlock sdt when sdt.SdtContentBlock is { } sdtContent:
                        ReadBlocks(sdtContent, depth + 1);
                        break;
                    case CustomXmlBlock customXml:
                        ReadBlocks(customXml, depth + 1);
                        break;
                }
            }
        }

        private void ReadParagraph(Paragraph paragraph)
        {
            var text = ParagraphText(paragraph);
            if (string.IsNullOrWhiteSpace(text))
            {
                return;
            }

            var properties = paragraph.ParagraphProperties;
            var styleId = properties?.ParagraphStyleId?.Val?.Value;
            var style = styles.Resolve(styleId);
            if (style.IsTitle)
            {
                if (Builder.Add(BlockKind.Heading, text, 1))
                {
                    TitleParagraph ??= Builder.TextOf(Builder.Blocks[^1]);
                }

                return;
            }

            var outline = properties?.GetFirstChild<OutlineLevel>()?.Val?.Value ?? style.OutlineLevel;
            var level = style.HeadingLevel ?? (outline is >= 0 and < 9 ? outline + 1 : null);
            if (level is { } headingLevel)
            {
                if (Builder.Add(BlockKind.Heading, text, headingLevel))
                {
                    FirstHeading ??= Builder.TextOf(Builder.Blocks[^1]);
                }

                return;
            }

            var numberingProperties = properties?.NumberingProperties;
            var numberingId = numberingProperties?.NumberingId?.Val?.Value ?? style.NumberingId;
            if (numberingId is > 0)
            {
                var listLevel = numberingProperties?.NumberingLevelReference?.Val?.Value ?? 0;
                Builder.Add(BlockKind.ListItem, numbering.NextPrefix(numberingId.Value, listLevel) + text);
                return;
            }

            Builder.Add(BlockKind.Paragraph, text);
        }

        private void ReadTable(Table table)
        {
            var rows = new StringBuilder();
            foreach (var row in table.Elements<TableRow>())
            {
                var cells = new List<string>();
                foreach (var cell in row.Elements<TableCell>())
                {
                    var cellText = new StringBuilder();
                    foreach (var paragraph in cell.Descendants<Paragraph>())
                    {
                        cellText.Append(ParagraphText(paragraph)).Append(' ');
                    }

                    cells.Add(TextNormalizer.NormalizeLine(cellText.ToString()));
                }

                if (cells.Exists(c => c.Length > 0))
                {
                    rows.Append(rows.Length > 0 ? "\n" : string.Empty).AppendJoin(" | ", cells);
                }
            }

            Builder.Add(BlockKind.Table, rows.ToString());
        }

        private string ParagraphText(Paragraph paragraph)
        {
            _text.Clear();
            foreach (var element in paragraph.Descendants())
            {
                switch (element)
                {
                    case Text text when !InFallback(text):
                        _text.Append(text.Text);
                        break;
                    case TabChar or PositionalTab:
                        _text.Append(' ');
                        break;
                    case Break or CarriageReturn:
                        _text.Append('\n');
                        break;
                    case NoBreakHyphen:
                        _text.Append('-');
                        break;
                }
            }

            return _text.ToString();
        }

        /// <summary>Text boxes are stored twice (modern markup and a VML fallback); read only the first.</summary>
        private static bool InFallback(OpenXmlElement element)
        {
            for (var parent = element.Parent; parent is not null && parent is not Paragraph; parent = parent.Parent)
            {
                if (parent is AlternateContentFallback)
                {
                    return true;
                }
            }

            return false;
        }
    }

    private readonly record struct StyleInfo(bool IsTitle, int? HeadingLevel, int? OutlineLevel, int? NumberingId);

    /// <summary>Paragraph styles by id, with what they say about headings and lists (following <c>basedOn</c>).</summary>
    private sealed class Styles
    {
        private readonly Dictionary<string, Style> _byId = new(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, StyleInfo> _resolved = new(StringComparer.OrdinalIgnoreCase);

        public static Styles Load(MainDocumentPart? main)
        {
            var styles = new Styles();
            var all = main?.StyleDefinitionsPart?.Styles?.Elements<Style>() ?? [];
            foreach (var style in all)
            {
                if (style.StyleId?.Value is { } id)
                {
                    styles._byId.TryAdd(id, style);
                }
            }

            return styles;
        }

        public StyleInfo Resolve(string? styleId)
        {
            if (styleId is null)
            {
                return default;
            }

            if (_resolved.TryGetValue(styleId, out var cached))
            {
                return cached;
            }

            var info = FromName(styleId, null);
            var current = styleId;
            // basedOn chains are short; the bound stops a cycle in a hostile file.
            for (var hops = 0; current is not null && hops < 16 && _byId.TryGetValue(current, out var style); hops++)
            {
                var named = FromName(style.StyleId?.Value, style.StyleName?.Val?.Value);
                var paragraphProperties = style.StyleParagraphProperties;
                info = new StyleInfo(
                    info.IsTitle || (hops == 0 && named.IsTitle),
                    info.HeadingLevel ?? (hops == 0 ? named.HeadingLevel : null),
                    info.OutlineLevel ?? paragraphProperties?.GetFirstChild<OutlineLevel>()?.Val?.Value,
                    info.NumberingId ?? paragraphProperties?.NumberingProperties?.NumberingId?.Val?.Value);
                current = style.BasedOn?.Val?.Value;
            }

            _resolved[styleId] = info;
            return info;
        }

        private static StyleInfo FromName(string? id, string? name)
        {
            foreach (var candidate in new[] { id, name?.Replace(" ", string.Empty, StringComparison.Ordinal) })
            {
                if (candidate is null)
                {
                    continue;
                }

                if (string.Equals(candidate, "Title", StringComparison.OrdinalIgnoreCase))
                {
                    return new StyleInfo(true, 1, null, null);
                }

                if (candidate.Length == 8 && candidate.StartsWith("Heading", StringComparison.OrdinalIgnoreCase) && candidate[7] is >= '1' and <= '9')
                {
                    return new StyleInfo(false, candidate[7] - '0', null, null);
                }
            }

            return default;
        }
    }

    /// <summary>List numbering: bullets become "- ", numbered levels count "1. ", "2. "... per list and level.</summary>
    private sealed class Numbering
    {
        private readonly Dictionary<int, int> _abstractByNumbering = [];
        private readonly Dictionary<(int AbstractId, int Level), (bool Bullet, int Start)> _levels = [];
        private readonly Dictionary<int, int[]> _counters = [];

        public static Numbering Load(MainDocumentPart? main)
        {
            var numbering = new Numbering();
            var root = main?.NumberingDefinitionsPart?.Numbering;
            if (root is null)
            {
                return numbering;
            }

            foreach (var instance in root.Elements<NumberingInstance>())
            {
                if (instance.NumberID?.Value is { } numberId && instance.AbstractNumId?.Val?.Value is { } abstractId)
                {
                    numbering._abstractByNumbering.TryAdd(numberId, abstractId);
                }
            }

            foreach (var abstractNum in root.Elements<AbstractNum>())
            {
                if (abstractNum.AbstractNumberId?.Value is not { } abstractId)
                {
                    continue;
                }

                foreach (var level in abstractNum.Elements<Level>())
                {
                    if (level.LevelIndex?.Value is not { } index)
                    {
                        continue;
                    }

                    var format = level.NumberingFormat?.Val;
                    var bullet = format is null || format.Value == NumberFormatValues.Bullet || format.Value == NumberFormatValues.None;
                    var start = level.StartNumberingValue?.Val?.Value ?? 1;
                    numbering._levels.TryAdd((abstractId, index), (bullet, start));
                }
            }

            return numbering;
        }

        public string NextPrefix(int numberingId, int level)
        {
            level = Math.Clamp(level, 0, 8);
            if (!_abstractByNumbering.TryGetValue(numberingId, out var abstractId)
                || !_levels.TryGetValue((abstractId, level), out var definition)
                || definition.Bullet)
            {
                return "- ";
            }

            if (!_counters.TryGetValue(numberingId, out var counters))
            {
                counters = new int[9];
                _counters[numberingId] = counters;
            }

            counters[level]++;
            Array.Clear(counters, level + 1, counters.Length - level - 1);
            var number = definition.Start + counters[level] - 1;
            return $"{number.ToString(CultureInfo.InvariantCulture)}. ";
        }
    }
}
