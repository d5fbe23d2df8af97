using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kindling.Kernels;

/// <summary>
/// Vectorised float32 log and log1p at every width. log is Cephes' logf: the mantissa m ∈ [√½, √2) and exponent e
/// come from vgetmantps/vgetexpps on AVX-512 and from the bit fields elsewhere (subnormals first scaled by 2²³ — exact),
/// log(1 + f) is a degree-8 polynomial and e·ln 2 is added in two parts; about 1 ulp. Every width and the scalar form
/// run the same fused multiply-adds on the same m and e, so they give identical bits. log(0) = −inf, log(x &lt; 0) = NaN, log(+inf) = +inf,
/// NaN stays NaN. log1p(u) = log(v) + (u − (v − 1))/v with v = 1 + u rounded (Goldberg's correction), accurate for all u &gt; −1.
/// </summary>
internal static class FastLog
{
    private const float Sqrt2 = 1.41421356237f, L1 = 0.693359375f, L2 = -2.12194440e-4f;
    private const float Q0 = 7.0376836292E-2f, Q1 = -1.1514610310E-1f, Q2 = 1.1676998740E-1f, Q3 = -1.2420140846E-1f, Q4 = 1.4249322787E-1f,
        Q5 = -1.6668057665E-1f, Q6 = 2.0000714765E-1f, Q7 = -2.4999993993E-1f, Q8 = 3.3333331174E-1f;
    private const float MinNormal = 1.17549435e-38f, TwoTo23 = 8388608f;

    /// <summary>y = log(x) elementwise at the current <see cref="Isa.Level"/>; x and y are the same span or disjoint.</summary>
    public static void Log(ReadOnlySpan<float> x, Span<float> y) => Simd.Map<LogOperator>(x, y);

    /// <summary>log of one float, the same bits as every vector width.</summary>
    public static float Scalar(float x)
    {
        if (float.IsNaN(x)) return x;
        if (x == 0f) return float.NegativeInfinity;
        if (x < 0f) return float.NaN;
        if (float.IsPositiveInfinity(x)) return x;
        bool sub = x < MinNormal;
        int bits = BitConverter.SingleToInt32Bits(sub ? x * TwoTo23 : x);
        float e = ((bits >> 23) & 0xFF) - 127 - (sub ? 23 : 0);
        float m = BitConverter.Int32BitsToSingle((bits & 0x007FFFFF) | 0x3F800000);
        if (m > Sqrt2) { m *= 0.5f; e += 1f; }
        float f = m - 1f;
        float z = f * f;
        float y = MathF.FusedMultiplyAdd(Q0, f, Q1);
        y = MathF.FusedMultiplyAdd(y, f, Q2);
        y = MathF.FusedMultiplyAdd(y, f, Q3);
        y = MathF.FusedMultiplyAdd(y, f, Q4);
        y = MathF.FusedMultiplyAdd(y, f, Q5);
        y = MathF.FusedMultiplyAdd(y, f, Q6);
        y = MathF.FusedMultiplyAdd(y, f, Q7);
        y = MathF.FusedMultiplyAdd(y, f, Q8);
        y = y * f * z;
        y = MathF.FusedMultiplyAdd(e, L2, y);
        y = MathF.FusedMultiplyAdd(z, -0.5f, y);
        return MathF.FusedMultiplyAdd(e, L1, f + y);
    }

    /// <summary>log of 8 lanes (AVX2 + FMA, or any 256-bit SIMD).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Log(Vector256<float> x)
    {
        // Subnormals are scaled into the normal range (exactly) and 23 is taken off their exponent.
        var sub = Vector256.LessThan(x, Vector256.Create(MinNormal));
        var bits = Vector256.ConditionalSelect(sub, x * Vector256.Create(TwoTo23), x).AsInt32();
        var e = Vector256.ConvertToSingle((Vector256.ShiftRightLogical(bits, 23) & Vector256.Create(0xFF)) - Vector256.Create(127))
            - (sub & Vector256.Create(23f));
        var m = ((bits & Vector256.Create(0x007FFFFF)) | Vector256.Create(0x3F800000)).AsSingle(); // [1, 2)
        var big = Vector256.GreaterThan(m, Vector256.Create(Sqrt2));
        m = Vector256.ConditionalSelect(big, m * Vector256.Create(0.5f), m);
        e = Vector256.ConditionalSelect(big, e + Vector256<float>.One, e);
        var f = m - Vector256<float>.One;
        var z = f * f;
        var y = Vector256.FusedMultiplyAdd(Vector256.Create(Q0), f, Vector256.Create(Q1));
        y = Vector256.FusedMultiplyAdd(y, f, Vector256.Create(Q2));
        y = Vector256.FusedMultiplyAdd(y, f, Vector256.Create(Q3));
        y = Vector256.FusedMultiplyAdd(y, f, Vector256.Create(Q4));
        y = Vector256.FusedMultiplyAdd(y, f, Vector256.Create(Q5));
        y = Vector256.FusedMultiplyAdd(y, f, Vector256.Create(Q6));
        y = Vector256.FusedMultiplyAdd(y, f, Vector256.Create(Q7));
        y = Vector256.FusedMultiplyAdd(y, f, Vector256.Create(Q8));
        y = y * f * z;
        y = Vector256.FusedMultiplyAdd(e, Vector256.Create(L2), y);
        y = Vector256.FusedMultiplyAdd(z, Vector256.Create(-0.5f), y);
        var r = Vector256.FusedMultiplyAdd(e, Vector256.Create(L1), f + y);
        // Special values: 0 → −inf, negative → NaN, +inf → +inf, NaN → NaN (the bit fields alone would give a number).
        r = Vector256.ConditionalSelect(Vector256.Equals(x, Vector256<float>.Zero), Vector256.Create(float.NegativeInfinity), r);
        r = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), Vector256.Create(float.NaN), r);
        var keep = Vector256.Equals(x, Vector256.Create(float.PositiveInfinity)) | ~Vector256.Equals(x, x);
        return Vector256.ConditionalSelect(keep, x, r);
    }

    /// <summary>log of 4 lanes (AVX2 + FMA, or any 128-bit SIMD).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Log(Vector128<float> x)
    {
        // Subnormals are scaled into the normal range (exactly) and 23 is taken off their exponent.
        var sub = Vector128.LessThan(x, Vector128.Create(MinNormal));
        var bits = Vector128.ConditionalSelect(sub, x * Vector128.Create(TwoTo23), x).AsInt32();
        var e = Vector128.ConvertToSingle((Vector128.ShiftRightLogical(bits, 23) & Vector128.Create(0xFF)) - Vector128.Create(127))
            - (sub & Vector128.Create(23f));
        var m = ((bits & Vector128.Create(0x007FFFFF)) | Vector128.Create(0x3F800000)).AsSingle(); // [1, 2)
        var big = Vector128.GreaterThan(m, Vector128.Create(Sqrt2));
        m = Vector128.ConditionalSelect(big, m * Vector128.Create(0.5f), m);
        e = Vector128.ConditionalSelect(big, e + Vector128<float>.One, e);
        var f = m - Vector128<float>.One;
        var z = f * f;
        var y = Vector128.FusedMultiplyAdd(Vector128.Create(Q0), f, Vector128.Create(Q1));
        y = Vector128.FusedMultiplyAdd(y, f, Vector128.Create(Q2));
        y = Vector128.FusedMultiplyAdd(y, f, Vector128.Create(Q3));
        y = Vector128.FusedMultiplyAdd(y, f, Vector128.Create(Q4));
        y = Vector128.FusedMultiplyAdd(y, f, Vector128.Create(Q5));
        y = Vector128.FusedMultiplyAdd(y, f, Vector128.Create(Q6));
        y = Vector128.FusedMultiplyAdd(y, f, Vector128.Create(Q7));
        y = Vector128.FusedMultiplyAdd(y, f, Vector128.Create(Q8));
        y = y * f * z;
        y = Vector128.FusedMultiplyAdd(e, Vector128.Create(L2), y);
        y = Vector128.FusedMultiplyAdd(z, Vector128.Create(-0.5f), y);
        var r = Vector128.FusedMultiplyAdd(e, Vector128.Create(L1), f + y);
        // Special values: 0 → −inf, negative → NaN, +inf → +inf, NaN → NaN (the bit fields alone would give a number).
        r = Vector128.ConditionalSelect(Vector128.Equals(x, Vector128<float>.Zero), Vector128.Create(float.NegativeInfinity), r);
        r = Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128<float>.Zero), Vector128.Create(float.NaN), r);
        var keep = Vector128.Equals(x, Vector128.Create(float.PositiveInfinity)) | ~Vector128.Equals(x, x);
        return Vector128.ConditionalSelect(keep, x, r);
    }

    /// <summary>log(1 + u) for u ≥ −1 without cancellation for small u (8 lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Log1p(Vector256<float> u)
    {
        var v = u + Vector256<float>.One;
        var corr = (u - (v - Vector256<float>.One)) / v;
        var ok = Vector256.LessThan(Vector256.Abs(v), Vector256.Create(float.PositiveInfinity)) & ~Vector256.Equals(v, Vector256<float>.Zero);
        return Log(v) + (corr & ok);
    }

    /// <summary>log(1 + u) for u ≥ −1 without cancellation for small u (4 lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Log1p(Vector128<float> u)
    {
        var v = u + Vector128<float>.One;
        var corr = (u - (v - Vector128<float>.One)) / v;
        var ok = Vector128.LessThan(Vector128.Abs(v), Vector128.Create(float.PositiveInfinity)) & ~Vector128.Equals(v, Vector128<float>.Zero);
        return Log(v) + (corr & ok);
    }

    /// <summary>log(1 + u) of one float, the same bits as every vector width.</summary>
    public static float Log1pScalar(float u)
    {
        float v = u + 1f;
        float corr = (u - (v - 1f)) / v;
        bool ok = MathF.Abs(v) < float.PositiveInfinity && v != 0f;
        return Scalar(v) + (ok ? corr : 0f);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Log(Vector512<float> x)
    {
        var m = Avx512F.GetMantissa(x, 0); // [1, 2), sign of the source
        var e = Avx512F.GetExponent(x);
        var big = Vector512.GreaterThan(m, Vector512.Create(Sqrt2));
        m = Vector512.ConditionalSelect(big, m * Vector512.Create(0.5f), m);
        e = Vector512.ConditionalSelect(big, e + Vector512<float>.One, e);
        var f = m - Vector512<float>.One;
        var z = f * f;
        var y = Avx512F.FusedMultiplyAdd(Vector512.Create(Q0), f, Vector512.Create(Q1));
        y = Avx512F.FusedMultiplyAdd(y, f, Vector512.Create(Q2));
        y = Avx512F.FusedMultiplyAdd(y, f, Vector512.Create(Q3));
        y = Avx512F.FusedMultiplyAdd(y, f, Vector512.Create(Q4));
        y = Avx512F.FusedMultiplyAdd(y, f, Vector512.Create(Q5));
        y = Avx512F.FusedMultiplyAdd(y, f, Vector512.Create(Q6));
        y = Avx512F.FusedMultiplyAdd(y, f, Vector512.Create(Q7));
        y = Avx512F.FusedMultiplyAdd(y, f, Vector512.Create(Q8));
        y = y * f * z;
        y = Avx512F.FusedMultiplyAdd(e, Vector512.Create(L2), y);
        y = Avx512F.FusedMultiplyAdd(z, Vector512.Create(-0.5f), y);
        var r = Avx512F.FusedMultiplyAdd(e, Vector512.Create(L1), f + y);
        // Special values: 0 → −inf, negative → NaN, +inf → +inf (NaN already propagates through getmant/getexp).
        r = Vector512.ConditionalSelect(Vector512.Equals(x, Vector512<float>.Zero), Vector512.Create(float.NegativeInfinity), r);
        r = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), Vector512.Create(float.NaN), r);
        return Vector512.ConditionalSelect(Vector512.Equals(x, Vector512.Create(float.PositiveInfinity)), x, r);
    }

    /// <summary>log(1 + u) for u ≥ −1 without cancellation for small u (16 lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Log1p(Vector512<float> u)
    {
        var v = u + Vector512<float>.One;
        var corr = (u - (v - Vector512<float>.One)) / v;
        // The correction only applies where v is finite and nonzero (u = −1 gives −inf, u = +inf gives +inf).
        var ok = Vector512.LessThan(Vector512.Abs(v), Vector512.Create(float.PositiveInfinity)) & ~Vector512.Equals(v, Vector512<float>.Zero);
        return Log(v) + (corr & ok);
    }
}
