using System.Globalization;
using RagPlatform.Core;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Text;
using RagPlatform.Ingestion.Chunking;
using RagPlatform.Ingestion.Parsing;
using static RagPlatform.Ingestion.Tests.Chunking.BlockSpec;

namespace RagPlatform.Ingestion.Tests.Chunking;

public sealed class StructuredChunkerTests
{
    private static readonly string[] Topics = ["protein binding", "cell growth", "gene expression", "immune response", "drug dosage", "tumour size"];

    [Theory]
    [InlineData("tiktoken")]
    [InlineData("wordpiece")]
    public void Empty_document_gives_no_chunks(string counterName)
    {
        var chunker = new StructuredChunker(Counters.Named(counterName));

        Assert.Empty(chunker.Chunk(Documents.Build(), new ChunkingOptions()));
        Assert.Empty(chunker.Chunk(Documents.Build(Paragraph(" \n "), Paragraph("\t")), new ChunkingOptions()));
    }

    [Theory]
    [InlineData("tiktoken")]
    [InlineData("wordpiece")]
    public void Small_paragraphs_are_packed_together_and_never_cut(string counterName)
    {
        var counter = Counters.Named(counterName);
        var paragraphs = Enumerable.Range(0, 9).Select(i => Sentences(i * 3, 3)).ToList();
        var document = Documents.Build(paragraphs.Select(p => Paragraph(p)));
        var largest = paragraphs.Max(counter.CountTokens);
        var options = new ChunkingOptions { MaxTokens = (2 * largest) + 6, OverlapTokens = 0 };

        var chunks = new StructuredChunker(counter).Chunk(document, options);

        ChunkInvariants.Check(document, chunks, counter, options);
        var starts = document.Blocks.Select(b => b.Start).ToHashSet();
        var ends = document.Blocks.Select(b => b.End).ToHashSet();
        Assert.All(chunks, c => Assert.True(starts.Contains(c.Start) && ends.Contains(c.End), $"chunk [{c.Start}..{c.End}) cuts a paragraph"));
        Assert.Contains(chunks, c => c.Text.Contains("\n\n", StringComparison.Ordinal));
        Assert.True(chunks.Count < paragraphs.Count);
    }

    [Theory]
    [InlineData("tiktoken")]
    [InlineData("wordpiece")]
    public void Long_paragraph_breaks_between_sentences_not_inside_them(string counterName)
    {
        var counter = Counters.Named(counterName);
        var sentences = Enumerable.Range(0, 40).Select(i => Sentences(i, 1)).ToList();
        var document = Documents.Build(Paragraph(string.Join(' ', sentences)));
        var options = new ChunkingOptions { MaxTokens = 64, OverlapTokens = 0 };

        var chunks = new StructuredChunker(counter).Chunk(document, options);

        ChunkInvariants.Check(document, chunks, counter, options);
        Assert.True(chunks.Count > 4);
        var (starts, ends) = Offsets(document.Text, sentences, " ");
        Assert.All(chunks, c => Assert.True(starts.Contains(c.Start) && ends.Contains(c.End), $"chunk [{c.Start}..{c.End}) cuts a sentence: {c.Text}"));
        Assert.All(chunks.Zip(chunks.Skip(1)), pair => Assert.True(pair.Second.Start > pair.First.End, "chunks overlap although OverlapTokens is 0"));
    }

    [Theory]
    [InlineData("tiktoken")]
    [InlineData("wordpiece")]
    public void Over_long_paragraph_starts_a_fresh_chunk_after_a_substantial_one(string counterName)
    {
        var counter = Counters.Named(counterName);
        var lead = Sentences(0, 4);
        var document = Documents.Build(Paragraph(lead), Paragraph(Sentences(4, 30)));
        var options = new ChunkingOptions { MaxTokens = (counter.CountTokens(lead) * 3 / 2) + 1, OverlapTokens = 0 };

        var chunks = new StructuredChunker(counter).Chunk(document, options);

        ChunkInvariants.Check(document, chunks, counter, options);
        Assert.Equal(lead, chunks[0].Text);
        Assert.Equal(document.Blocks[1].Start, chunks[1].Start);
    }

    [Theory]
    [InlineData("tiktoken")]
    [InlineData("wordpiece")]
    public void Over_long_sentence_breaks_between_words(string counterName)
    {
        var counter = Counters.Named(counterName);
        var words = Enumerable.Range(0, 300).Select(i => Topics[i % Topics.Length].Split(' ')[i % 2] + i.ToString(CultureInfo.InvariantCulture)).ToList();
        var document = Documents.Build(Paragraph("Short opening sentence here. " + string.Join(' ', words) + " end."));
        var options = new ChunkingOptions { MaxTokens = 32, OverlapTokens = 0 };

        var chunks = new StructuredChunker(counter).Chunk(document, options);

        ChunkInvariants.Check(document, chunks, counter, options);
        Assert.True(chunks.Count > 5);
        var text = document.Text;
        Assert.All(chunks, c => Assert.True(
            (c.Start == 0 || text[c.Start - 1] == ' ') && (c.End == text.Length || text[c.End] == ' '),
            $"chunk [{c.Start}..{c.End}) cuts a word"));
    }

    [Theory]
    [InlineData("tiktoken", 16)]
    [InlineData("tiktoken", 100)]
    [InlineData("wordpiece", 16)]
    [InlineData("wordpiece", 100)]
    public void Single_over_long_word_is_split_by_characters_within_budget(string counterName, int maxTokens)
    {
        var counter = Counters.Named(counterName);
        var random = new Random(maxTokens);
        string[] pieces = ["a", "b", "k", "q", "z", "7", "é", "e\u0301", "ü", "中", "文", "😀", "👩‍🔬", "🇫🇷"];
        var word = string.Concat(Enumerable.Range(0, 1500).Select(_ => pieces[random.Next(pieces.Length)]));
        var document = Documents.Build(Paragraph(word));
        var options = new ChunkingOptions { MaxTokens = maxTokens, OverlapTokens = 4 };

        var chunks = new StructuredChunker(counter).Chunk(document, options);

        ChunkInvariants.Check(document, chunks, counter, options);
        Assert.True(chunks.Count > 2);
        Assert.Equal(word, string.Concat(chunks.Select(c => c.Text)));
        var graphemeStarts = StringInfo.ParseCombiningCharacters(word).ToHashSet();
        Assert.All(chunks, c => Assert.True(graphemeStarts.Contains(c.Start), $"chunk at {c.Start} starts inside a grapheme cluster"));
        Assert.All(chunks.SkipLast(1), c => Assert.True(c.TokenCount >= maxTokens / 2, $"a piece of {c.TokenCount} tokens wastes the budget of {maxTokens}"));
    }

    [Theory]
    [InlineData("tiktoken")]
    [InlineData("wordpiece")]
    public void Table_breaks_between_rows(string counterName)
    {
        var counter = Counters.Named(counterName);
        var rows = Enumerable.Range(0, 60).Select(i => $"| {Topics[i % Topics.Length]} | {i * 1.5:F1} mg | group {i % 4} |").ToList();
        var document = Documents.Build(Heading("Dosage table"), new BlockSpec(BlockKind.Table, string.Join('\n', rows)));
        var options = new ChunkingOptions { MaxTokens = 64, OverlapTokens = 0 };

        var chunks = new StructuredChunker(counter).Chunk(document, options);

        ChunkInvariants.Check(document, chunks, counter, options);
        Assert.True(chunks.Count > 3);
        var (starts, ends) = Offsets(document.Text, rows, "\n");
        Assert.All(chunks.Skip(1), c => Assert.True(starts.Contains(c.Start) && ends.Contains(c.End), $"chunk [{c.Start}..{c.End}) cuts a row"));
    }

    [Theory]
    [InlineData("tiktoken")]
    [InlineData("wordpiece")]
    public void Chunks_never_span_two_sections_even_when_both_would_fit(string counterName)
    {
        var counter = Counters.Named(counterName);
        var document = Documents.Build(
            Heading("Alpha methods"), Paragraph(Sentences(0, 2)),
            Heading("Beta results"), Paragraph(Sentences(2, 2)), Paragraph(Sentences(4, 1)));
        var options = new ChunkingOptions();

        var chunks = new StructuredChunker(counter).Chunk(document, options);

        ChunkInvariants.Check(document, chunks, counter, options);
        Assert.Equal(2, chunks.Count);
        Assert.StartsWith("Alpha methods\n\n", chunks[0].Text, StringComparison.Ordinal);
        Assert.StartsWith("Beta results\n\n", chunks[1].Text, StringComparison.Ordinal);
        Assert.EndsWith(Sentences(4, 1), chunks[1].Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tiktoken")]
    [InlineData("wordpiece")]
    public void Heading_shares_its_first_chunk_with_the_start_of_an_over_long_paragraph(string counterName)
    {
        var counter = Counters.Named(counterName);
        var body = Sentences(0, 30);
        var document = Documents.Build(Heading("Results"), Paragraph(body));
        var options = new ChunkingOptions { MaxTokens = 64, OverlapTokens = 8 };

        var chunks = new StructuredChunker(counter).Chunk(document, options);

        ChunkInvariants.Check(document, chunks, counter, options);
        Assert.StartsWith("Results\n\n" + Sentences(0, 1), chunks[0].Text, StringComparison.Ordinal);
        Assert.All(chunks, c => Assert.Equal(["Results"], c.HeadingPath));
    }

    [Theory]
    [InlineData("tiktoken")]
    [InlineData("wordpiece")]
    public void Heading_path_follows_heading_levels(string counterName)
    {
        var counter = Counters.Named(counterName);
        var document = Documents.Build(
            Paragraph("Preamble before any heading."),
            Heading("Guide", 1), Paragraph(Sentences(0, 1)),
            Heading("Install", 2), Paragraph(Sentences(1, 1)),
            Heading("On Linux", 3), Paragraph(Sentences(2, 1)),
            Heading("Configure", 2), Paragraph(Sentences(3, 1)),
            Heading("Deep", 4), Paragraph(Sentences(4, 1)),
            Heading("Reference", 1), Paragraph(Sentences(5, 1)));
        var options = new ChunkingOptions();

        var chunks = new StructuredChunker(counter).Chunk(document, options);

        ChunkInvariants.Check(document, chunks, counter, options);
        Assert.Equal(
            [
                "",
                "Guide",
                "Guide > Install",
                "Guide > Install > On Linux",
                "Guide > Configure",
                "Guide > Configure > Deep",
                "Reference",
            ],
            chunks.Select(c => string.Join(" > ", c.HeadingPath)));
    }

    [Theory]
    [InlineData("tiktoken")]
    [InlineData("wordpiece")]
    public void Page_range_spans_the_pages_of_the_blocks_a_chunk_covers(string counterName)
    {
        var counter = Counters.Named(counterName);
        var paragraphs = Enumerable.Range(0, 4).Select(i => Sentences(i * 2, 2)).ToList();
        var largest = paragraphs.Max(counter.CountTokens);
        var document = Documents.Build(
            Paragraph(paragraphs[0], page: 1), Paragraph(paragraphs[1], page: 2),
            Paragraph(paragraphs[2], page: 2), Paragraph(paragraphs[3], page: 4),
            Paragraph(Sentences(10, 20), page: 5));
        var options = new ChunkingOptions { MaxTokens = (2 * largest) + 6, OverlapTokens = 0 };

        var chunks = new StructuredChunker(counter).Chunk(document, options);

        ChunkInvariants.Check(document, chunks, counter, options);
        Assert.Equal((1, 2), (chunks[0].PageStart, chunks[0].PageEnd));
        Assert.Equal((2, 4), (chunks[1].PageStart, chunks[1].PageEnd));
        Assert.True(chunks.Count > 3);
        Assert.All(chunks.Skip(2), c => Assert.Equal((5, 5), (c.PageStart, c.PageEnd)));

        var unpaged = new StructuredChunker(counter).Chunk(Documents.Build(paragraphs.Select(p => Paragraph(p))), options);
        Assert.All(unpaged, c => Assert.True(c.PageStart is null && c.PageEnd is null));
    }

    [Theory]
    [InlineData("tiktoken")]
    [InlineData("wordpiece")]
    public void Next_chunk_starts_with_whole_trailing_sentences_of_the_previous_one(string counterName)
    {
        var counter = Counters.Named(counterName);
        var sentences = Enumerable.Range(0, 40).Select(i => Sentences(i, 1)).ToList();
        var document = Documents.Build(Heading("Findings"), Paragraph(string.Join(' ', sentences)));
        var options = new ChunkingOptions { MaxTokens = 64, OverlapTokens = 20 };

        var chunks = new StructuredChunker(counter).Chunk(document, options);

        ChunkInvariants.Check(document, chunks, counter, options);
        Assert.True(chunks.Count > 4);
        var (starts, ends) = Offsets(document.Text, sentences, " ");
        foreach (var (previous, next) in chunks.Zip(chunks.Skip(1)))
        {
            Assert.True(next.Start < previous.End, $"no overlap between [{previous.Start}..{previous.End}) and [{next.Start}..{next.End})");
            Assert.Contains(next.Start, starts);
            Assert.Contains(next.End, ends);
            Assert.True(counter.CountTokens(document.Text[next.Start..previous.End]) <= options.OverlapTokens);
        }
    }

    [Theory]
    [InlineData("tiktoken")]
    [InlineData("wordpiece")]
    public void Overlap_falls_back_to_whole_words_when_the_last_sentence_is_too_long(string counterName)
    {
        var counter = Counters.Named(counterName);
        var sentences = Enumerable.Range(0, 12).Select(i => Sentences(i, 4).Replace(". ", ", and ", StringComparison.Ordinal)).ToList();
        var document = Documents.Build(Paragraph(string.Join(' ', sentences)));
        var longest = sentences.Max(counter.CountTokens);
        var options = new ChunkingOptions { MaxTokens = (2 * longest) + 8, OverlapTokens = 10 };
        Assert.True(sentences.Min(counter.CountTokens) > options.OverlapTokens);

        var chunks = new StructuredChunker(counter).Chunk(document, options);

        ChunkInvariants.Check(document, chunks, counter, options);
        var text = document.Text;
        foreach (var (previous, next) in chunks.Zip(chunks.Skip(1)))
        {
            Assert.True(next.Start < previous.End, $"no overlap between [{previous.Start}..{previous.End}) and [{next.Start}..{next.End})");
            Assert.Equal(' ', text[next.Start - 1]);
            var overlap = counter.CountTokens(text[next.Start..previous.End]);
            Assert.InRange(overlap, 1, options.OverlapTokens);
        }
    }

    [Theory]
    [InlineData("tiktoken")]
    [InlineData("wordpiece")]
    public void No_overlap_reaches_back_into_the_previous_section(string counterName)
    {
        var counter = Counters.Named(counterName);
        var document = Documents.Build(Heading("One"), Paragraph(Sentences(0, 12)), Heading("Two"), Paragraph(Sentences(12, 12)));
        var options = new ChunkingOptions { MaxTokens = 48, OverlapTokens = 20 };

        var chunks = new StructuredChunker(counter).Chunk(document, options);

        ChunkInvariants.Check(document, chunks, counter, options);
        var second = document.Blocks[2].Start;
        var firstOfTwo = chunks.Single(c => c.Start == second);
        Assert.True(chunks[firstOfTwo.Ordinal - 1].End < second);
        Assert.Contains(chunks.Take(firstOfTwo.Ordinal).Skip(1), c => c.Start < chunks[c.Ordinal - 1].End);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    public void Budget_holds_when_joining_units_costs_more_than_their_sum(int overlapTokens)
    {
        // Charges for every space, so two sentences joined by one cost a token more than their sum;
        // a budget of exactly two sentences then only holds if the finished chunk is recounted.
        var counter = new SpaceChargingCounter();
        var document = Documents.Build(Paragraph(Sentences(0, 30)), Paragraph(Sentences(30, 30)));
        var sentence = counter.CountTokens(Sentences(0, 1));
        var options = new ChunkingOptions { MaxTokens = 2 * sentence, OverlapTokens = overlapTokens };

        var chunks = new StructuredChunker(counter).Chunk(document, options);

        ChunkInvariants.Check(document, chunks, counter, options);
        if (overlapTokens == 0)
        {
            // Two sentences sum to the budget, but joined they are one token over: each stands alone.
            Assert.All(chunks, c => Assert.DoesNotContain(". Study", c.Text, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Text_that_no_block_covers_is_still_chunked()
    {
        var counter = Counters.Named("wordpiece");
        const string Text = "Stray lead-in text.\n\nCovered paragraph.\n\nStray tail text.";
        var document = new ParsedDocument
        {
            Format = "text",
            Title = string.Empty,
            Text = Text,
            Blocks = [new TextBlock(BlockKind.Paragraph, 21, 39)],
        };
        var options = new ChunkingOptions();

        var chunks = new StructuredChunker(counter).Chunk(document, options);

        ChunkInvariants.Check(document, chunks, counter, options);
        Assert.Equal(Text, Assert.Single(chunks).Text);
    }

    [Fact]
    public void Blocks_outside_the_text_are_rejected_with_the_block_named()
    {
        var document = new ParsedDocument
        {
            Format = "text",
            Title = string.Empty,
            Text = "Short text.",
            Blocks = [new TextBlock(BlockKind.Paragraph, 0, 5), new TextBlock(BlockKind.Paragraph, 3, 40)],
        };

        var error = Assert.Throws<ArgumentException>(() => new StructuredChunker(Counters.Named("tiktoken")).Chunk(document, new ChunkingOptions()));

        Assert.Contains("Block 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("parser", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(15, 0, "Chunking:MaxTokens", "at least 16")]
    [InlineData(0, 0, "Chunking:MaxTokens", "at least 16")]
    [InlineData(256, 128, "Chunking:OverlapTokens", "from 0 to 127")]
    [InlineData(256, -1, "Chunking:OverlapTokens", "from 0 to 127")]
    [InlineData(17, 8, "Chunking:OverlapTokens", "from 0 to 7")]
    public void Out_of_range_options_are_rejected_naming_the_setting_and_the_allowed_range(int maxTokens, int overlapTokens, string field, string range)
    {
        var chunker = new StructuredChunker(Counters.Named("tiktoken"));
        var options = new ChunkingOptions { MaxTokens = maxTokens, OverlapTokens = overlapTokens };

        var error = Assert.Throws<RagValidationException>(() => chunker.Chunk(Documents.Build(Paragraph("Some text.")), options));

        Assert.Equal(field, error.Field);
        Assert.Contains(range, error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(16, 7)]
    [InlineData(256, 127)]
    [InlineData(8192, 0)]
    public void Options_at_the_edges_of_their_ranges_are_accepted(int maxTokens, int overlapTokens)
    {
        var counter = Counters.Named("tiktoken");
        var document = Documents.Build(Paragraph(Sentences(0, 20)));
        var options = new ChunkingOptions { MaxTokens = maxTokens, OverlapTokens = overlapTokens };

        var chunks = new StructuredChunker(counter).Chunk(document, options);

        ChunkInvariants.Check(document, chunks, counter, options);
    }

    /// <summary><paramref name="count"/> distinct sentences, numbered from <paramref name="first"/>, joined by spaces.</summary>
    private static string Sentences(int first, int count)
        => string.Join(' ', Enumerable.Range(first, count).Select(i =>
            $"Study {i} found that {Topics[i % Topics.Length]} changed by {i * 0.7:F1} percent in {Topics[(i + 2) % Topics.Length]} groups."));

    /// <summary>Where each of <paramref name="parts"/> (joined by <paramref name="separator"/> in <paramref name="text"/>) starts and ends.</summary>
    private static (HashSet<int> Starts, HashSet<int> Ends) Offsets(string text, List<string> parts, string separator)
    {
        var joined = string.Join(separator, parts);
        var offset = text.IndexOf(joined, StringComparison.Ordinal);
        Assert.True(offset >= 0);
        HashSet<int> starts = [], ends = [];
        foreach (var part in parts)
        {
            starts.Add(offset);
            ends.Add(offset + part.Length);
            offset += part.Length + separator.Length;
        }

        return (starts, ends);
    }

    private sealed class SpaceChargingCounter : ITokenCounter
    {
        public string Name => "test:words-and-spaces";

        public int CountTokens(string text)
            => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length + text.Count(c => c == ' ');
    }
}
