using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kindling.Kernels;

/// <summary>
/// Vectorised float32 exp (Cephes' expf: Cody–Waite range reduction by ln 2, a degree-5 polynomial evaluated with fused
/// multiply-adds, scaling by 2ⁿ), about 1 ulp. TensorPrimitives.Exp widens float to double for accuracy and runs several
/// times slower, which dominates softmax and the fused losses. The input is clamped to [−104, 89] (NaN passes through the
/// clamp), n = round(x·log₂e) is found with the 1.5·2²³ trick (no rounding or conversion instruction), and 2ⁿ is applied
/// with one rounding — vscalefps on AVX-512, two exact halves elsewhere — so results in the subnormal range are exact,
/// above 88.72 the result is +inf, below −103.97 it is 0. All lane widths and the scalar path give identical bits.
/// </summary>
internal static class FastExp
{
    private const float Log2e = 1.44269504088896341f, C1 = 0.693359375f, C2 = -2.12194440e-4f;
    private const float P0 = 1.9875691500E-4f, P1 = 1.3981999507E-3f, P2 = 8.3334519073E-3f, P3 = 4.1665795894E-2f, P4 = 1.6666665459E-1f, P5 = 5.0000001201E-1f;
    private const float Hi = 89f, Lo = -104f, Magic = 12582912f; // 1.5·2²³: adding it rounds to an integer held in the low mantissa bits
    private const int MagicBits = 0x4B400000;

    /// <summary>y = exp(x) elementwise at the current <see cref="Isa.Level"/>; x and y are the same span or disjoint.</summary>
    public static void Exp(ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length < x.Length) throw new ArgumentException("FastExp: destination too short.");
        Simd.Map<ExpOperator>(x, y);
    }

    public static float Scalar(float x)
    {
        if (float.IsNaN(x)) return x;
        x = Math.Clamp(x, Lo, Hi);
        float j = MathF.FusedMultiplyAdd(x, Log2e, Magic);
        float fx = j - Magic;
        float r = MathF.FusedMultiplyAdd(fx, -C1, x);
        r = MathF.FusedMultiplyAdd(fx, -C2, r);
        float p = MathF.FusedMultiplyAdd(P0, r, P1);
        p = MathF.FusedMultiplyAdd(p, r, P2);
        p = MathF.FusedMultiplyAdd(p, r, P3);
        p = MathF.FusedMultiplyAdd(p, r, P4);
        p = MathF.FusedMultiplyAdd(p, r, P5);
        p = MathF.FusedMultiplyAdd(p, r * r, r) + 1f;
        int e = BitConverter.SingleToInt32Bits(j) - MagicBits;
        int e1 = e >> 1, e2 = e - e1;
        return p * BitConverter.Int32BitsToSingle((e1 + 127) << 23) * BitConverter.Int32BitsToSingle((e2 + 127) << 23);
    }

    /// <summary>exp of 16 lanes (AVX-512 only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        // maxps/minps return the second operand when either is NaN, so NaN survives the clamp and propagates.
        x = Avx512F.Min(Vector512.Create(Hi), Avx512F.Max(Vector512.Create(Lo), x));
        var j = Avx512F.FusedMultiplyAdd(x, Vector512.Create(Log2e), Vector512.Create(Magic));
        var fx = j - Vector512.Create(Magic);
        var r = Avx512F.FusedMultiplyAddNegated(fx, Vector512.Create(C1), x);
        r = Avx512F.FusedMultiplyAddNegated(fx, Vector512.Create(C2), r);
        var p = Avx512F.FusedMultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Avx512F.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Avx512F.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Avx512F.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Avx512F.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        p = Avx512F.FusedMultiplyAdd(p, r * r, r) + Vector512<float>.One;
        return Avx512F.Scale(p, fx);
    }

    /// <summary>exp of 8 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var nan = ~Vector256.Equals(x, x);
        x = Vector256.Min(Vector256.Create(Hi), Vector256.Max(Vector256.Create(Lo), x));
        var j = Vector256.FusedMultiplyAdd(x, Vector256.Create(Log2e), Vector256.Create(Magic));
        var fx = j - Vector256.Create(Magic);
        var r = Vector256.FusedMultiplyAdd(fx, Vector256.Create(-C1), x);
        r = Vector256.FusedMultiplyAdd(fx, Vector256.Create(-C2), r);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(P0), r, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P5));
        p = Vector256.FusedMultiplyAdd(p, r * r, r) + Vector256<float>.One;
        var e = j.AsInt32() - Vector256.Create(MagicBits);
        var e1 = Vector256.ShiftRightArithmetic(e, 1);
        var e2 = e - e1;
        var s1 = Vector256.ShiftLeft(e1 + Vector256.Create(127), 23).AsSingle();
        var s2 = Vector256.ShiftLeft(e2 + Vector256.Create(127), 23).AsSingle();
        return Vector256.ConditionalSelect(nan, x, p * s1 * s2);
    }

    /// <summary>exp of 4 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x)
    {
        var nan = ~Vector128.Equals(x, x);
        x = Vector128.Min(Vector128.Create(Hi), Vector128.Max(Vector128.Create(Lo), x));
        var j = Vector128.FusedMultiplyAdd(x, Vector128.Create(Log2e), Vector128.Create(Magic));
        var fx = j - Vector128.Create(Magic);
        var r = Vector128.FusedMultiplyAdd(fx, Vector128.Create(-C1), x);
        r = Vector128.FusedMultiplyAdd(fx, Vector128.Create(-C2), r);
        var p = Vector128.FusedMultiplyAdd(Vector128.Create(P0), r, Vector128.Create(P1));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(P2));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(P3));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(P4));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(P5));
        p = Vector128.FusedMultiplyAdd(p, r * r, r) + Vector128<float>.One;
        var e = j.AsInt32() - Vector128.Create(MagicBits);
        var e1 = Vector128.ShiftRightArithmetic(e, 1);
        var e2 = e - e1;
        var s1 = Vector128.ShiftLeft(e1 + Vector128.Create(127), 23).AsSingle();
        var s2 = Vector128.ShiftLeft(e2 + Vector128.Create(127), 23).AsSingle();
        return Vector128.ConditionalSelect(nan, x, p * s1 * s2);
    }

    /// <summary>exp over spans of T: the fast path for float, TensorPrimitives (exact to double rounding) for double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Exp<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, System.Numerics.IExponentialFunctions<T>
    {
        if (typeof(T) == typeof(float))
            Exp(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        else System.Numerics.Tensors.TensorPrimitives.Exp(x, y);
    }
}
