using RagPlatform.Storage.Keyword;

namespace RagPlatform.Storage.Tests.Keyword;

public sealed class TitleWeightTests
{
    private const string Body = "measurements were repeated across several independent laboratories";

    [Fact]
    public async Task A_title_weight_lifts_chunks_whose_title_has_the_word()
    {
        using var index = new KeywordTestIndex(new KeywordIndexOptions { TitleWeight = 1f });
        var inTitle = await index.AddAsync("Telomere length", Body + " overall");
        var inBody = await index.AddAsync("Overall results", Body + " telomere");

        var hits = await index.SearchAsync("telomere");

        Assert.Equal([inTitle, inBody], hits.Select(h => h.DocumentId).ToArray());
        Assert.True(hits[0].Score > hits[1].Score * 1.5, $"title hit {hits[0].Score} vs body hit {hits[1].Score}");
    }

    [Fact]
    public async Task Without_a_title_weight_the_title_counts_like_a_line_of_the_body()
    {
        using var index = new KeywordTestIndex(new KeywordIndexOptions { TitleWeight = 0f });
        await index.AddAsync("Telomere length", Body + " overall");
        await index.AddAsync("Overall length", Body + " telomere");

        var hits = await index.SearchAsync("telomere");

        Assert.Equal(2, hits.Count);
        Assert.Equal(hits[0].Score, hits[1].Score, 5);
    }

    [Fact]
    public async Task The_separate_layout_scores_body_and_title_as_two_fields()
    {
        using var index = new KeywordTestIndex(new KeywordIndexOptions { Layout = KeywordFieldLayout.Separate, TitleWeight = 0.5f });
        var inTitle = await index.AddAsync("Telomere length", Body);
        var inBody = await index.AddAsync("Overall results", Body + " telomere");
        var both = await index.AddAsync("Telomere results", Body + " telomere");

        Assert.Equal([both, inBody, inTitle], await index.FindAsync("telomere"));
    }

    [Fact]
    public async Task Query_time_settings_can_change_on_reopen()
    {
        using var index = new KeywordTestIndex(new KeywordIndexOptions { TitleWeight = 0f });
        await index.AddAsync("Telomere length", Body + " overall");
        await index.AddAsync("Overall length", Body + " telomere");
        var before = await index.SearchAsync("telomere");

        index.Reopen(new KeywordIndexOptions { TitleWeight = 2f, K1 = 1.2f, B = 0.75f });
        var after = await index.SearchAsync("telomere");

        Assert.Equal(before[0].Score, before[1].Score, 5);
        Assert.True(after[0].Score > after[1].Score * 2);
    }

    [Fact]
    public void Reopening_with_another_analysis_fails_and_says_what_to_do()
    {
        var index = new KeywordTestIndex(new KeywordIndexOptions { Stemmer = KeywordStemmer.Porter });
        try
        {
            index.Index.Dispose();
            var error = Assert.Throws<RagPlatform.Core.RagValidationException>(
                () => LuceneKeywordIndex.Open(index.Path, new KeywordIndexOptions { Stemmer = KeywordStemmer.KStem }));
            Assert.Contains("stem=Porter", error.Message, StringComparison.Ordinal);
            Assert.Contains("stem=KStem", error.Message, StringComparison.Ordinal);
            Assert.Contains("re-index", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            index.Reopen(new KeywordIndexOptions { Stemmer = KeywordStemmer.Porter });
            index.Dispose();
        }
    }

    [Theory]
    [InlineData(-0.1f, 0.4f, 0f, "K1")]
    [InlineData(0.9f, 1.5f, 0f, "B")]
    [InlineData(0.9f, float.NaN, 0f, "B")]
    [InlineData(0.9f, 0.4f, -1f, "TitleWeight")]
    public void Invalid_settings_are_rejected_naming_the_setting(float k1, float b, float titleWeight, string setting)
    {
        using var dir = new RagPlatform.Testing.TempDirectory("keyword");
        var error = Assert.Throws<RagPlatform.Core.RagValidationException>(
            () => LuceneKeywordIndex.Open(dir.Path, new KeywordIndexOptions { K1 = k1, B = b, TitleWeight = titleWeight }));
        Assert.Equal("Keyword:" + setting, error.Field);
    }
}
