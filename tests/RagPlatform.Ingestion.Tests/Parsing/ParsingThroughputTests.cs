using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using RagPlatform.Ingestion.Parsing;
using RagPlatform.Testing;

namespace RagPlatform.Ingestion.Tests.Parsing;

/// <summary>
/// Large inputs parse completely; the time taken is written to the test output (run with
/// <c>--logger "console;verbosity=detailed"</c> to see it) and never asserted.
/// </summary>
public sealed class ParsingThroughputTests
{
    private const int TargetBytes = 5 * 1024 * 1024;

    private static readonly string[] Words =
    [
        "cell", "protein", "expression", "patients", "increased", "analysis", "signaling", "mice", "tumor", "response",
        "significantly", "associated", "clinical", "receptor", "activity", "human", "levels", "role", "treatment", "gene",
        "caf\u00e9", "na\u00efve", "\u03b2-catenin", "p53", "IL-6", "in", "the", "of", "and", "with", "was", "that", "for", "by",
    ];

    private readonly DocumentParser _parser = new();

    [Fact]
    public void The_scifact_corpus_parses_as_plain_text_documents()
    {
        var documents = new List<byte[]>();
        foreach (var line in File.ReadLines(Path.Combine(RepositoryPaths.SciFact, "corpus.jsonl")))
        {
            using var json = JsonDocument.Parse(line);
            var title = json.RootElement.GetProperty("title").GetString();
            var text = json.RootElement.GetProperty("text").GetString();
            documents.Add(Encoding.UTF8.GetBytes($"{title}\n\n{text}"));
        }

        _parser.Parse(documents[0], "warm-up.txt");
        var clock = Clock.Start();
        var blocks = 0;
        foreach (var document in documents)
        {
            blocks += _parser.Parse(document, "doc.txt").Blocks.Count;
        }

        var (elapsed, cpu) = clock.Stop();
        Assert.Equal(5183, documents.Count);
        Assert.True(blocks >= documents.Count * 2 - 10, $"Expected a title and a body block per document, got {blocks} blocks.");
        Report("SciFact corpus as text (5,183 documents)", documents.Sum(d => (long)d.Length), elapsed, cpu);
    }

    [Fact]
    public void Five_megabytes_of_plain_text_parse_in_one_document()
    {
        var text = Generate(random => Paragraph(random) + "\n\n");

        var (document, elapsed, cpu) = TimedParse(text, "big.txt");

        Assert.Equal("text", document.Format);
        Assert.True(document.Blocks.Count > 5_000);
        ParsedDocumentAssert.WellFormed(document);
        Report("plain text, one 5 MB document", Encoding.UTF8.GetByteCount(text), elapsed, cpu);
    }

    [Fact]
    public void Five_megabytes_of_markdown_parse_in_one_document()
    {
        var section = 0;
        var text = Generate(random => (section++ % 8) switch
        {
            0 => $"## Section {section.ToString(CultureInfo.InvariantCulture)}\n\n",
            1 => $"{Paragraph(random)} See [the *source*](https://example.org/{section.ToString(CultureInfo.InvariantCulture)}) and `code`.\n\n",
            2 => $"- {Sentence(random)}\n- **{Sentence(random)}**\n  - {Sentence(random)}\n\n",
            3 => $"| a | b |\n|---|---|\n| {Sentence(random)} | {section.ToString(CultureInfo.InvariantCulture)} |\n\n",
            4 => "```\nfor (var i = 0; i < n; i++)\n{\n    total += i;\n}\n```\n\n",
            5 => $"> {Sentence(random)}\n\n",
            _ => Paragraph(random) + "\n\n",
        });

        var (document, elapsed, cpu) = TimedParse(text, "big.md");

        Assert.Equal("markdown", document.Format);
        Assert.Contains(document.Blocks, b => b.Kind == BlockKind.Table);
        ParsedDocumentAssert.WellFormed(document);
        Report("Markdown, one 5 MB document", Encoding.UTF8.GetByteCount(text), elapsed, cpu);
    }

    [Fact]
    public void Five_megabytes_of_html_parse_in_one_document()
    {
        var section = 0;
        var body = Generate(random => (section++ % 6) switch
        {
            0 => $"<h2 id=\"s{section.ToString(CultureInfo.InvariantCulture)}\">Section {section.ToString(CultureInfo.InvariantCulture)}</h2>\n",
            1 => $"<p class=\"lead\">{Paragraph(random)} <a href=\"/x\">link <em>text</em></a>.</p>\n",
            2 => $"<ul><li>{Sentence(random)}</li><li>{Sentence(random)}</li></ul>\n",
            3 => $"<table><tr><th>a</th><th>b</th></tr><tr><td>{Sentence(random)}</td><td>1</td></tr></table>\n",
            4 => $"<div class=\"sidebar-note\">{Sentence(random)}</div>\n",
            _ => $"<div><p>{Paragraph(random)}</p></div>\n",
        });
        var html = $"<!DOCTYPE html><html><head><title>Big</title></head><body><nav>Home</nav><main>{body}</main><footer>f</footer></body></html>";

        var (document, elapsed, cpu) = TimedParse(html, "big.html");

        Assert.Equal("html", document.Format);
        Assert.Equal("Big", document.Title);
        ParsedDocumentAssert.WellFormed(document);
        Report("HTML, one 5 MB document", Encoding.UTF8.GetByteCount(html), elapsed, cpu);
    }

    private (ParsedDocument Document, TimeSpan Elapsed, TimeSpan Cpu) TimedParse(string text, string name)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        _parser.Parse(Encoding.UTF8.GetBytes(text[..100_000]), name); // JIT warm-up on a prefix
        var clock = Clock.Start();
        var document = _parser.Parse(bytes, name);
        var (elapsed, cpu) = clock.Stop();
        return (document, elapsed, cpu);
    }

    private static string Generate(Func<Random, string> piece)
    {
        var random = new Random(42);
        var builder = new StringBuilder(TargetBytes + 4096);
        while (builder.Length < TargetBytes)
        {
            builder.Append(piece(random));
        }

        return builder.ToString();
    }

    private static string Sentence(Random random)
    {
        var words = Enumerable.Range(0, 6 + random.Next(12)).Select(_ => Words[random.Next(Words.Length)]);
        var sentence = string.Join(' ', words);
        return char.ToUpperInvariant(sentence[0]) + sentence[1..] + ".";
    }

    private static string Paragraph(Random random)
        => string.Join(random.Next(4) == 0 ? "\n" : " ", Enumerable.Range(0, 3 + random.Next(5)).Select(_ => Sentence(random)));

    /// <summary>
    /// Wall time and process CPU time: on a shared machine the wall time mostly measures the neighbours,
    /// while CPU time (all threads, so GC included) is what parsing itself costs.
    /// </summary>
    private static void Report(string what, long bytes, TimeSpan elapsed, TimeSpan cpu)
    {
        var megabytes = bytes / (1024.0 * 1024.0);
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{what}: {megabytes:F1} MB in {elapsed.TotalMilliseconds:F0} ms wall ({megabytes / elapsed.TotalSeconds:F1} MB/s), " +
            $"{cpu.TotalMilliseconds:F0} ms CPU ({megabytes / Math.Max(cpu.TotalSeconds, 0.001):F1} MB/s); load average {LoadAverage()}"));
    }

    private static string LoadAverage()
        => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";

    private readonly record struct Clock(Stopwatch Wall, TimeSpan CpuAtStart)
    {
        public static Clock Start() => new(Stopwatch.StartNew(), Process.GetCurrentProcess().TotalProcessorTime);

        public (TimeSpan Elapsed, TimeSpan Cpu) Stop() => (Wall.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - CpuAtStart);
    }
}
