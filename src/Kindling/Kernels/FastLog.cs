using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kindling.Kernels;

/// <summary>
/// Vectorised float32 log and log1p (AVX-512 only; callers keep a scalar fallback). log is Cephes' logf: the mantissa
/// m ∈ [√½, √2) and exponent e come from vgetmantps/vgetexpps (subnormals included), log(1 + f) is a degree-8
/// polynomial and e·ln 2 is added in two parts; about 1 ulp. log(0) = −inf, log(x &lt; 0) = NaN, log(+inf) = +inf,
/// NaN stays NaN. log1p(u) = log(v) + (u − (v − 1))/v with v = 1 + u rounded (Goldberg's correction), accurate for all u &gt; −1.
/// </summary>
internal static class FastLog
{
    private const float Sqrt2 = 1.41421356237f, L1 = 0.693359375f, L2 = -2.12194440e-4f;

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
        var y = Avx512F.FusedMultiplyAdd(Vector512.Create(7.0376836292E-2f), f, Vector512.Create(-1.1514610310E-1f));
        y = Avx512F.FusedMultiplyAdd(y, f, Vector512.Create(1.1676998740E-1f));
        y = Avx512F.FusedMultiplyAdd(y, f, Vector512.Create(-1.2420140846E-1f));
        y = Avx512F.FusedMultiplyAdd(y, f, Vector512.Create(1.4249322787E-1f));
        y = Avx512F.FusedMultiplyAdd(y, f, Vector512.Create(-1.6668057665E-1f));
        y = Avx512F.FusedMultiplyAdd(y, f, Vector512.Create(2.0000714765E-1f));
        y = Avx512F.FusedMultiplyAdd(y, f, Vector512.Create(-2.4999993993E-1f));
        y = Avx512F.FusedMultiplyAdd(y, f, Vector512.Create(3.3333331174E-1f));
        y = y * f * z;
        y = Avx512F.FusedMultiplyAdd(e, Vector512.Create(L2), y);
        y = Avx512F.FusedMultiplyAdd(z, Vector512.Create(-0.5f), y);
        var r = Avx512F.FusedMultiplyAdd(e, Vector512.Create(L1), f + y);
        // Special values: 0 → −inf, negative → NaN, +inf → +inf (NaN already propagates through getmant/getexp).
        r = Vector512.ConditionalSelect(Vector512.Equals(x, Vector512<float>.Zero), Vector512.Create(float.NegativeInfinity), r);
        r = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), Vector512.Create(float.NaN), r);
        return Vector512.ConditionalSelect(Vector512.Equals(x, Vector512.Create(float.PositiveInfinity)), x, r);
    }

    /// <summary>log(1 + u) for u ≥ −1 without cancellation for small u.</summary>
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
