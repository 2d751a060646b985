using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace RagPlatform.Storage.Vectors.Internal;

/// <summary>
/// The int8 copy of a normalised query, widened to int16 for <see cref="Int8Dot"/>, with what it takes to
/// bound how far a row's int8 score can be from its float score.
/// </summary>
internal sealed class Int8Query
{
    /// <summary>
    /// Added to every bound: covers the rounding of the float arithmetic on both sides (the int8 score's
    /// products, and a float dot product's error of at most about d · 2^-24 for unit vectors, 2.3e-5 at 384-d).
    /// </summary>
    private const float RoundingSlack = 1e-4f;

    public Int8Query(float[] query)
    {
        var quantized = new sbyte[query.Length];
        Scale = VectorMath.QuantizeInt8(query, quantized);
        (Residual, _) = VectorMath.QuantizationError(query, quantized, Scale);
        Norm = MathF.BitIncrement(TensorPrimitives.Norm(query));
        Codes = new short[query.Length];
        for (var i = 0; i < Codes.Length; i++)
        {
            Codes[i] = quantized[i];
        }
    }

    public short[] Codes { get; }

    /// <summary><c>query ≈ Codes * Scale</c>.</summary>
    public float Scale { get; }

    /// <summary>The L2 norm of the query minus its int8 copy, rounded up.</summary>
    public float Residual { get; }

    /// <summary>The L2 norm of the query (about 1), rounded up.</summary>
    public float Norm { get; }

    /// <summary>
    /// The most a row's int8 score (<c>Int8Dot.Dot(codes, Codes) * rowScale * Scale</c>) can differ from its
    /// float score, given the row's <see cref="VectorTable.Residuals"/> and <see cref="VectorTable.CodeNorms"/>:
    /// <c>v·q - v'·q' = (v - v')·q + v'·(q - q')</c>, and each term is at most the product of the norms.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Bound(float rowResidual, float rowCodeNorm) => (rowResidual * Norm) + (rowCodeNorm * Residual) + RoundingSlack;
}
