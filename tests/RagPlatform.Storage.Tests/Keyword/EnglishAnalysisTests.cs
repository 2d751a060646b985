using RagPlatform.Storage.Keyword;

namespace RagPlatform.Storage.Tests.Keyword;

public sealed class EnglishAnalysisTests : IDisposable
{
    private readonly KeywordTestIndex _index = new();

    [Theory]
    [InlineData("running", "She runs every morning before work.")]
    [InlineData("studies", "A randomised study of sleep.")]
    [InlineData("inhibiting", "Aspirin inhibits platelet aggregation.")]
    public async Task Words_find_chunks_that_use_another_form_of_them(string query, string text)
    {
        var id = await _index.AddAsync("Notes", text);
        await _index.AddAsync("Other", "Completely unrelated weather report.");

        Assert.Equal([id], await _index.FindAsync(query));
    }

    [Theory]
    [InlineData(KeywordStemmer.Porter, true)]
    [InlineData(KeywordStemmer.Snowball, true)]
    [InlineData(KeywordStemmer.KStem, true)]
    [InlineData(KeywordStemmer.EnglishMinimal, true)]
    [InlineData(KeywordStemmer.None, false)]
    public async Task Each_stemmer_matches_plurals_unless_stemming_is_off(KeywordStemmer stemmer, bool matches)
    {
        using var index = new KeywordTestIndex(new KeywordIndexOptions { Stemmer = stemmer });
        var id = await index.AddAsync("Notes", "one careful study of sleep");

        Assert.Equal(matches ? [id] : [], await index.FindAsync("studies"));
    }

    [Fact]
    public async Task The_extended_stop_list_also_drops_common_function_words()
    {
        using var lucene = new KeywordTestIndex(new KeywordIndexOptions { StopWords = KeywordStopWords.Lucene });
        using var extended = new KeywordTestIndex(new KeywordIndexOptions { StopWords = KeywordStopWords.Extended });
        using var none = new KeywordTestIndex(new KeywordIndexOptions { StopWords = KeywordStopWords.None });
        foreach (var index in new[] { lucene, extended, none })
        {
            await index.AddAsync("Notes", "which of these would have been the cause");
        }

        Assert.Single(await lucene.SearchAsync("which would"));
        Assert.Empty(await extended.SearchAsync("which would"));
        Assert.Empty(await lucene.SearchAsync("of the"));
        Assert.Single(await none.SearchAsync("of the"));
    }

    [Fact]
    public async Task Stop_words_neither_match_nor_change_the_ranking()
    {
        var cat = await _index.AddAsync("Pets", "the cat sat on the mat");
        await _index.AddAsync("Grammar", "the of and to in is it was for with");

        Assert.Empty(await _index.SearchAsync("the of and"));
        var plain = await _index.SearchAsync("cat");
        var wordy = await _index.SearchAsync("the cat of the");
        Assert.Equal([cat], plain.Select(h => h.DocumentId).ToArray());
        Assert.Equal(plain.Select(h => (h.ChunkId, h.Score)), wordy.Select(h => (h.ChunkId, h.Score)));
    }

    [Fact]
    public async Task Possessives_match_the_plain_name()
    {
        var id = await _index.AddAsync("Biography", "Darwin's voyage on the Beagle.");

        Assert.Equal([id], await _index.FindAsync("darwin"));
        Assert.Equal([id], await _index.FindAsync("Darwin’s theory"));
    }

    [Fact]
    public async Task Case_and_accents_do_not_matter()
    {
        var id = await _index.AddAsync("Cuisine", "A Café in Zürich serves CRÈME brûlée.");

        Assert.Equal([id], await _index.FindAsync("cafe"));
        Assert.Equal([id], await _index.FindAsync("ZURICH"));
        Assert.Equal([id], await _index.FindAsync("creme brulee"));
    }

    [Fact]
    public async Task Invisible_format_characters_do_not_split_or_glue_words()
    {
        var id = await _index.AddAsync("Typesetting", "a hy\u00ADphen\u00ADated word and a zero\u200Bwidth\u200Djoin");

        Assert.Equal([id], await _index.FindAsync("hyphenated"));
        Assert.Equal([id], await _index.FindAsync("\u202Azerowidthjoin\u202C"));
    }

    [Fact]
    public async Task The_title_is_searched_with_the_body()
    {
        var id = await _index.AddAsync("Photosynthesis in algae", "Light drives the reaction.");

        Assert.Equal([id], await _index.FindAsync("algae"));
    }

    [Fact]
    public async Task Chunks_mentioning_a_word_more_often_rank_higher()
    {
        var once = await _index.AddAsync("A", "insulin resistance develops slowly in adults over time");
        var thrice = await _index.AddAsync("B", "insulin insulin insulin resistance develops in adults");

        Assert.Equal([thrice, once], await _index.FindAsync("insulin"));
    }

    [Fact]
    public async Task Rare_words_weigh_more_than_common_ones()
    {
        for (var i = 0; i < 20; i++)
        {
            await _index.AddAsync("Filler", $"protein sample number {i}");
        }

        var rare = await _index.AddAsync("X", "ubiquitin protein");
        var common = await _index.AddAsync("Y", "protein protein");

        Assert.Equal(rare, (await _index.FindAsync("ubiquitin protein"))[0]);
        Assert.Contains(common, await _index.FindAsync("protein"));
    }

    public void Dispose() => _index.Dispose();
}
