using System.Security.Cryptography;
using System.Text;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Text;
using RagPlatform.Ingestion.Chunking;
using RagPlatform.Ingestion.Parsing;

namespace RagPlatform.Ingestion.Tests.Chunking;

/// <summary>
/// Checks everything <see cref="StructuredChunker"/> promises for any document, against a model of
/// sections, heading paths and pages computed here from the input blocks, independently of the chunker.
/// </summary>
public static class ChunkInvariants
{
    public static void Check(ParsedDocument document, IReadOnlyList<TextChunk> chunks, ITokenCounter counter, ChunkingOptions options)
    {
        var text = document.Text;
        var headings = document.Blocks.Where(b => b.Kind == BlockKind.Heading && !string.IsNullOrWhiteSpace(text[b.Start..b.End])).ToList();
        var covered = new bool[text.Length];
        var paged = document.Blocks.Any(b => b.Page is not null);

        for (var k = 0; k < chunks.Count; k++)
        {
            var chunk = chunks[k];
            var where = $"chunk {k} [{chunk.Start}..{chunk.End}) of {chunks.Count} (max {options.MaxTokens}, overlap {options.OverlapTokens}, {counter.Name})";
            Assert.True(chunk.Ordinal == k, $"{where}: ordinal {chunk.Ordinal}");
            Assert.True(chunk.Start >= 0 && chunk.End <= text.Length && chunk.Start < chunk.End, $"{where}: range outside the text");
            Assert.True(text[chunk.Start..chunk.End] == chunk.Text, $"{where}: text differs from the document at its offsets");
            Assert.True(!char.IsWhiteSpace(chunk.Text[0]) && !char.IsWhiteSpace(chunk.Text[^1]), $"{where}: starts or ends with whitespace");

            var tokens = counter.CountTokens(chunk.Text);
            Assert.True(tokens == chunk.TokenCount, $"{where}: TokenCount {chunk.TokenCount}, counter says {tokens}");
            Assert.True(tokens <= options.MaxTokens, $"{where}: {tokens} tokens over the budget");
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(chunk.Text))), chunk.ContentHash);

            var section = SectionOf(headings, chunk.Start);
            Assert.True(section == SectionOf(headings, chunk.End - 1), $"{where}: spans two sections");
            Assert.Equal(ExpectedHeadingPath(text, headings, section), chunk.HeadingPath);

            var pages = document.Blocks.Where(b => b.Start < chunk.End && b.End > chunk.Start && b.Page is not null).Select(b => b.Page!.Value).ToList();
            Assert.Equal(paged && pages.Count > 0 ? pages.Min() : null, chunk.PageStart);
            Assert.Equal(paged && pages.Count > 0 ? pages.Max() : null, chunk.PageEnd);

            for (var i = chunk.Start; i < chunk.End; i++)
            {
                covered[i] = true;
            }

            if (k == 0)
            {
                continue;
            }

            var previous = chunks[k - 1];
            Assert.True(chunk.End > previous.End && chunk.Start >= previous.Start, $"{where}: not after chunk {k - 1} [{previous.Start}..{previous.End})");
            if (chunk.Start < previous.End)
            {
                Assert.True(section == SectionOf(headings, previous.Start), $"{where}: overlaps the previous section");
                var overlap = text[chunk.Start..previous.End];
                Assert.True(counter.CountTokens(overlap) <= options.OverlapTokens, $"{where}: overlap '{overlap}' over {options.OverlapTokens} tokens");
                Assert.True(chunk.Start > previous.Start, $"{where}: contains the whole previous chunk");
                Assert.True(
                    char.IsWhiteSpace(text[chunk.Start - 1]) || "。｡！？」』）】".Contains(text[chunk.Start - 1], StringComparison.Ordinal),
                    $"{where}: overlap starts inside a word");
            }
        }

        for (var i = 0; i < text.Length; i++)
        {
            Assert.True(covered[i] || char.IsWhiteSpace(text[i]), $"character {i} ('{text[i]}') is in no chunk");
        }

        foreach (var heading in headings)
        {
            // A heading over the budget on its own can only be split; one that fits is never cut.
            var first = chunks.First(c => c.End > heading.Start);
            var fits = counter.CountTokens(text[heading.Start..heading.End]) <= options.MaxTokens;
            Assert.True(
                first.Start == heading.Start && (first.End >= heading.End || !fits),
                $"heading '{text[heading.Start..heading.End]}' is not at the start of its section's first chunk [{first.Start}..{first.End})");
        }
    }

    /// <summary>The index of the last heading at or before <paramref name="position"/>; -1 before any heading.</summary>
    private static int SectionOf(List<TextBlock> headings, int position)
    {
        var section = -1;
        while (section + 1 < headings.Count && headings[section + 1].Start <= position)
        {
            section++;
        }

        return section;
    }

    private static List<string> ExpectedHeadingPath(string text, List<TextBlock> headings, int section)
    {
        var stack = new List<(int Level, string Text)>();
        for (var h = 0; h <= section; h++)
        {
            var level = Math.Max(1, headings[h].HeadingLevel);
            stack.RemoveAll(e => e.Level >= level);
            stack.Add((level, string.Join(' ', text[headings[h].Start..headings[h].End].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))));
        }

        return stack.ConvertAll(e => e.Text);
    }
}
