using System.Text;
using RagPlatform.Core.Documents;
using RagPlatform.Ingestion.Parsing;
using RagPlatform.Testing;

namespace RagPlatform.Ingestion.Tests.Parsing;

/// <summary>
/// Property-style checks: whatever bytes arrive, Parse returns a well-formed document or throws
/// <see cref="DocumentRejectedException"/>, never anything else. Inputs come from fixed seeds, so a
/// failure reproduces.
/// </summary>
public sealed class HostileInputTests
{
    private static readonly string?[] Names = [null, "x.txt", "x.md", "x.html", "x.json", "x.csv", "x.tsv", "x.pdf", "x.docx", "x.bin"];

    private readonly DocumentParser _parser = new();

    public static TheoryData<string> ValidSamples => new(SampleFiles().Keys);

    [Fact]
    public void Random_bytes_only_ever_parse_or_are_rejected()
    {
        var random = new Random(20240601);
        for (var i = 0; i < 400; i++)
        {
            var content = new byte[random.Next(0, 2048)];
            random.NextBytes(content);
            if (i % 2 == 0)
            {
                // Half of them ASCII-ish, so that the text parsers get past decoding.
                const string Alphabet = "ab c\n\r\t,;\"'<>/{}[]:#*-|`!&=0123456789";
                for (var j = 0; j < content.Length; j++)
                {
                    content[j] = (byte)Alphabet[content[j] % Alphabet.Length];
                }
            }

            AssertParsesOrRejects(content, Names[i % Names.Length]);
        }
    }

    [Theory]
    [MemberData(nameof(ValidSamples))]
    public void Truncations_of_valid_files_only_ever_parse_or_are_rejected(string sample)
    {
        var (content, name) = SampleFiles()[sample];
        var step = Math.Max(1, content.Length / 60);
        for (var length = 0; length < content.Length; length += step)
        {
            AssertParsesOrRejects(content[..length], name);
        }
    }

    [Theory]
    [MemberData(nameof(ValidSamples))]
    public void Corrupted_bytes_in_valid_files_only_ever_parse_or_are_rejected(string sample)
    {
        var (original, name) = SampleFiles()[sample];
        var random = new Random(sample.GetHashCode(StringComparison.Ordinal) ^ 7);
        for (var i = 0; i < 60; i++)
        {
            var content = (byte[])original.Clone();
            var flips = 1 + random.Next(8);
            for (var f = 0; f < flips; f++)
            {
                content[random.Next(content.Length)] = (byte)random.Next(256);
            }

            AssertParsesOrRejects(content, name);
        }
    }

    public static TheoryData<string, string> Pathological => new()
    {
        { "deeply nested quotes.md", new string('>', 20_000) + " deep" },
        { "deeply nested lists.md", string.Concat(Enumerable.Range(0, 2_000).Select(i => new string(' ', i * 2) + "- item\n")) },
        { "unclosed brackets.md", new string('[', 50_000) + "x" + new string('*', 50_000) },
        { "deeply nested divs.html", string.Concat(Enumerable.Repeat("<div><span>", 30_000)) + "deep text" },
        { "unclosed tags.html", "<html><body>" + string.Concat(Enumerable.Repeat("<p><b><i><table><tr><td>", 5_000)) },
        { "lone brackets.html", "<!doctype html>" + new string('<', 100_000) },
        { "deep arrays.json", new string('[', 10_000) + new string(']', 10_000) },
        { "many quotes.csv", "a,b\n" + new string('"', 100_001) },
        { "one huge line.txt", new string('x', 3_000_000) },
        { "only separators.txt", string.Concat(Enumerable.Repeat("\u2028\u200B \t\r\n", 50_000)) },
        { "combining marks.txt", "a" + string.Concat(Enumerable.Repeat("\u0301\u0308", 100_000)) },
    };

    [Theory]
    [MemberData(nameof(Pathological))]
    public void Pathological_text_only_ever_parses_or_is_rejected(string name, string content)
    {
        AssertParsesOrRejects(Encoding.UTF8.GetBytes(content), name);
    }

    private void AssertParsesOrRejects(byte[] content, string? name)
    {
        ParsedDocument document;
        try
        {
            document = _parser.Parse(content, name);
        }
        catch (DocumentRejectedException ex)
        {
            Assert.NotEqual(FailureKind.None, ex.Kind);
            Assert.NotEqual(FailureKind.Internal, ex.Kind);
            Assert.False(string.IsNullOrWhiteSpace(ex.Message));
            return;
        }
        catch (Exception ex)
        {
            Assert.Fail($"Parsing {content.Length} bytes named '{name}' threw {ex.GetType().Name}: {ex.Message}");
            return;
        }

        ParsedDocumentAssert.WellFormed(document);
    }

    private static Dictionary<string, (byte[] Content, string Name)> SampleFiles() => new(StringComparer.Ordinal)
    {
        ["pdf"] = (TestDocuments.Pdf("Title", "Author", null, ["Paragraph one on the first page.", "Paragraph two."], ["Second page."]), "s.pdf"),
        ["docx"] = (TestDocuments.SampleDocx(), "s.docx"),
        ["html"] = (TestDocuments.Utf8(TestDocuments.HtmlPage), "s.html"),
        ["markdown"] = (TestDocuments.Utf8(TestDocuments.MarkdownSample), "s.md"),
        ["json"] = (TestDocuments.Utf8(TestDocuments.JsonSample), "s.json"),
        ["csv"] = (TestDocuments.Utf8(TestDocuments.CsvSample), "s.csv"),
        ["utf16"] = (TestDocuments.Utf16Text("Gr\u00fc\u00dfe\r\n\r\nzweiter Absatz"), "s.txt"),
    };
}
