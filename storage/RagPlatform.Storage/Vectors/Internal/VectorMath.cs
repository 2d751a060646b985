using System.Numerics.Tensors;

namespace RagPlatform.Storage.Vectors.Internal;

/// <summary>Normalisation and symmetric int8 quantisation of vectors.</summary>
internal static class VectorMath
{
    /// <summary>
    /// Embedders already L2-normalise; rescaling a vector whose norm is within this of 1 would only
    /// add rounding noise, and would make a vector read back from the log differ from the one written.
    /// </summary>
    private const double NormTolerance = 1e-4;

    /// <summary>Largest magnitude of an int8 component; -128 is left out so that the scale is symmetric.</summary>
    public const int Int8Max = 127;

    /// <summary>
    /// The L2-normalised copy of <paramref name="vector"/> (the same array when it is normalised already),
    /// or null when it has no direction (all zeros) or holds NaN or infinity.
    /// </summary>
    public static float[]? Normalized(float[] vector)
    {
        var norm = Norm(vector);
        if (!double.IsFinite(norm) || norm == 0)
        {
            return null;
        }

        if (Math.Abs(norm - 1) <= NormTolerance)
        {
            return vector;
        }

        var copy = new float[vector.Length];
        TensorPrimitives.Multiply(vector, (float)(1 / norm), copy);
        return copy;
    }

    /// <summary>Writes the normalised <paramref name="vector"/> into <paramref name="destination"/>; false when it has no direction.</summary>
    public static bool TryNormalize(ReadOnlySpan<float> vector, Span<float> destination)
    {
        var norm = Norm(vector);
        if (!double.IsFinite(norm) || norm == 0)
        {
            return false;
        }

        if (Math.Abs(norm - 1) <= NormTolerance)
        {
            vector.CopyTo(destination);
        }
        else
        {
            TensorPrimitives.Multiply(vector, (float)(1 / norm), destination);
        }

        return true;
    }

    /// <summary>
    /// Quantises <paramref name="vector"/> to int8 with the symmetric scale max|x| / 127 and returns that
    /// scale: <c>vector[i] ≈ destination[i] * scale</c>.
    /// </summary>
    public static float QuantizeInt8(ReadOnlySpan<float> vector, Span<sbyte> destination)
    {
        var max = TensorPrimitives.MaxMagnitude(vector);
        max = Math.Abs(max);
        if (max == 0 || !float.IsFinite(max))
        {
            destination.Clear();
            return 0;
        }

        // Vectorised multiply, round (to even) and convert: loading a 100k-row int8 index quantises 38 M floats.
        var scaled = vector.Length <= 1024 ? stackalloc float[vector.Length] : new float[vector.Length];
        TensorPrimitives.Multiply(vector, Int8Max / max, scaled);
        TensorPrimitives.Round(scaled, scaled);
        TensorPrimitives.Clamp(scaled, -Int8Max, Int8Max, scaled);
        TensorPrimitives.ConvertSaturating<float, sbyte>(scaled, destination);
        return max / Int8Max;
    }

    /// <summary>
    /// How far the int8 copy <paramref name="codes"/> * <paramref name="scale"/> is from <paramref name="vector"/>:
    /// the L2 norm of the difference, and the L2 norm of the copy itself. Computed in double and rounded up
    /// to the next float, so that bounds built from them hold for the float vectors.
    /// </summary>
    public static (float Residual, float CodeNorm) QuantizationError(ReadOnlySpan<float> vector, ReadOnlySpan<sbyte> codes, float scale)
    {
        double residual = 0;
        double code = 0;
        for (var i = 0; i < vector.Length; i++)
        {
            var dequantized = (double)scale * codes[i];
            var difference = vector[i] - dequantized;
            residual += difference * difference;
            code += dequantized * dequantized;
        }

        return (RoundUp(Math.Sqrt(residual)), RoundUp(Math.Sqrt(code)));
    }

    private static float RoundUp(double value) => MathF.BitIncrement((float)value);

    private static double Norm(ReadOnlySpan<float> vector)
    {
        double sum = 0;
        foreach (var x in vector)
        {
            sum += (double)x * x;
        }

        return Math.Sqrt(sum);
    }
}
