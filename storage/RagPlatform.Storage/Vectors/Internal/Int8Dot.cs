using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RagPlatform.Storage.Vectors.Internal;

/// <summary>The implementations of the int8 dot product, widest first.</summary>
internal enum Int8Kernel
{
    Scalar,
    Vector128,
    Avx2,
    Avx512,
}

/// <summary>
/// Integer dot product of an int8 row with an int8 query held widened to int16. Components lie in
/// [-127, 127], so one product fits in int16 and a row of up to 65,536 dimensions sums within int32.
/// The x86 kernels sign-extend the row to int16 and use <c>pmaddwd</c>, which multiplies and adds
/// adjacent pairs into int32 in one instruction; a scan is bound by memory bandwidth, so fancier
/// instructions (VNNI) would not change its speed much.
/// </summary>
internal static class Int8Dot
{
    public static Int8Kernel Best { get; } = Avx512BW.IsSupported ? Int8Kernel.Avx512
        : Avx2.IsSupported ? Int8Kernel.Avx2
        : Vector128.IsHardwareAccelerated ? Int8Kernel.Vector128
        : Int8Kernel.Scalar;

    public static bool IsSupported(Int8Kernel kernel) => kernel switch
    {
        Int8Kernel.Avx512 => Avx512BW.IsSupported,
        Int8Kernel.Avx2 => Avx2.IsSupported,
        Int8Kernel.Vector128 => Vector128.IsHardwareAccelerated,
        _ => true,
    };

    /// <summary>The dot product with the best kernel of this machine (the checks fold away when compiled).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Dot(ReadOnlySpan<sbyte> row, ReadOnlySpan<short> query)
    {
        if (Avx512BW.IsSupported)
        {
            return DotAvx512(row, query);
        }

        if (Avx2.IsSupported)
        {
            return DotAvx2(row, query);
        }

        return Vector128.IsHardwareAccelerated ? DotVector128(row, query) : DotScalar(row, query, 0);
    }

    /// <summary>The dot product with a given kernel, so that tests can compare each kernel the machine has with the scalar one.</summary>
    public static int Dot(ReadOnlySpan<sbyte> row, ReadOnlySpan<short> query, Int8Kernel kernel)
    {
        if (!IsSupported(kernel))
        {
            throw new PlatformNotSupportedException($"The {kernel} int8 kernel is not supported on this machine.");
        }

        return kernel switch
        {
            Int8Kernel.Avx512 => DotAvx512(row, query),
            Int8Kernel.Avx2 => DotAvx2(row, query),
            Int8Kernel.Vector128 => DotVector128(row, query),
            _ => DotScalar(row, query, 0),
        };
    }

    /// <summary>
    /// The dot product of row <paramref name="row"/> of a slab of <paramref name="length"/>-code rows, for a
    /// length that is a multiple of 64 on a machine with AVX-512BW (<see cref="HasWholeBlocks"/>): no tail,
    /// no bounds checks, inlined into the scan, which saves a third of a 384-d row's time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int DotWholeBlocks(ref sbyte codes, int row, ref short query, int length)
    {
        ref var r = ref Unsafe.Add(ref codes, (nint)row * length);
        var acc0 = Vector512<int>.Zero;
        var acc1 = Vector512<int>.Zero;
        for (var i = 0; i < length; i += 64)
        {
            var x0 = Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r, (nuint)i));
            var x1 = Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r, (nuint)(i + 32)));
            acc0 += Avx512BW.MultiplyAddAdjacent(x0, Vector512.LoadUnsafe(ref query, (nuint)i));
            acc1 += Avx512BW.MultiplyAddAdjacent(x1, Vector512.LoadUnsafe(ref query, (nuint)(i + 32)));
        }

        return Vector512.Sum(acc0 + acc1);
    }

    /// <summary>Whether <see cref="DotWholeBlocks"/> can score rows of <paramref name="length"/> codes on this machine.</summary>
    public static bool HasWholeBlocks(int length) => Avx512BW.IsSupported && length % 64 == 0;

    private static int DotAvx512(ReadOnlySpan<sbyte> row, ReadOnlySpan<short> query)
    {
        ref var r = ref MemoryMarshal.GetReference(row);
        ref var q = ref MemoryMarshal.GetReference(query);
        var n = row.Length;
        var acc0 = Vector512<int>.Zero;
        var acc1 = Vector512<int>.Zero;
        var i = 0;
        for (; i <= n - 64; i += 64)
        {
            var x0 = Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r, (nuint)i));
            var x1 = Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r, (nuint)(i + 32)));
            acc0 += Avx512BW.MultiplyAddAdjacent(x0, Vector512.LoadUnsafe(ref q, (nuint)i));
            acc1 += Avx512BW.MultiplyAddAdjacent(x1, Vector512.LoadUnsafe(ref q, (nuint)(i + 32)));
        }

        if (i <= n - 32)
        {
            var x = Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r, (nuint)i));
            acc0 += Avx512BW.MultiplyAddAdjacent(x, Vector512.LoadUnsafe(ref q, (nuint)i));
            i += 32;
        }

        return Vector512.Sum(acc0 + acc1) + DotScalar(row, query, i);
    }

    private static int DotAvx2(ReadOnlySpan<sbyte> row, ReadOnlySpan<short> query)
    {
        ref var r = ref MemoryMarshal.GetReference(row);
        ref var q = ref MemoryMarshal.GetReference(query);
        var n = row.Length;
        var acc0 = Vector256<int>.Zero;
        var acc1 = Vector256<int>.Zero;
        var i = 0;
        for (; i <= n - 32; i += 32)
        {
            var x0 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r, (nuint)i));
            var x1 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r, (nuint)(i + 16)));
            acc0 += Avx2.MultiplyAddAdjacent(x0, Vector256.LoadUnsafe(ref q, (nuint)i));
            acc1 += Avx2.MultiplyAddAdjacent(x1, Vector256.LoadUnsafe(ref q, (nuint)(i + 16)));
        }

        if (i <= n - 16)
        {
            var x = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r, (nuint)i));
            acc0 += Avx2.MultiplyAddAdjacent(x, Vector256.LoadUnsafe(ref q, (nuint)i));
            i += 16;
        }

        return Vector256.Sum(acc0 + acc1) + DotScalar(row, query, i);
    }

    private static int DotVector128(ReadOnlySpan<sbyte> row, ReadOnlySpan<short> query)
    {
        ref var r = ref MemoryMarshal.GetReference(row);
        ref var q = ref MemoryMarshal.GetReference(query);
        var n = row.Length;
        var acc = Vector128<int>.Zero;
        var i = 0;
        for (; i <= n - 16; i += 16)
        {
            var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref r, (nuint)i));
            var p0 = lo * Vector128.LoadUnsafe(ref q, (nuint)i);
            var p1 = hi * Vector128.LoadUnsafe(ref q, (nuint)(i + 8));
            var (a, b) = Vector128.Widen(p0);
            var (c, d) = Vector128.Widen(p1);
            acc += (a + b) + (c + d);
        }

        return Vector128.Sum(acc) + DotScalar(row, query, i);
    }

    private static int DotScalar(ReadOnlySpan<sbyte> row, ReadOnlySpan<short> query, int start)
    {
        var sum = 0;
        for (var i = start; i < row.Length; i++)
        {
            sum += row[i] * query[i];
        }

        return sum;
    }
}
