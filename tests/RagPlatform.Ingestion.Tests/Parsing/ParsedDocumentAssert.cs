using System.Text;
using RagPlatform.Core.Documents;
using RagPlatform.Ingestion.Parsing;

namespace RagPlatform.Ingestion.Tests.Parsing;

/// <summary>The invariants every parsed document must hold, whatever its format.</summary>
internal static class ParsedDocumentAssert
{
    /// <summary>
    /// Blocks are ordered, non-empty, separated by exactly "\n\n" and cover the text; the text is
    /// normalised (NFC, no CR, no tabs or control characters, no double or trailing spaces outside
    /// code indentation, never three newlines in a row).
    /// </summary>
    public static void WellFormed(ParsedDocument document)
    {
        var text = document.Text;
        Assert.NotEmpty(document.Blocks);
        Assert.Equal(0, document.Blocks[0].Start);
        Assert.Equal(text.Length, document.Blocks[^1].End);
        for (var i = 0; i < document.Blocks.Count; i++)
        {
            var block = document.Blocks[i];
            Assert.True(block.Start < block.End, $"Block {i} is empty.");
            if (i > 0)
            {
                Assert.Equal("\n\n", text[document.Blocks[i - 1].End..block.Start]);
            }

            var blockText = text[block.Start..block.End];
            Assert.False(char.IsWhiteSpace(blockText[^1]), $"Block {i} ends with whitespace: '{blockText}'.");
            if (block.Kind != BlockKind.Code)
            {
                Assert.False(char.IsWhiteSpace(blockText[0]), $"Block {i} starts with whitespace: '{blockText}'.");
                Assert.DoesNotContain("\n\n", blockText, StringComparison.Ordinal);
                Assert.DoesNotContain("  ", blockText, StringComparison.Ordinal);
                Assert.DoesNotContain("\n ", blockText, StringComparison.Ordinal);
            }
            else
            {
                foreach (var line in blockText.Split('\n'))
                {
                    Assert.DoesNotContain("  ", line.TrimStart(' '), StringComparison.Ordinal);
                }
            }

            Assert.True(block.Kind != BlockKind.Heading || block.HeadingLevel is >= 1 and <= 9, $"Heading block {i} has level {block.HeadingLevel}.");
        }

        Assert.True(text.IsNormalized(NormalizationForm.FormC), "The text is not in NFC.");
        Assert.DoesNotContain("\r", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\t", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\n\n\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" \n", text, StringComparison.Ordinal);
        foreach (var c in text)
        {
            Assert.False(char.IsControl(c) && c != '\n', $"Control character U+{(int)c:X4} in the text.");
            Assert.False(c is '\u200B' or '\uFEFF' or '\u00AD', $"Invisible character U+{(int)c:X4} in the text.");
        }

        Assert.Equal(document.Title.Trim(), document.Title);
        Assert.DoesNotContain("\n", document.Title, StringComparison.Ordinal);
    }

    /// <summary>The text of each block, in order.</summary>
    public static string[] BlockTexts(ParsedDocument document)
        => [.. document.Blocks.Select(b => document.Text[b.Start..b.End])];

    public static (BlockKind Kind, string Text)[] KindsAndTexts(ParsedDocument document)
        => [.. document.Blocks.Select(b => (b.Kind, document.Text[b.Start..b.End]))];

    /// <summary>Asserts that parsing throws <see cref="DocumentRejectedException"/> of the kind, with every fragment in its message.</summary>
    public static DocumentRejectedException Rejected(FailureKind kind, Action parse, params string[] messageFragments)
    {
        var ex = Assert.Throws<DocumentRejectedException>(parse);
        Assert.True(kind == ex.Kind, $"Expected {kind} but was {ex.Kind}: {ex.Message}");
        foreach (var fragment in messageFragments)
        {
            Assert.Contains(fragment, ex.Message, StringComparison.OrdinalIgnoreCase);
        }

        return ex;
    }
}
