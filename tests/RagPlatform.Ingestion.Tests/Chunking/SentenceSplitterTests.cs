using RagPlatform.Ingestion.Chunking.Internal;

namespace RagPlatform.Ingestion.Tests.Chunking;

public sealed class SentenceSplitterTests
{
    [Theory]
    [InlineData("One sentence. Another one! A third? Yes.", "One sentence.|Another one!|A third?|Yes.")]
    [InlineData("Cells grew, e.g. in the dark. Then they died.", "Cells grew, e.g. in the dark.|Then they died.")]
    [InlineData("That is, i.e. Mostly yes. Done.", "That is, i.e. Mostly yes.|Done.")]
    [InlineData("Smith et al. Reported it first. Others agreed.", "Smith et al. Reported it first.|Others agreed.")]
    [InlineData("Ask Dr. Watson. See Fig. 3 for details.", "Ask Dr. Watson.|See Fig. 3 for details.")]
    [InlineData("Cats vs. Dogs is a debate. Apples, pears, etc. Are fruit.", "Cats vs. Dogs is a debate.|Apples, pears, etc. Are fruit.")]
    [InlineData("Written by J. R. R. Tolkien. Read it.", "Written by J. R. R. Tolkien.|Read it.")]
    [InlineData("Made in the U.S. Then shipped.", "Made in the U.S. Then shipped.")]
    [InlineData("Pi is 3.14 here. The mean was 0.05. Next.", "Pi is 3.14 here.|The mean was 0.05.|Next.")]
    [InlineData("1. Install the tool. 2. Run it.", "1. Install the tool.|2. Run it.")]
    [InlineData("It rose in 2019. The year after, it fell.", "It rose in 2019.|The year after, it fell.")]
    [InlineData("lower case after a period. does not split.", "lower case after a period. does not split.")]
    [InlineData("He said \"Stop.\" Then he left.", "He said \"Stop.\"|Then he left.")]
    [InlineData("It worked (mostly.) \"Quoted\" starts next.", "It worked (mostly.)|\"Quoted\" starts next.")]
    [InlineData("Really?! Yes... 42 is the answer.", "Really?!|Yes...|42 is the answer.")]
    [InlineData("研究结果表明。蛋白质结合显著增加！真的吗？", "研究结果表明。|蛋白质结合显著增加！|真的吗？")]
    [InlineData("日本語の文です。English follows. 한국어 문장.", "日本語の文です。|English follows.|한국어 문장.")]
    [InlineData("No terminator at the end", "No terminator at the end")]
    [InlineData("First part\n\nsecond part after a blank line.", "First part|second part after a blank line.")]
    [InlineData("Wrapped line\ncontinues here. Next sentence.", "Wrapped line\ncontinues here.|Next sentence.")]
    [InlineData("  Leading and trailing spaces.  Trimmed.  ", "Leading and trailing spaces.|Trimmed.")]
    public void Splits_sentences_at_real_ends_only(string text, string expected)
    {
        var sentences = new List<Segment>();

        SentenceSplitter.Split(text, 0, text.Length, sentences);

        Assert.Equal(expected.Split('|'), sentences.Select(s => text[s.Start..s.End]));
    }

    [Fact]
    public void Splits_only_inside_the_given_range_with_offsets_into_the_whole_text()
    {
        const string Text = "Before. Inside one. Inside two. After.";
        var sentences = new List<Segment>();

        SentenceSplitter.Split(Text, 8, 31, sentences);

        Assert.Equal([new Segment(8, 19), new Segment(20, 31)], sentences);
    }
}
