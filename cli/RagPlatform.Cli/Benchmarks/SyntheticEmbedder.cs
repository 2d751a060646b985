using System.Collections.Concurrent;
using System.Numerics.Tensors;
using Microsoft.Extensions.AI;

namespace RagPlatform.Cli.Benchmarks;

/// <summary>
/// The embedder of <c>rag bench query</c>, and nothing else: a hashed bag of words projected onto fixed
/// pseudo-random directions (one 384-d direction per word, derived from a stable hash of the word), summed
/// and L2-normalised. Texts that share words get similar vectors, so vector search over the synthetic corpus
/// behaves like a search, and the same text always gives the same vector in any process. It costs a few
/// microseconds per query on purpose: the targets exclude query embedding, and a real model would hide the
/// read path's own cost.
/// </summary>
internal sealed class SyntheticEmbedder : IEmbeddingGenerator<string, Embedding<float>>
{
    public const int Dimensions = 384;

    public const string ModelId = "synthetic-hashed-bow-384";

    // Words that every text has; left in, they would give every vector a large common component.
    private static readonly HashSet<string> StopWords = new(
        ["the", "and", "for", "with", "that", "this", "are", "was", "were", "from", "have", "has", "not", "but", "which", "these", "their", "its", "than", "been", "also", "into", "between", "can", "may", "our", "all", "both", "more", "there", "such", "other"],
        StringComparer.Ordinal);

    private static readonly HashSet<ulong> StopHashes = [.. StopWords.Select(w => Hash(w))];

    private readonly ConcurrentDictionary<ulong, float[]> _directions = new();

    public EmbeddingGeneratorMetadata Metadata { get; } = new("synthetic", null, ModelId, Dimensions);

    /// <summary>The normalised embedding of <paramref name="text"/>.</summary>
    public float[] Embed(ReadOnlySpan<char> text)
    {
        var sum = new float[Dimensions];
        var words = 0;
        var i = 0;
        while (i < text.Length)
        {
            if (!char.IsLetterOrDigit(text[i]))
            {
                i++;
                continue;
            }

            var start = i;
            while (i < text.Length && char.IsLetterOrDigit(text[i]))
            {
                i++;
            }

            if (i - start < 3)
            {
                continue;
            }

            var hash = Hash(text[start..i]);
            if (StopHashes.Contains(hash))
            {
                continue;
            }

            TensorPrimitives.Add(sum, Direction(hash), sum);
            words++;
        }

        if (words == 0)
        {
            // No word to go by (empty or punctuation only): a fixed direction rather than a zero vector,
            // which no index could compare with anything.
            TensorPrimitives.Add(sum, Direction(0), sum);
        }

        TensorPrimitives.Multiply(sum, 1f / TensorPrimitives.Norm(sum), sum);
        return sum;
    }

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var value in values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            result.Add(new Embedding<float>(Embed(value)) { ModelId = ModelId });
        }

        return Task.FromResult(result);
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? Metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    public void Dispose()
    {
    }

    /// <summary>FNV-1a over the lower-cased characters: stable across processes, unlike <see cref="string.GetHashCode()"/>.</summary>
    internal static ulong Hash(ReadOnlySpan<char> word)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in word)
        {
            hash = (hash ^ char.ToLowerInvariant(c)) * 1099511628211UL;
        }

        return hash;
    }

    private float[] Direction(ulong hash) => _directions.GetOrAdd(hash, static h =>
    {
        // SplitMix64 seeded by the word's hash: uniform values in [-1, 1).
        var direction = new float[Dimensions];
        var state = h;
        for (var d = 0; d < direction.Length; d++)
        {
            state += 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            direction[d] = (float)((z >> 40) * (1.0 / (1UL << 24)) * 2.0 - 1.0);
        }

        return direction;
    });
}
