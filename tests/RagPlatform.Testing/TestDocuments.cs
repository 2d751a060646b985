using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace RagPlatform.Testing;

/// <summary>What a generated DOCX holds, block by block (see <see cref="TestDocuments.Docx(DocxBlock[])"/>).</summary>
public sealed record DocxBlock(DocxBlockKind Kind, string Text, int Level = 0, IReadOnlyList<string[]>? Rows = null)
{
    /// <summary>A paragraph in the built-in Title style.</summary>
    public static DocxBlock Title(string text) => new(DocxBlockKind.Title, text);

    /// <summary>A paragraph in the Heading 1..9 style.</summary>
    public static DocxBlock Heading(int level, string text) => new(DocxBlockKind.Heading, text, level);

    public static DocxBlock Paragraph(string text) => new(DocxBlockKind.Paragraph, text);

    /// <summary>A bulleted list item; <paramref name="level"/> 0 is the outermost.</summary>
    public static DocxBlock Bullet(string text, int level = 0) => new(DocxBlockKind.Bullet, text, level);

    /// <summary>A numbered ("1.", "2.") list item.</summary>
    public static DocxBlock Numbered(string text, int level = 0) => new(DocxBlockKind.Numbered, text, level);

    /// <summary>A table; the first row is usually the header.</summary>
    public static DocxBlock Table(params string[][] rows) => new(DocxBlockKind.Table, string.Empty, 0, rows);
}

public enum DocxBlockKind
{
    Title,
    Heading,
    Paragraph,
    Bullet,
    Numbered,
    Table,
}

/// <summary>
/// Generates the bytes of every kind of file the parsing and end-to-end tests need, valid and broken,
/// deterministically (the same call always gives the same bytes, so content hashes are stable).
/// Nothing here is read from disk: tests write these bytes into temp directories when they need files.
/// </summary>
public static class TestDocuments
{
    /// <summary>The timestamp stamped into generated packages, so that their bytes never change.</summary>
    public static readonly DateTimeOffset FixedTimestamp = new(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private const double PageWidth = 595;
    private const double PageHeight = 842;
    private const double Margin = 56;
    private const double FontSize = 11;
    private const double LineHeight = 14;
    private const int CharactersPerLine = 80;

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>UTF-8 with a byte-order mark.</summary>
    public static byte[] Utf8WithBom(string text) => [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(text)];

    /// <summary>UTF-16 (little-endian unless asked) with its byte-order mark.</summary>
    public static byte[] Utf16Text(string text, bool bigEndian = false)
    {
        var encoding = new UnicodeEncoding(bigEndian, byteOrderMark: true);
        return [.. encoding.GetPreamble(), .. encoding.GetBytes(text)];
    }

    /// <summary>Latin-1 text, not valid UTF-8: the first invalid byte (0xF6, "ö") is at offset <see cref="InvalidUtf8Offset"/>.</summary>
    public static byte[] InvalidUtf8() => Encoding.Latin1.GetBytes("Hello, w\u00f6rld.\nSecond line.");

    public const int InvalidUtf8Offset = 8;

    /// <summary>
    /// A PDF with one page per array and the given paragraphs on it, in Helvetica (a standard 14 font,
    /// so the text is extractable). Paragraphs are wrapped at 80 characters; a "\n" in a paragraph
    /// forces a line break (as a hyphenated line end would be). Only WinAnsi (Latin-1-like) characters can be drawn.
    /// </summary>
    public static byte[] Pdf(params string[][] pagesOfParagraphs) => Pdf(null, null, null, pagesOfParagraphs);

    public static byte[] Pdf(string? title, string? author, DateTimeOffset? created, params string[][] pagesOfParagraphs)
    {
        var builder = new PdfDocumentBuilder();
        builder.DocumentInformation.Producer = "RagPlatform.Testing";
        builder.DocumentInformation.Title = title;
        builder.DocumentInformation.Author = author;
        builder.DocumentInformation.CreationDate = created?.ToString("'D:'yyyyMMddHHmmss'Z'", CultureInfo.InvariantCulture);
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        foreach (var paragraphs in pagesOfParagraphs)
        {
            var page = builder.AddPage(PageWidth, PageHeight);
            var y = PageHeight - Margin;
            foreach (var paragraph in paragraphs)
            {
                foreach (var line in Wrap(paragraph))
                {
                    page.AddText(line, FontSize, new PdfPoint(Margin, y), font);
                    y -= LineHeight;
                }

                // A blank line's worth of gap: what a reader (and the layout analysis) sees as a new paragraph.
                y -= LineHeight;
            }
        }

        return WithFixedId(builder.Build());
    }

    /// <summary>A real PDF cut off at 60% of its length: no cross-reference table, no %%EOF.</summary>
    public static byte[] CorruptPdf()
    {
        var whole = Pdf(["A paragraph that will be cut off along with the end of the file."], ["Second page."]);
        return whole[..(whole.Length * 6 / 10)];
    }

    /// <summary>A valid PDF whose only page holds an image and a rectangle, and no text (like a scan).</summary>
    public static byte[] PdfWithoutText()
    {
        var builder = new PdfDocumentBuilder();
        var page = builder.AddPage(PageWidth, PageHeight);
        page.AddPng(Png(), new PdfRectangle(Margin, Margin, PageWidth - Margin, PageHeight - Margin));
        page.DrawRectangle(new PdfPoint(Margin, Margin), 100, 50);
        return WithFixedId(builder.Build());
    }

    /// <summary>
    /// A PDF with a standard security handler whose passwords are unknown (neither the empty user nor
    /// owner password opens it), as a password protected file is to a reader without the password.
    /// </summary>
    public static byte[] PasswordProtectedPdf()
    {
        var o = new string('A', 64);
        var u = new string('B', 64);
        return RawPdf(
            [
                "<< /Type /Catalog /Pages 2 0 R >>",
                "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
                "<< /Length 0 >>\nstream\n\nendstream",
                $"<< /Filter /Standard /V 1 /R 2 /O <{o}> /U <{u}> /P -44 >>",
            ],
            "/Encrypt 5 0 R /ID [<00112233445566778899AABBCCDDEEFF> <00112233445566778899AABBCCDDEEFF>]");
    }

    /// <summary>
    /// A DOCX with the given blocks, styled as Word styles them (Title, Heading 1..9, list numbering
    /// for bullets and numbers, a table with borders). Core properties are set when given.
    /// </summary>
    public static byte[] Docx(params DocxBlock[] blocks) => Docx(null, null, null, blocks);

    public static byte[] Docx(string? title, string? author, DateTime? created, params DocxBlock[] blocks)
    {
        using var stream = new MemoryStream();
        using (var document = WordprocessingDocument.Create(stream, WordprocessingDocumentType.Document))
        {
            var main = document.AddMainDocumentPart();
            var stylesPart = main.AddNewPart<StyleDefinitionsPart>("rIdStyles");
            stylesPart.Styles = DocxStyles();
            var numberingPart = main.AddNewPart<NumberingDefinitionsPart>("rIdNumbering");
            numberingPart.Numbering = DocxNumbering();

            var body = new Body();
            foreach (var block in blocks)
            {
                body.Append(DocxElement(block));
            }

            main.Document = new Document(body);
            document.PackageProperties.Title = title;
            document.PackageProperties.Creator = author;
            document.PackageProperties.Created = created;
        }

        return Deterministic(stream.ToArray());
    }

    /// <summary>A typical report: title, headings at two levels, paragraphs, a bulleted and a numbered list, a table.</summary>
    public static byte[] SampleDocx() => Docx(
        title: null,
        author: "Ada Lovelace",
        created: new DateTime(2023, 5, 6, 7, 8, 9, DateTimeKind.Utc),
        DocxBlock.Title("Quarterly Report"),
        DocxBlock.Heading(1, "Summary"),
        DocxBlock.Paragraph("Revenue grew in every region this quarter."),
        DocxBlock.Heading(2, "Highlights"),
        DocxBlock.Bullet("New office in Lisbon"),
        DocxBlock.Bullet("Two product launches"),
        DocxBlock.Numbered("Hire engineers"),
        DocxBlock.Numbered("Open the second site"),
        DocxBlock.Table(["Region", "Revenue"], ["North", "120"], ["South", "95"]),
        DocxBlock.Paragraph("Figures are in millions."));

    /// <summary>A real DOCX cut in half: the ZIP directory at its end is gone.</summary>
    public static byte[] CorruptDocx()
    {
        var whole = SampleDocx();
        return whole[..(whole.Length / 2)];
    }

    /// <summary>A complete ZIP package that looks like a DOCX, but whose word/document.xml is not well-formed XML.</summary>
    public static byte[] GarbledDocx()
    {
        var whole = SampleDocx();
        using var input = new ZipArchive(new MemoryStream(whole), ZipArchiveMode.Read);
        var entries = input.Entries.Select(e =>
        {
            using var reader = new StreamReader(e.Open());
            var content = reader.ReadToEnd();
            return (e.FullName, e.FullName == "word/document.xml" ? content[..(content.Length / 2)] + "<w:p><w:r><w:t>broken" : content);
        });
        return Zip([.. entries]);
    }

    /// <summary>
    /// A DOCX whose document.xml expands from about 150 KB to 160 MB (a zip bomb; real Word XML
    /// compresses about 10:1, this about 1000:1).
    /// </summary>
    public static byte[] DocxZipBomb()
    {
        const int PaddingMegabytes = 160;
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            Add(zip, "[Content_Types].xml", DocxContentTypes);
            Add(zip, "_rels/.rels", DocxPackageRelationships);
            var entry = zip.CreateEntry("word/document.xml", CompressionLevel.SmallestSize);
            entry.LastWriteTime = FixedTimestamp;
            using var writer = new StreamWriter(entry.Open(), new UTF8Encoding(false));
            writer.Write("<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p><w:r><w:t>");
            var chunk = new string('a', 1024 * 1024);
            for (var i = 0; i < PaddingMegabytes; i++)
            {
                writer.Write(chunk);
            }

            writer.Write("</w:t></w:r></w:p></w:body></w:document>");
        }

        return output.ToArray();
    }

    /// <summary>A ZIP archive of UTF-8 text entries, with fixed timestamps.</summary>
    public static byte[] Zip(params (string Name, string Content)[] entries)
    {
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                Add(zip, name, content);
            }
        }

        return output.ToArray();
    }

    /// <summary>The parts that make a ZIP an .xlsx spreadsheet (enough for format detection).</summary>
    public static byte[] Xlsx() => Zip(
        ("[Content_Types].xml", "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>"),
        ("xl/workbook.xml", "<?xml version=\"1.0\"?><workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"/>"));

    /// <summary>A valid 1x1 PNG image.</summary>
    public static byte[] Png()
    {
        using var output = new MemoryStream();
        output.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, 1);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), 1);
        header[8] = 8; // bit depth
        header[9] = 2; // truecolour RGB
        WritePngChunk(output, "IHDR", header);
        using (var pixels = new MemoryStream())
        {
            using (var zlib = new ZLibStream(pixels, CompressionLevel.Optimal, leaveOpen: true))
            {
                zlib.Write([0, 0x33, 0x66, 0x99]); // filter byte, then one RGB pixel
            }

            WritePngChunk(output, "IDAT", pixels.ToArray());
        }

        WritePngChunk(output, "IEND", []);
        return output.ToArray();
    }

    /// <summary>The start of an ELF executable (magic number and a header's worth of bytes).</summary>
    public static byte[] Elf() => [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, .. new byte[56]];

    /// <summary>
    /// A web page full of furniture around one article: navigation, a page header and footer, a
    /// cookie banner, a sidebar, a script, a style sheet, a form, hidden elements. The article has
    /// an h1, h2, paragraphs, a bulleted and a numbered list, a table, code and a quotation.
    /// </summary>
    public const string HtmlPage = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <title>Tidal Energy Explained</title>
          <meta name="description" content="How tides become electricity.">
          <meta name="author" content="Grace Hopper">
          <meta name="keywords" content="tides, energy">
          <style>body { font-family: sans-serif; }</style>
          <script>window.analytics = { track: function () {} };</script>
        </head>
        <body>
          <div id="cookie-banner">We use cookies to improve your experience. Accept all cookies?</div>
          <header class="site-header"><a href="/">EnergySite</a> Home About Contact</header>
          <nav><ul><li><a href="/solar">Solar</a></li><li><a href="/wind">Wind</a></li></ul></nav>
          <div class="main-menu">Menu: Products Pricing Careers</div>
          <main>
            <article>
              <header><h1>Tidal   Energy
                 Explained</h1></header>
              <p>Tides move <em>huge</em> volumes of water twice a day.<br>Turbines capture that motion.</p>
              <h2>How it works</h2>
              <p>Barrages and <a href="/stream">tidal stream generators</a> are the two main designs.</p>
              <ul>
                <li>Predictable output</li>
                <li>Long-lived equipment</li>
              </ul>
              <ol start="3">
                <li>Survey the site</li>
                <li>Install the turbines</li>
              </ol>
              <table>
                <thead><tr><th>Site</th><th>Capacity (MW)</th></tr></thead>
                <tbody><tr><td>La Rance</td><td>240</td></tr><tr><td>Sihwa Lake</td><td>254</td></tr></tbody>
              </table>
              <pre><code>power = 0.5 * density * area * velocity^3
            if power &gt; limit:
                throttle()</code></pre>
              <blockquote><p>The tide is a clock that never stops.</p></blockquote>
              <p hidden>This paragraph is hidden.</p>
              <div aria-hidden="true">Decorative text.</div>
              <form><label>Subscribe</label><input type="email"></form>
            </article>
          </main>
          <aside>Related: Wave power, Geothermal</aside>
          <footer>Copyright 2024 EnergySite. All rights reserved.</footer>
          <script>trackPageView();</script>
        </body>
        </html>
        """;

    /// <summary>Markdown with YAML front matter, headings, emphasis, links, images, lists, a pipe table, code and a quote.</summary>
    public const string MarkdownSample = """
        ---
        title: "Field Guide"
        author: Jane Doe
        tags: [birds, field]
        ---
        # Birds of the Coast

        Gulls are *common* and **loud**; see [the atlas](https://example.org/atlas) and ![a gull in flight](gull.png).
        Use `binoculars` at dawn.

        ## Species

        - Herring gull
        - Common tern
          - Arctic tern

        1. Arrive early
        2. Stay quiet

        | Bird | Wingspan |
        |------|---------:|
        | Gull | 140 cm   |
        | Tern | 80 cm    |

        ```python
        def count(birds):
        	return len(birds)
        ```

        > Patience is the birder's best tool.
        """;

    /// <summary>A JSON document: a title, scalar fields, an array of scalars, a nested object and an array of objects.</summary>
    public const string JsonSample = """
        {
          "title": "Station 42",
          "active": true,
          "elevation": 1250.5,
          "tags": ["alpine", "remote"],
          "location": { "lat": 46.5, "lon": 7.9, "country": "CH" },
          "readings": [ { "t": "2024-01-01", "temp": -4 }, { "t": "2024-01-02", "temp": -6, "note": null } ]
        }
        """;

    /// <summary>CSV with quoting: a quoted comma, an escaped quote, an empty value and a multi-line value.</summary>
    public const string CsvSample = "id,name,comment\r\n1,Alice,\"Likes tea, not coffee\"\r\n2,Bob,\r\n3,\"Carol \"\"CJ\"\" Jones\",\"First line\r\nsecond line\"\r\n";

    private static IEnumerable<string> Wrap(string paragraph)
    {
        foreach (var hardLine in paragraph.Split('\n'))
        {
            var line = new StringBuilder();
            foreach (var word in hardLine.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (line.Length > 0 && line.Length + 1 + word.Length > CharactersPerLine)
                {
                    yield return line.ToString();
                    line.Clear();
                }

                line.Append(line.Length > 0 ? " " : string.Empty).Append(word);
            }

            if (line.Length > 0)
            {
                yield return line.ToString();
            }
        }
    }

    /// <summary>A PDF written object by object, with a correct cross-reference table.</summary>
    private static byte[] RawPdf(string[] objects, string trailerExtra)
    {
        var pdf = new StringBuilder("%PDF-1.4\n");
        var offsets = new List<int>();
        for (var i = 0; i < objects.Length; i++)
        {
            offsets.Add(pdf.Length);
            pdf.Append(CultureInfo.InvariantCulture, $"{i + 1} 0 obj\n{objects[i]}\nendobj\n");
        }

        var xref = pdf.Length;
        pdf.Append(CultureInfo.InvariantCulture, $"xref\n0 {objects.Length + 1}\n0000000000 65535 f \n");
        foreach (var offset in offsets)
        {
            pdf.Append(CultureInfo.InvariantCulture, $"{offset:D10} 00000 n \n");
        }

        pdf.Append(CultureInfo.InvariantCulture, $"trailer\n<< /Size {objects.Length + 1} /Root 1 0 R {trailerExtra} >>\nstartxref\n{xref}\n%%EOF\n");
        return Encoding.ASCII.GetBytes(pdf.ToString());
    }

    private static OpenXmlElement DocxElement(DocxBlock block)
    {
        switch (block.Kind)
        {
            case DocxBlockKind.Table:
                var table = new Table(new TableProperties(new TableBorders(
                    new TopBorder { Val = BorderValues.Single },
                    new BottomBorder { Val = BorderValues.Single },
                    new InsideHorizontalBorder { Val = BorderValues.Single },
                    new InsideVerticalBorder { Val = BorderValues.Single })));
                foreach (var row in block.Rows ?? [])
                {
                    table.Append(new TableRow(row.Select(cell => new TableCell(new Paragraph(new Run(new Text(cell) { Space = SpaceProcessingModeValues.Preserve }))))));
                }

                return table;
            default:
                var properties = new ParagraphProperties();
                switch (block.Kind)
                {
                    case DocxBlockKind.Title:
                        properties.ParagraphStyleId = new ParagraphStyleId { Val = "Title" };
                        break;
                    case DocxBlockKind.Heading:
                        properties.ParagraphStyleId = new ParagraphStyleId { Val = $"Heading{block.Level.ToString(CultureInfo.InvariantCulture)}" };
                        break;
                    case DocxBlockKind.Bullet or DocxBlockKind.Numbered:
                        properties.ParagraphStyleId = new ParagraphStyleId { Val = "ListParagraph" };
                        properties.NumberingProperties = new NumberingProperties(
                            new NumberingLevelReference { Val = block.Level },
                            new NumberingId { Val = block.Kind == DocxBlockKind.Bullet ? 1 : 2 });
                        break;
                }

                return new Paragraph(properties, new Run(new Text(block.Text) { Space = SpaceProcessingModeValues.Preserve }));
        }
    }

    private static Styles DocxStyles()
    {
        var styles = new Styles(
            new Style(new StyleName { Val = "Normal" }) { Type = StyleValues.Paragraph, StyleId = "Normal", Default = true },
            new Style(new StyleName { Val = "Title" }, new BasedOn { Val = "Normal" }) { Type = StyleValues.Paragraph, StyleId = "Title" },
            new Style(new StyleName { Val = "List Paragraph" }, new BasedOn { Val = "Normal" }) { Type = StyleValues.Paragraph, StyleId = "ListParagraph" });
        for (var level = 1; level <= 9; level++)
        {
            styles.Append(new Style(
                new StyleName { Val = $"heading {level.ToString(CultureInfo.InvariantCulture)}" },
                new BasedOn { Val = "Normal" },
                new StyleParagraphProperties(new OutlineLevel { Val = level - 1 }))
            {
                Type = StyleValues.Paragraph,
                StyleId = $"Heading{level.ToString(CultureInfo.InvariantCulture)}",
            });
        }

        return styles;
    }

    private static Numbering DocxNumbering()
    {
        AbstractNum List(int id, NumberFormatValues format, string text) => new(
            Enumerable.Range(0, 3).Select(level => new Level(
                new StartNumberingValue { Val = 1 },
                new NumberingFormat { Val = format },
                new LevelText { Val = text.Replace("%1", $"%{(level + 1).ToString(CultureInfo.InvariantCulture)}", StringComparison.Ordinal) })
            { LevelIndex = level }))
        { AbstractNumberId = id };

        return new Numbering(
            List(1, NumberFormatValues.Bullet, "\u2022"),
            List(2, NumberFormatValues.Decimal, "%1."),
            new NumberingInstance(new AbstractNumId { Val = 1 }) { NumberID = 1 },
            new NumberingInstance(new AbstractNumId { Val = 2 }) { NumberID = 2 });
    }

    private const string DocxContentTypes = """
        <?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>
        """;

    private const string DocxPackageRelationships = """
        <?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>
        """;

    /// <summary>
    /// Rewrites a package with fixed timestamps and relationship ids, so that the same content always
    /// gives the same bytes (the SDK stamps the current time and random ids).
    /// </summary>
    private static byte[] Deterministic(byte[] package)
    {
        using var input = new ZipArchive(new MemoryStream(package), ZipArchiveMode.Read);
        var entries = new List<(string Name, string Content)>();
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        // The core properties part gets a random name (package/services/metadata/core-properties/<guid>.psmdcp).
        var corePart = new System.Text.RegularExpressions.Regex("core-properties/[0-9a-f]{32}\\.psmdcp");
        foreach (var entry in input.Entries)
        {
            using var reader = new StreamReader(entry.Open());
            entries.Add((corePart.Replace(entry.FullName, "core-properties/core.psmdcp"), corePart.Replace(reader.ReadToEnd(), "core-properties/core.psmdcp")));
        }

        // Random relationship ids look like Id="R1a2b3c..."; number them in order of appearance.
        var pattern = new System.Text.RegularExpressions.Regex("\"(R[0-9a-f]{16})\"");
        for (var i = 0; i < entries.Count; i++)
        {
            entries[i] = (entries[i].Name, pattern.Replace(entries[i].Content, m =>
            {
                if (!ids.TryGetValue(m.Groups[1].Value, out var stable))
                {
                    stable = $"rIdGen{ids.Count.ToString(CultureInfo.InvariantCulture)}";
                    ids[m.Groups[1].Value] = stable;
                }

                return $"\"{stable}\"";
            }));
        }

        return Zip([.. entries]);
    }

    /// <summary>PdfPig writes a random file identifier; replace it (same length, so offsets hold) with a fixed one.</summary>
    private static byte[] WithFixedId(byte[] pdf)
    {
        var text = Encoding.Latin1.GetString(pdf);
        var fixedId = System.Text.RegularExpressions.Regex.Replace(text, "/ID \\[ ?<[0-9A-Fa-f]+> ?<[0-9A-Fa-f]+> ?\\]", m => System.Text.RegularExpressions.Regex.Replace(m.Value, "[0-9A-Fa-f](?=[0-9A-Fa-f]*>)", "0"));
        return Encoding.Latin1.GetBytes(fixedId);
    }

    private static void Add(ZipArchive zip, string name, string content)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
        entry.LastWriteTime = FixedTimestamp;
        using var writer = new StreamWriter(entry.Open(), new UTF8Encoding(false));
        writer.Write(content);
    }

    private static void WritePngChunk(Stream output, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        output.Write(length);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        output.Write(typeBytes);
        output.Write(data);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32([.. typeBytes, .. data]));
        output.Write(crc);
    }

    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
