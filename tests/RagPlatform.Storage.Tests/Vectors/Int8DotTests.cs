using System.Numerics.Tensors;
using RagPlatform.Storage.Vectors.Internal;

namespace RagPlatform.Storage.Tests.Vectors;

public sealed class Int8DotTests
{
    /// <summary>Every kernel this machine can run; the scalar one is the reference.</summary>
    public static TheoryData<string> Kernels => new(Enum.GetValues<Int8Kernel>().Where(k => k != Int8Kernel.Scalar && Int8Dot.IsSupported(k)).Select(k => k.ToString()));

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Each_vector_kernel_agrees_with_the_scalar_one_at_every_length(string kernelName)
    {
        var kernel = Enum.Parse<Int8Kernel>(kernelName);
        var rng = new Random(99);
        foreach (var length in new[] { 1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 384, 1000 })
        {
            var row = new sbyte[length];
            var query = new short[length];
            for (var i = 0; i < length; i++)
            {
                row[i] = (sbyte)rng.Next(-127, 128);
                query[i] = (short)rng.Next(-127, 128);
            }

            Assert.Equal(Int8Dot.Dot(row, query, Int8Kernel.Scalar), Int8Dot.Dot(row, query, kernel));
        }
    }

    /// <summary>The scan's inlined kernel, on every row of a slab (our machines have AVX-512BW; elsewhere the scan must not pick it).</summary>
    [Fact]
    public void The_whole_block_kernel_agrees_with_the_scalar_one_on_every_row_of_a_slab()
    {
        Assert.False(Int8Dot.HasWholeBlocks(100));
        if (!System.Runtime.Intrinsics.X86.Avx512BW.IsSupported)
        {
            Assert.False(Int8Dot.HasWholeBlocks(384));
            return;
        }

        var rng = new Random(3);
        foreach (var length in new[] { 64, 384, 1024 })
        {
            var slab = new sbyte[length * 5];
            var query = new short[length];
            for (var i = 0; i < slab.Length; i++)
            {
                slab[i] = (sbyte)rng.Next(-127, 128);
            }

            for (var i = 0; i < length; i++)
            {
                query[i] = (short)rng.Next(-127, 128);
            }

            for (var row = 0; row < 5; row++)
            {
                var expected = Int8Dot.Dot(slab.AsSpan(row * length, length), query, Int8Kernel.Scalar);
                Assert.Equal(expected, Int8Dot.DotWholeBlocks(ref slab[0], row, ref query[0], length));
            }
        }
    }

    [Fact]
    public void The_extremes_of_the_int8_range_do_not_overflow()
    {
        var row = Enumerable.Repeat((sbyte)-127, 4096).ToArray();
        var query = Enumerable.Repeat((short)-127, 4096).ToArray();

        Assert.Equal(127 * 127 * 4096, Int8Dot.Dot(row, query));
    }

    [Fact]
    public void Quantisation_keeps_each_component_within_half_a_step()
    {
        var rng = new Random(1);
        var vector = Enumerable.Range(0, 384).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var quantized = new sbyte[vector.Length];

        var scale = VectorMath.QuantizeInt8(vector, quantized);

        Assert.Equal(vector.Max(Math.Abs) / 127, scale, 1e-7);
        Assert.All(Enumerable.Range(0, vector.Length), i => Assert.True(Math.Abs((quantized[i] * scale) - vector[i]) <= (scale / 2) + 1e-7));
        Assert.Contains(quantized, q => Math.Abs((int)q) == 127);
    }

    /// <summary>
    /// The bound that exact search prunes with holds for every row and query, including the query that
    /// points along a row's quantisation error, where the int8 score is off by about the row's residual;
    /// there the bound must also be tight (within 3x), or a bound shrunk by mistake would go unnoticed.
    /// </summary>
    [Fact]
    public void The_int8_score_is_within_the_bound_of_the_float_score_and_the_bound_is_tight_where_it_matters()
    {
        var rng = new Random(5);
        var worstRatio = 0.0;
        for (var round = 0; round < 200; round++)
        {
            var vector = Unit(rng, 384);
            var codes = new sbyte[vector.Length];
            var scale = VectorMath.QuantizeInt8(vector, codes);
            var (residual, codeNorm) = VectorMath.QuantizationError(vector, codes, scale);

            // Half the queries are random, half point along the row's error (plus a little of the row).
            float[] query;
            var adversarial = round % 2 == 1;
            if (adversarial)
            {
                var error = vector.Select((x, i) => x - (codes[i] * scale)).ToArray();
                query = Normalise(error.Select((e, i) => e + (0.001f * vector[i])).ToArray());
            }
            else
            {
                query = Unit(rng, 384);
            }

            var prepared = new Int8Query(query);
            var approximate = Int8Dot.Dot(codes, prepared.Codes) * (scale * prepared.Scale);
            var exact = TensorPrimitives.Dot(vector, query);
            var bound = prepared.Bound(residual, codeNorm);

            Assert.True(Math.Abs(exact - approximate) <= bound, $"round {round}: |{exact} - {approximate}| exceeds the bound {bound}");
            if (adversarial)
            {
                worstRatio = Math.Max(worstRatio, bound / Math.Abs(exact - approximate));
            }
        }

        Assert.True(worstRatio < 3, $"the bound is {worstRatio:F1}x the error even where the error is largest");
    }

    private static float[] Unit(Random rng, int dimensions) => Normalise([.. Enumerable.Range(0, dimensions).Select(_ => (float)(rng.NextDouble() - 0.5))]);

    private static float[] Normalise(float[] vector)
    {
        var norm = TensorPrimitives.Norm(vector);
        return [.. vector.Select(x => x / norm)];
    }
}
