using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// Vectorised float32 exp (Cephes' expf: Cody–Waite range reduction by ln 2, a degree-5 polynomial, scaling by 2ⁿ
/// through the exponent bits), about 1 ulp. TensorPrimitives.Exp widens float to double for accuracy and runs several
/// times slower, which dominates softmax and the fused losses. 2ⁿ is applied in two halves so results down to the
/// subnormal range stay exact; above 88.72 the result is +inf, below −103.97 it is 0, NaN stays NaN.
/// </summary>
internal static class FastExp
{
    private const float Log2e = 1.44269504088896341f, C1 = 0.693359375f, C2 = -2.12194440e-4f;
    private const float P0 = 1.9875691500E-4f, P1 = 1.3981999507E-3f, P2 = 8.3334519073E-3f, P3 = 4.1665795894E-2f, P4 = 1.6666665459E-1f, P5 = 5.0000001201E-1f;
    private const float Hi = 88.7228394f, Lo = -103.972084f;

    public static void Exp(ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length < x.Length) throw new ArgumentException("FastExp: destination too short.");
        int i = 0, n = x.Length;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16) Vector512.Create(x.Slice(i, 16)).Exp512().CopyTo(y.Slice(i, 16));
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8) Vector256.Create(x.Slice(i, 8)).Exp256().CopyTo(y.Slice(i, 8));
        for (; i < n; i++) y[i] = Scalar(x[i]);
    }

    public static float Scalar(float x)
    {
        if (float.IsNaN(x)) return x;
        if (x > Hi) return float.PositiveInfinity;
        if (x < Lo) return 0f;
        float fx = MathF.Floor(x * Log2e + 0.5f);
        float r = x - fx * C1 - fx * C2;
        float p = ((((P0 * r + P1) * r + P2) * r + P3) * r + P4) * r + P5;
        p = p * r * r + r + 1f;
        int e = (int)fx;
        int e1 = e >> 1, e2 = e - e1;
        return p * BitConverter.Int32BitsToSingle((e1 + 127) << 23) * BitConverter.Int32BitsToSingle((e2 + 127) << 23);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Exp512(this Vector512<float> x)
    {
        var nan = ~Vector512.Equals(x, x);
        var over = Vector512.GreaterThan(x, Vector512.Create(Hi));
        var under = Vector512.LessThan(x, Vector512.Create(Lo));
        var xc = Vector512.Min(Vector512.Max(x, Vector512.Create(Lo)), Vector512.Create(Hi));
        var fx = Vector512.Floor(xc * Vector512.Create(Log2e) + Vector512.Create(0.5f));
        var r = xc - fx * Vector512.Create(C1) - fx * Vector512.Create(C2);
        var p = Vector512.Create(P0);
        p = p * r + Vector512.Create(P1);
        p = p * r + Vector512.Create(P2);
        p = p * r + Vector512.Create(P3);
        p = p * r + Vector512.Create(P4);
        p = p * r + Vector512.Create(P5);
        p = p * r * r + r + Vector512<float>.One;
        var e = Vector512.ConvertToInt32(fx);
        var e1 = Vector512.ShiftRightArithmetic(e, 1);
        var e2 = e - e1;
        var s1 = Vector512.ShiftLeft(e1 + Vector512.Create(127), 23).AsSingle();
        var s2 = Vector512.ShiftLeft(e2 + Vector512.Create(127), 23).AsSingle();
        var res = p * s1 * s2;
        res = Vector512.ConditionalSelect(over, Vector512.Create(float.PositiveInfinity), res);
        res = Vector512.ConditionalSelect(under, Vector512<float>.Zero, res);
        return Vector512.ConditionalSelect(nan, x, res);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Exp256(this Vector256<float> x)
    {
        var nan = ~Vector256.Equals(x, x);
        var over = Vector256.GreaterThan(x, Vector256.Create(Hi));
        var under = Vector256.LessThan(x, Vector256.Create(Lo));
        var xc = Vector256.Min(Vector256.Max(x, Vector256.Create(Lo)), Vector256.Create(Hi));
        var fx = Vector256.Floor(xc * Vector256.Create(Log2e) + Vector256.Create(0.5f));
        var r = xc - fx * Vector256.Create(C1) - fx * Vector256.Create(C2);
        var p = Vector256.Create(P0);
        p = p * r + Vector256.Create(P1);
        p = p * r + Vector256.Create(P2);
        p = p * r + Vector256.Create(P3);
        p = p * r + Vector256.Create(P4);
        p = p * r + Vector256.Create(P5);
        p = p * r * r + r + Vector256<float>.One;
        var e = Vector256.ConvertToInt32(fx);
        var e1 = Vector256.ShiftRightArithmetic(e, 1);
        var e2 = e - e1;
        var s1 = Vector256.ShiftLeft(e1 + Vector256.Create(127), 23).AsSingle();
        var s2 = Vector256.ShiftLeft(e2 + Vector256.Create(127), 23).AsSingle();
        var res = p * s1 * s2;
        res = Vector256.ConditionalSelect(over, Vector256.Create(float.PositiveInfinity), res);
        res = Vector256.ConditionalSelect(under, Vector256<float>.Zero, res);
        return Vector256.ConditionalSelect(nan, x, res);
    }

    /// <summary>exp over spans of T: the fast path for float, TensorPrimitives (exact to double rounding) for double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Exp<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, System.Numerics.IExponentialFunctions<T>
    {
        if (typeof(T) == typeof(float))
            Exp(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(x), System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(y));
        else System.Numerics.Tensors.TensorPrimitives.Exp(x, y);
    }
}
