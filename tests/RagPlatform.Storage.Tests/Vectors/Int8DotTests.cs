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
}
