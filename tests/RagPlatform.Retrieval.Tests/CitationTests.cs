using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using RagPlatform.Contracts.V1;
using RagPlatform.Retrieval.Tests.Harness;
using RagPlatform.Testing;
using Mode = RagPlatform.Contracts.V1.RetrievalMode;

namespace RagPlatform.Retrieval.Tests;

/// <summary>One pushed file of each supported type, with marker words whose place (heading path, page) is known.</summary>
public sealed record CitedFile(string Key, string ContentType, byte[] Data, IReadOnlyDictionary<string, string[]> HeadingsOfMarker, IReadOnlyDictionary<string, int> PageOfMarker)
{
    public IEnumerable<string> Markers => HeadingsOfMarker.Keys.Concat(PageOfMarker.Keys).Distinct();

    public override string ToString() => Key;
}

/// <summary>Every supported file type, pushed as bytes with its content type, long enough to make several chunks.</summary>
public sealed class CitationCorpusServer : RagTestServer
{
    public const string Tenant = "cite";

    // Before Files: static fields are initialised in order, and BuildFiles reads this one.
    private static readonly IReadOnlyDictionary<string, int> NoPages = new Dictionary<string, int>(StringComparer.Ordinal);

    public static readonly CitedFile[] Files = BuildFiles();

    public Dictionary<string, string> Ids { get; } = new(StringComparer.Ordinal);

    protected override bool WithEmbedder => true;

    protected override async Task SeedAsync()
    {
        var response = await this.PushAsync(Tenant, [.. Files.Select(f => Wire.Bytes(f.Key, f.Data, f.ContentType, "public"))]);
        foreach (var r in response.Results)
        {
            Ids[r.ExternalKey] = r.DocumentId;
        }
    }

    /// <summary>Sentences without any marker word, numbered so that no two are alike.</summary>
    public static string Filler(int sentences, int seed)
    {
        string[] subjects = ["The tide", "A grey wave", "The north wind", "Each morning fog", "The old pier"];
        string[] verbs = ["rolled over", "settled on", "swept across", "lingered near", "washed past"];
        string[] objects = ["the shingle", "the harbour wall", "the dunes", "the salt marsh", "the breakwater"];
        var text = new StringBuilder();
        for (var i = 0; i < sentences; i++)
        {
            var n = seed + i;
            text.Append(CultureInfo.InvariantCulture, $"{subjects[n % 5]} {verbs[(n / 5) % 5]} {objects[(n / 25) % 5]} on day {n}. ");
        }

        return text.ToString().TrimEnd();
    }

    private static CitedFile[] BuildFiles()
    {
        var l = Filler(60, 0);
        var m = Filler(60, 100);
        var s = Filler(60, 200);
        var text = $"Harbour log: café naïve — 🦜 kittiwake sighted.\n\n{l}\n\nA cormorant dried its wings. {m}\n\nThe last note names a guillemot and ünïcode ✓.";
        var markdown = $"# Coastal Birds\n\nIntro: the puffin, café and 🦜.\n\n{l}\n\n## Gulls\n\nThe kittiwake — naïve and loud.\n\n{m}\n\n## Terns\n\n### Arctic\n\nA skua chases terns.\n\n{s}";
        var html = $"<html><head><meta charset=\"utf-8\"><title>Shore Guide</title></head><body><main><h1>Shore Guide</h1><p>Welcome: a lighthouse, café and ✓.</p><p>{l}</p><h2>Rock Pools</h2><p>The anemone waits — naïve.</p><p>{m}</p><h3>Crabs</h3><p>A shore crab hides.</p><p>Periwinkle shells. {s}</p></main></body></html>";
        var pdf = TestDocuments.Pdf(
            ["Page one: the lighthouse keeper's café.", Filler(20, 0)],
            ["Page two: a cormorant on the rocks.", Filler(20, 100)],
            ["Page three: a guillemot at sea.", Filler(20, 200)]);
        var docx = TestDocuments.Docx(
            DocxBlock.Title("Field Manual"),
            DocxBlock.Paragraph("Opening words on the dunlin and café."),
            DocxBlock.Heading(1, "Waders"),
            DocxBlock.Paragraph("The curlew — naïve 🦜 call."),
            DocxBlock.Paragraph(l),
            DocxBlock.Heading(2, "Plovers"),
            DocxBlock.Paragraph("A ringed plover runs."),
            DocxBlock.Paragraph(m));
        var json = Encoding.UTF8.GetBytes(
            "{\"title\": \"Station Log\", \"note\": \"osprey seen — café ✓\", \"readings\": ["
            + string.Join(", ", Enumerable.Range(0, 80).Select(i => $"{{\"day\": {i}, \"text\": \"{Filler(1, i)}\"}}"))
            + "], \"closing\": \"a merlin overhead\"}");
        var csv = Encoding.UTF8.GetBytes(
            "id,bird,comment\r\n1,avocet,\"seen at dawn, café ✓\"\r\n"
            + string.Concat(Enumerable.Range(2, 80).Select(i => $"{i},none,\"{Filler(1, i)}\"\r\n"))
            + "99,bittern,\"booming — naïve\"\r\n");

        // A DOCX Title paragraph is a level-1 heading, so Heading 1 sections are its siblings.
        return
        [
            new("notes.txt", "text/plain", Encoding.UTF8.GetBytes(text), Headings(("kittiwake", []), ("cormorant", []), ("guillemot", [])), NoPages),
            new("guide.md", "text/markdown", Encoding.UTF8.GetBytes(markdown), Headings(("puffin", ["Coastal Birds"]), ("kittiwake", ["Coastal Birds", "Gulls"]), ("skua", ["Coastal Birds", "Terns", "Arctic"])), NoPages),
            new("shore.html", "text/html", Encoding.UTF8.GetBytes(html), Headings(("lighthouse", ["Shore Guide"]), ("anemone", ["Shore Guide", "Rock Pools"]), ("periwinkle", ["Shore Guide", "Rock Pools", "Crabs"])), NoPages),
            new("report.pdf", "application/pdf", pdf, Headings(), new Dictionary<string, int>(StringComparer.Ordinal) { ["lighthouse"] = 1, ["cormorant"] = 2, ["guillemot"] = 3 }),
            new("manual.docx", Wire.DocxContentType, docx, Headings(("dunlin", ["Field Manual"]), ("curlew", ["Waders"]), ("plover", ["Waders", "Plovers"])), NoPages),
            new("station.json", "application/json", json, Headings(("osprey", []), ("merlin", [])), NoPages),
            new("birds.csv", "text/csv", csv, Headings(("avocet", []), ("bittern", [])), NoPages),
        ];
    }

    private static Dictionary<string, string[]> Headings(params (string Marker, string[] Path)[] entries)
        => entries.ToDictionary(e => e.Marker, e => e.Path, StringComparer.Ordinal);
}

/// <summary>
/// Every hit cites its exact version: the version's normalised text (GetDocument include_text) at
/// [start, end) is the hit's text, so are its UTF-8 bytes at [byte_start, byte_end), PDFs carry
/// their pages, heading paths are the document's, and snippets sit in the text with their
/// highlights on query words.
/// </summary>
public sealed class CitationTests(CitationCorpusServer server) : IClassFixture<CitationCorpusServer>
{
    public static TheoryData<string, Mode> FilesAndModes()
    {
        var data = new TheoryData<string, Mode>();
        foreach (var file in CitationCorpusServer.Files)
        {
            foreach (var mode in new[] { Mode.Keyword, Mode.Vector, Mode.Hybrid })
            {
                data.Add(file.Key, mode);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(FilesAndModes))]
    public async Task Every_hit_cites_exactly_its_text_in_its_version(string key, Mode mode)
    {
        var file = CitationCorpusServer.Files.Single(f => f.Key == key);
        var id = server.Ids[key];
        var query = string.Join(' ', file.Markers) + " tide harbour";
        var request = Wire.Query(CitationCorpusServer.Tenant, query, topK: 100, mode: mode);
        request.Filters = new Filters { DocumentIds = { id } };

        var response = await server.RetrieveAsync(request);

        var doc = await server.GetDocumentAsync(CitationCorpusServer.Tenant, id, includeText: true);
        var version = Assert.Single(doc.Versions);
        var text = doc.Text;
        var utf8 = Encoding.UTF8.GetBytes(text);
        Assert.NotEmpty(response.Hits);
        Assert.True(version.ChunkCount >= 3, $"{key} made {version.ChunkCount} chunks; the test wants several");
        if (mode == Mode.Vector)
        {
            // Vector search reaches every chunk of the document, so every chunk's citation is checked,
            // and each marker's heading path or page with it.
            Assert.Equal(version.ChunkCount, response.Hits.Count);
            Assert.All(file.Markers, m => Assert.Contains(response.Hits, h => ContainsWord(h.Text, m)));
        }

        foreach (var hit in response.Hits)
        {
            var c = hit.Citation;
            Assert.Equal((id, hit.ChunkId, doc.TextVersion), (c.DocumentId, c.ChunkId, c.Version));
            Assert.InRange(c.Start, 0, c.End);
            Assert.InRange(c.End, c.Start, text.Length);
            Assert.Equal(hit.Text, text[c.Start..c.End]);
            Assert.InRange(c.ByteStart, 0, c.ByteEnd);
            Assert.InRange(c.ByteEnd, c.ByteStart, utf8.Length);
            Assert.Equal(hit.Text, Encoding.UTF8.GetString(utf8, c.ByteStart, c.ByteEnd - c.ByteStart));
            Assert.Equal(Encoding.UTF8.GetByteCount(text.AsSpan(0, c.Start)), c.ByteStart);
            AssertPages(file, version, hit);
            AssertHeadings(file, hit);
            AssertSnippet(text, hit, query);
        }
    }

    [Fact]
    public async Task Multi_byte_characters_before_a_chunk_shift_its_byte_offsets_but_not_its_character_offsets()
    {
        var request = Wire.Query(CitationCorpusServer.Tenant, "guillemot ünïcode", topK: 1, mode: Mode.Keyword);
        request.Filters = new Filters { DocumentIds = { server.Ids["notes.txt"] } };

        var hit = Assert.Single((await server.RetrieveAsync(request)).Hits);

        Assert.Contains("guillemot", hit.Text, StringComparison.Ordinal);
        Assert.True(hit.Citation.ByteStart > hit.Citation.Start, "the é, ï, — and 🦜 before the chunk take more than one byte each");
        Assert.Equal(Encoding.UTF8.GetByteCount(hit.Text), hit.Citation.ByteEnd - hit.Citation.ByteStart);
    }

    [Fact]
    public async Task A_citation_of_an_old_version_still_points_into_that_versions_text()
    {
        var tenant = Wire.NewTenant("versions");
        var v1 = $"Old text about the kestrel. {CitationCorpusServer.Filler(3, 7)}";
        var id = (await server.PushAsync(tenant, Wire.Text("a", v1, "public"))).Results[0].DocumentId;
        var old = Assert.Single((await server.RetrieveAsync(Wire.Query(tenant, "kestrel", mode: Mode.Keyword))).Hits);

        await server.PushAsync(tenant, Wire.Text("a", "New text, longer than before, about a merlin and the kestrel together.", "public"));
        var current = Assert.Single((await server.RetrieveAsync(Wire.Query(tenant, "kestrel", mode: Mode.Keyword))).Hits);
        var oldText = (await server.GetDocumentAsync(tenant, id, includeText: true, version: old.Citation.Version)).Text;
        var newText = (await server.GetDocumentAsync(tenant, id, includeText: true)).Text;

        Assert.Equal((1, 2), (old.Citation.Version, current.Citation.Version));
        Assert.Equal(old.Text, oldText[old.Citation.Start..old.Citation.End]);
        Assert.Equal(current.Text, newText[current.Citation.Start..current.Citation.End]);
    }

    [Fact]
    public async Task Snippets_can_be_turned_off()
    {
        var request = Wire.Query(CitationCorpusServer.Tenant, "kittiwake", topK: 3, mode: Mode.Keyword);
        request.Snippets = false;

        var response = await server.RetrieveAsync(request);

        Assert.NotEmpty(response.Hits);
        Assert.All(response.Hits, h => Assert.Null(h.Citation.Snippet));
    }

    [Fact]
    public async Task A_long_chunks_snippet_is_a_window_around_the_best_match()
    {
        var request = Wire.Query(CitationCorpusServer.Tenant, "cormorant wings", topK: 1, mode: Mode.Keyword);
        request.Filters = new Filters { DocumentIds = { server.Ids["notes.txt"] } };

        var hit = Assert.Single((await server.RetrieveAsync(request)).Hits);

        var snippet = hit.Citation.Snippet;
        Assert.True(hit.Text.Length > 240, "the chunk should be longer than a snippet");
        Assert.InRange(snippet.Text.Length, 1, 240);
        Assert.Contains("cormorant", snippet.Text, StringComparison.Ordinal);
        Assert.Contains(snippet.Highlights, h => snippet.Text[h.Start..h.End] == "cormorant");
    }

    private static void AssertPages(CitedFile file, DocumentVersion version, Hit hit)
    {
        var c = hit.Citation;
        if (file.ContentType != "application/pdf")
        {
            Assert.False(c.HasPageStart || c.HasPageEnd, $"{file.Key} has no pages, yet a hit cites {c.PageStart}-{c.PageEnd}");
            return;
        }

        Assert.True(c.HasPageStart && c.HasPageEnd, $"a PDF hit of {file.Key} has no page range");
        Assert.InRange(c.PageStart, 1, c.PageEnd);
        Assert.InRange(c.PageEnd, c.PageStart, version.PageCount);
        foreach (var (marker, page) in file.PageOfMarker)
        {
            if (ContainsWord(hit.Text, marker))
            {
                Assert.InRange(page, c.PageStart, c.PageEnd);
            }
        }
    }

    private static void AssertHeadings(CitedFile file, Hit hit)
    {
        foreach (var (marker, path) in file.HeadingsOfMarker)
        {
            if (ContainsWord(hit.Text, marker))
            {
                Assert.Equal(path, hit.Citation.HeadingPath);
            }
        }

        // Whatever the chunk, its heading path is a path of the document's own headings.
        var known = file.HeadingsOfMarker.Values.SelectMany(p => p).ToHashSet(StringComparer.Ordinal);
        Assert.All(hit.Citation.HeadingPath, h => Assert.Contains(h, known));
    }

    private static void AssertSnippet(string versionText, Hit hit, string query)
    {
        var snippet = hit.Citation.Snippet;
        Assert.NotNull(snippet);
        Assert.NotEmpty(snippet.Text);
        Assert.InRange(snippet.Start, hit.Citation.Start, hit.Citation.End - snippet.Text.Length);
        Assert.Equal(snippet.Text, versionText.Substring(snippet.Start, snippet.Text.Length));
        var words = query.Split(' ').ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var h in snippet.Highlights)
        {
            Assert.InRange(h.Start, 0, h.End - 1);
            Assert.InRange(h.End, h.Start + 1, snippet.Text.Length);
            // The analyzer stems, so "Plovers" is a match for "plover".
            var highlighted = snippet.Text[h.Start..h.End];
            Assert.True(
                words.Any(w => highlighted.StartsWith(w, StringComparison.OrdinalIgnoreCase) || w.StartsWith(highlighted, StringComparison.OrdinalIgnoreCase)),
                $"'{highlighted}' is highlighted but is no query word");
        }

        // Every whole query word in the snippet is highlighted.
        foreach (Match m in Regex.Matches(snippet.Text, @"\w+"))
        {
            if (words.Contains(m.Value))
            {
                Assert.Contains(snippet.Highlights, h => h.Start == m.Index && h.End == m.Index + m.Length);
            }
        }
    }

    private static bool ContainsWord(string text, string word) => Regex.IsMatch(text, $@"\b{Regex.Escape(word)}\b", RegexOptions.IgnoreCase);
}
