using System.Numerics.Tensors;
using Microsoft.Extensions.AI;
using RagPlatform.Core.Inference;
using RagPlatform.Inference.Embeddings;
using RagPlatform.Testing;
using static RagPlatform.Inference.Tests.TestModels;

namespace RagPlatform.Inference.Tests.Embeddings;

public sealed class OnnxEmbeddingGeneratorTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Text_embedded_alone_equals_the_same_text_padded_in_a_batch_of_longer_texts()
    {
        using var dir = EmbedderDirectory();
        using var embedder = OnnxEmbeddingGenerator.Load(dir.Path, Options(batchSize: 8));
        var shortText = "A short sentence about rivers.";

        var alone = await embedder.GenerateAsync([shortText], cancellationToken: Token);
        var batch = await embedder.GenerateAsync([Words(50), shortText, Words(40, offset: 3)], cancellationToken: Token);

        Assert.True(Cosine(alone[0].Vector, batch[1].Vector) >= 0.99999f, $"cosine {Cosine(alone[0].Vector, batch[1].Vector)}");
    }

    [Fact]
    public async Task Line_breaks_and_tabs_separate_words_as_spaces_do()
    {
        // BertTokenizer 2.0.1 deletes \n, \r and \t, gluing "cat\ndog" into "cat ##dog"; the embedder must not.
        using var dir = EmbedderDirectory();
        using var embedder = OnnxEmbeddingGenerator.Load(dir.Path, Options());

        var embeddings = await embedder.GenerateAsync(["cat\n\ndog\tbird\r\nfish", "cat dog bird fish", "cat dogbird fish"], cancellationToken: Token);

        Assert.True(Cosine(embeddings[0].Vector, embeddings[1].Vector) >= 0.99999f);
        Assert.True(Cosine(embeddings[0].Vector, embeddings[2].Vector) < 0.99999f);
    }

    [Fact]
    public async Task More_texts_than_the_batch_size_come_back_in_input_order_as_if_embedded_one_by_one()
    {
        using var dir = EmbedderDirectory();
        using var embedder = OnnxEmbeddingGenerator.Load(dir.Path, Options(batchSize: 4));
        // Lengths deliberately out of order, so that sorting by length inside the call must be undone.
        var texts = Enumerable.Range(0, 11).Select(i => Words(3 + ((i * 7) % 11) * 4, offset: i)).ToArray();

        var together = await embedder.GenerateAsync(texts, cancellationToken: Token);
        var oneByOne = new List<Embedding<float>>();
        foreach (var text in texts)
        {
            oneByOne.Add((await embedder.GenerateAsync([text], cancellationToken: Token))[0]);
        }

        Assert.Equal(texts.Length, together.Count);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.True(Cosine(together[i].Vector, oneByOne[i].Vector) >= 0.99999f, $"text {i}: cosine {Cosine(together[i].Vector, oneByOne[i].Vector)}");
            // The texts embed differently, so a permutation of the results would be caught above.
            Assert.True(Cosine(oneByOne[i].Vector, oneByOne[(i + 1) % texts.Length].Vector) < 0.9999f);
        }
    }

    [Fact]
    public async Task Text_far_over_max_tokens_embeds_as_its_truncation()
    {
        using var dir = EmbedderDirectory(("max_tokens", 16));
        using var embedder = OnnxEmbeddingGenerator.Load(dir.Path, Options());
        // 16 tokens = [CLS] + 14 word pieces + [SEP]; every word here is one piece.
        var longText = Words(2000);

        var embeddings = await embedder.GenerateAsync([longText, Words(14), Words(13)], cancellationToken: Token);

        Assert.True(Cosine(embeddings[0].Vector, embeddings[1].Vector) >= 0.99999f);
        Assert.True(Cosine(embeddings[0].Vector, embeddings[2].Vector) < 0.99999f, "one piece fewer must embed differently");
    }

    [Fact]
    public async Task Truncation_cuts_between_the_pieces_of_a_word_as_hugging_face_does()
    {
        using var dir = EmbedderDirectory(("max_tokens", 16));
        using var embedder = OnnxEmbeddingGenerator.Load(dir.Path, Options());
        // "unaffable" is una ##ffa ##ble; the budget of 14 pieces ends after "una", and "una" alone is the same piece.
        var cutInsideWord = Words(13) + " unaffable " + Words(10);

        var embeddings = await embedder.GenerateAsync([cutInsideWord, Words(13) + " una", Words(13)], cancellationToken: Token);

        Assert.True(Cosine(embeddings[0].Vector, embeddings[1].Vector) >= 0.99999f);
        Assert.True(Cosine(embeddings[0].Vector, embeddings[2].Vector) < 0.99999f);
    }

    [Fact]
    public async Task Normalized_vectors_have_unit_length_and_unnormalized_ones_do_not()
    {
        using var normalizedDir = EmbedderDirectory(("normalize", true));
        using var rawDir = EmbedderDirectory(("normalize", false));
        using var normalized = OnnxEmbeddingGenerator.Load(normalizedDir.Path, Options());
        using var raw = OnnxEmbeddingGenerator.Load(rawDir.Path, Options());
        string[] texts = ["one", "two words", Words(30)];

        var unit = await normalized.GenerateAsync(texts, cancellationToken: Token);
        var plain = await raw.GenerateAsync(texts, cancellationToken: Token);

        Assert.All(unit, e => Assert.Equal(1.0, TensorPrimitives.Norm(e.Vector.Span), 4));
        Assert.Contains(plain, e => Math.Abs(TensorPrimitives.Norm(e.Vector.Span) - 1.0) > 0.01);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.True(Cosine(unit[i].Vector, plain[i].Vector) >= 0.99999f, "normalising changes length only");
        }
    }

    [Fact]
    public async Task Mean_and_cls_pooling_give_different_vectors()
    {
        using var meanDir = EmbedderDirectory(("pooling", "mean"));
        using var clsDir = EmbedderDirectory(("pooling", "cls"));
        using var mean = OnnxEmbeddingGenerator.Load(meanDir.Path, Options());
        using var cls = OnnxEmbeddingGenerator.Load(clsDir.Path, Options());
        var text = "Pooling decides which token states make the sentence vector.";

        var byMean = await mean.GenerateAsync([text], cancellationToken: Token);
        var byCls = await cls.GenerateAsync([text, text + " " + Words(20)], cancellationToken: Token);

        Assert.True(Cosine(byMean[0].Vector, byCls[0].Vector) < 0.999f, $"cosine {Cosine(byMean[0].Vector, byCls[0].Vector)}");
        Assert.Equal(mean.Dimensions, byCls[0].Vector.Length);
    }

    [Fact]
    public async Task Query_prefix_is_prepended_to_queries_only()
    {
        using var dir = EmbedderDirectory(("query_prefix", "Represent this sentence for searching relevant passages: "));
        using var embedder = OnnxEmbeddingGenerator.Load(dir.Path, Options());
        var text = "how are rivers formed";

        var asQuery = await embedder.GenerateAsync([text], EmbeddingInputKind.QueryOptions, Token);
        var asPassage = await embedder.GenerateAsync([text], cancellationToken: Token);
        var prefixedPassage = await embedder.GenerateAsync(["Represent this sentence for searching relevant passages: " + text], cancellationToken: Token);

        Assert.True(Cosine(asQuery[0].Vector, asPassage[0].Vector) < 0.999f);
        Assert.True(Cosine(asQuery[0].Vector, prefixedPassage[0].Vector) >= 0.99999f);
    }

    [Fact]
    public async Task Passage_prefix_is_prepended_to_passages_and_query_prefix_to_queries()
    {
        using var dir = EmbedderDirectory(("query_prefix", "query: "), ("passage_prefix", "passage: "));
        using var plainDir = EmbedderDirectory();
        using var embedder = OnnxEmbeddingGenerator.Load(dir.Path, Options());
        using var plain = OnnxEmbeddingGenerator.Load(plainDir.Path, Options());

        var passage = await embedder.GenerateAsync(["rivers carve valleys"], cancellationToken: Token);
        var query = await embedder.GenerateAsync(["rivers carve valleys"], EmbeddingInputKind.QueryOptions, Token);
        var literal = await plain.GenerateAsync(["passage: rivers carve valleys", "query: rivers carve valleys"], cancellationToken: Token);

        Assert.True(Cosine(passage[0].Vector, literal[0].Vector) >= 0.99999f);
        Assert.True(Cosine(query[0].Vector, literal[1].Vector) >= 0.99999f);
        Assert.True(Cosine(passage[0].Vector, query[0].Vector) < 0.9999f);
    }

    [Fact]
    public async Task Accented_text_embeds_like_its_unaccented_form()
    {
        using var dir = EmbedderDirectory();
        using var embedder = OnnxEmbeddingGenerator.Load(dir.Path, Options());

        var embeddings = await embedder.GenerateAsync(["Café naïve résumé", "cafe naive resume", "unknown words"], cancellationToken: Token);

        Assert.True(Cosine(embeddings[0].Vector, embeddings[1].Vector) >= 0.99999f);
        Assert.Equal(3, embedder.CountTokens("Café naïve résumé"));
    }

    [Fact]
    public async Task Model_id_is_the_name_and_the_model_file_hash_and_changes_with_the_file()
    {
        using var dir = EmbedderDirectory();
        using var otherDir = EmbedderDirectory(("model_file", RepositoryPaths.TinyCrossEncoderModel));
        using var embedder = OnnxEmbeddingGenerator.Load(dir.Path, Options());
        using var other = OnnxEmbeddingGenerator.Load(otherDir.Path, Options());

        var expected = "tiny@" + Sha256Hex(RepositoryPaths.TinyEmbedderModel)[..12];
        Assert.Equal(expected, embedder.ModelId);
        Assert.Equal("tiny@" + Sha256Hex(RepositoryPaths.TinyCrossEncoderModel)[..12], other.ModelId);
        Assert.NotEqual(embedder.ModelId, other.ModelId);

        var metadata = embedder.GetService<EmbeddingGeneratorMetadata>();
        Assert.NotNull(metadata);
        Assert.Equal("onnx", metadata.ProviderName);
        Assert.Equal(expected, metadata.DefaultModelId);
        Assert.Equal(32, metadata.DefaultModelDimensions);
        var embeddings = await embedder.GenerateAsync(["model id on each vector"], cancellationToken: Token);
        Assert.Equal(expected, embeddings[0].ModelId);
    }

    [Fact]
    public async Task Pooled_model_output_is_used_as_it_is()
    {
        // The cross-encoder's logits are a [batch, 1] output: read as already pooled, one dimension.
        using var dir = EmbedderDirectory(("model_file", RepositoryPaths.TinyCrossEncoderModel), ("normalize", false));
        using var embedder = OnnxEmbeddingGenerator.Load(dir.Path, Options());

        var alone = await embedder.GenerateAsync(["pooled output"], cancellationToken: Token);
        var batch = await embedder.GenerateAsync([Words(40), "pooled output", "other"], cancellationToken: Token);

        Assert.Equal(1, embedder.Dimensions);
        // Random weights make every logit close to the others, hence the tight tolerances.
        Assert.InRange(Math.Abs(alone[0].Vector.Span[0] - batch[1].Vector.Span[0]), 0f, 1e-6f);
        Assert.True(Math.Abs(batch[1].Vector.Span[0] - batch[2].Vector.Span[0]) > 1e-6f);
    }

    [Fact]
    public async Task Empty_input_list_gives_no_embeddings_and_empty_text_embeds()
    {
        using var dir = EmbedderDirectory();
        using var embedder = OnnxEmbeddingGenerator.Load(dir.Path, Options());

        var none = await embedder.GenerateAsync([], cancellationToken: Token);
        var empty = await embedder.GenerateAsync([string.Empty], cancellationToken: Token);

        Assert.Empty(none);
        Assert.Equal(32, empty[0].Vector.Length);
        Assert.Equal(2, empty.Usage?.InputTokenCount);
    }

    [Fact]
    public async Task Null_text_is_rejected_with_its_position()
    {
        using var dir = EmbedderDirectory();
        using var embedder = OnnxEmbeddingGenerator.Load(dir.Path, Options());

        var error = await Assert.ThrowsAsync<ArgumentException>(() => embedder.GenerateAsync(["fine", null!], cancellationToken: Token));

        Assert.Contains("Text 1 is null", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelled_call_stops_with_operation_cancelled()
    {
        using var dir = EmbedderDirectory();
        using var embedder = OnnxEmbeddingGenerator.Load(dir.Path, Options());
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => embedder.GenerateAsync([Words(10)], cancellationToken: cts.Token));
    }

    [Fact]
    public async Task Concurrent_calls_give_the_same_vectors_as_sequential_ones()
    {
        using var dir = EmbedderDirectory();
        using var embedder = OnnxEmbeddingGenerator.Load(dir.Path, Options(batchSize: 3));
        var calls = Enumerable.Range(0, 6).Select(c => Enumerable.Range(0, 7).Select(i => Words(2 + (i * 5 + c) % 30, offset: c + i)).ToArray()).ToArray();

        var sequential = new List<GeneratedEmbeddings<Embedding<float>>>();
        foreach (var call in calls)
        {
            sequential.Add(await embedder.GenerateAsync(call, cancellationToken: Token));
        }

        var concurrent = await Task.WhenAll(calls.Select(call => Task.Run(() => embedder.GenerateAsync(call, cancellationToken: Token), Token)));

        for (var c = 0; c < calls.Length; c++)
        {
            for (var i = 0; i < calls[c].Length; i++)
            {
                Assert.True(Cosine(sequential[c][i].Vector, concurrent[c][i].Vector) >= 0.99999f);
            }
        }
    }
}
