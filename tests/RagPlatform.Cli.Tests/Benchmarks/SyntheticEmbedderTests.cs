using System.Numerics.Tensors;
using RagPlatform.Cli.Benchmarks;

namespace RagPlatform.Cli.Tests.Benchmarks;

public sealed class SyntheticEmbedderTests
{
    [Fact]
    public void The_same_text_gets_the_same_unit_vector_from_any_instance()
    {
        const string text = "Statins reduce the risk of myocardial infarction in older adults.";

        var a = new SyntheticEmbedder().Embed(text);
        var b = new SyntheticEmbedder().Embed(text);

        Assert.Equal(SyntheticEmbedder.Dimensions, a.Length);
        Assert.Equal(a, b);
        Assert.Equal(1f, TensorPrimitives.Norm(a), 4);
    }

    [Fact]
    public void Texts_sharing_words_are_closer_than_unrelated_ones()
    {
        var embedder = new SyntheticEmbedder();
        var query = embedder.Embed("vitamin D deficiency and bone fractures");

        var related = TensorPrimitives.Dot(query, embedder.Embed("Low vitamin D levels were associated with more hip fractures and lower bone density."));
        var unrelated = TensorPrimitives.Dot(query, embedder.Embed("The protein kinase regulates mitochondrial transcription in yeast cells."));

        Assert.True(related > unrelated + 0.2f, $"related {related}, unrelated {unrelated}");
    }

    [Fact]
    public void Case_and_stop_words_do_not_change_the_vector()
        => Assert.Equal(new SyntheticEmbedder().Embed("Insulin resistance in obesity"), new SyntheticEmbedder().Embed("the INSULIN resistance and obesity"));

    [Theory]
    [InlineData("")]
    [InlineData("?! -- ...")]
    public void Text_without_words_still_gets_a_unit_vector(string text)
        => Assert.Equal(1f, TensorPrimitives.Norm(new SyntheticEmbedder().Embed(text)), 4);

    [Fact]
    public async Task It_serves_the_embedding_generator_interface_in_input_order()
    {
        using var embedder = new SyntheticEmbedder();

        var result = await embedder.GenerateAsync(["alpha beta", "gamma delta"], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal([embedder.Embed("alpha beta"), embedder.Embed("gamma delta")], result.Select(e => e.Vector.ToArray()));
        Assert.All(result, e => Assert.Equal(SyntheticEmbedder.ModelId, e.ModelId));
    }
}
