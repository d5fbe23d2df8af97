using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kindling.Kernels;

/// <summary>
/// AVX-512 float32 bodies of the elementwise fused losses (<see cref="BceLogitsKernel"/>, <see cref="PointwiseLossKernel"/>).
/// Each works on a range [s, e) and handles whole 16-lane vectors only, returning where it stopped; the caller's scalar
/// loop finishes the tail. Forward sums go through a float vector per 1024 elements, widened to double between blocks.
/// </summary>
internal static unsafe class LossAvx512
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Widen(Vector512<float> v) =>
        Avx512F.ConvertToVector512Double(v.GetLower()) + Avx512F.ConvertToVector512Double(v.GetUpper());

    /// <summary>softplus(−x) = max(−x, 0) + log1p(e^−|x|), and u = e^−|x|.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> SoftplusNeg(Vector512<float> x, out Vector512<float> u)
    {
        u = FastExp.Exp(-Vector512.Abs(x));
        return Avx512F.Max(-x, Vector512<float>.Zero) + FastLog.Log1p(u);
    }

    public static int BceForward(float[] xa, float[] ta, float[]? wa, float[]? pwa, float[]? outEach, int s, int e, out double sum)
    {
        var accD = Vector512<double>.Zero;
        int i = s;
        fixed (float* x = xa, t = ta, w = wa, pw = pwa, o = outEach)
        {
            while (i + 16 <= e)
            {
                int end = Math.Min(e, i + 1024);
                var acc = Vector512<float>.Zero;
                for (; i + 16 <= end; i += 16)
                {
                    var xv = Vector512.Load(x + i); var tv = Vector512.Load(t + i);
                    var sp = SoftplusNeg(xv, out _);
                    var l = pw == null ? Vector512<float>.One : Vector512<float>.One + (Vector512.Load(pw + i) - Vector512<float>.One) * tv;
                    var v = (Vector512<float>.One - tv) * xv + l * sp;
                    if (w != null) v *= Vector512.Load(w + i);
                    if (o != null) v.Store(o + i);
                    acc += v;
                }
                accD += Widen(acc);
            }
        }
        sum = Vector512.Sum(accD);
        return i;
    }

    public static int BceBackward(float[] xa, float[] ta, float[]? wa, float[]? pwa, float scale, float[]? gEach, float[]? gxa, float[]? gta, int s, int e)
    {
        int i = s;
        var one = Vector512<float>.One;
        fixed (float* x = xa, t = ta, w = wa, pw = pwa, ge = gEach, gx = gxa, gt = gta)
        {
            for (; i + 16 <= e; i += 16)
            {
                var g = ge == null ? Vector512.Create(scale) : Vector512.Load(ge + i) * Vector512.Create(scale);
                if (w != null) g *= Vector512.Load(w + i);
                var xv = Vector512.Load(x + i); var tv = Vector512.Load(t + i);
                var pwm1 = pw == null ? Vector512<float>.Zero : Vector512.Load(pw + i) - one;
                var sp = SoftplusNeg(xv, out var u);
                if (gx != null)
                {
                    // σ(−x) = 1/(1 + e^x): u/(1 + u) for x ≥ 0, 1/(1 + u) for x < 0, with u = e^−|x| ≤ 1.
                    var sig = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(xv, Vector512<float>.Zero), u, one) / (one + u);
                    var l = one + pwm1 * tv;
                    (g * ((one - tv) - l * sig)).Store(gx + i);
                }
                if (gt != null) (g * (-xv + pwm1 * sp)).Store(gt + i);
            }
        }
        return i;
    }

    public static int PointwiseForward(PointwiseLoss kind, float p, float[] xa, float[] ta, float[]? outEach, int s, int e, out double sum)
    {
        var accD = Vector512<double>.Zero;
        int i = s;
        var pp = Vector512.Create(p); var half = Vector512.Create(0.5f);
        fixed (float* x = xa, t = ta, o = outEach)
        {
            while (i + 16 <= e)
            {
                int end = Math.Min(e, i + 1024);
                var acc = Vector512<float>.Zero;
                for (; i + 16 <= end; i += 16)
                {
                    var d = Vector512.Load(x + i) - Vector512.Load(t + i);
                    Vector512<float> v;
                    switch (kind)
                    {
                        case PointwiseLoss.Mse: v = d * d; break;
                        case PointwiseLoss.L1: v = Vector512.Abs(d); break;
                        case PointwiseLoss.SmoothL1:
                            d = Vector512.Abs(d);
                            v = Vector512.ConditionalSelect(Vector512.LessThan(d, pp), half * d * d / pp, d - half * pp);
                            break;
                        default:
                            d = Vector512.Abs(d);
                            v = Vector512.ConditionalSelect(Vector512.LessThan(d, pp), half * d * d, pp * (d - half * pp));
                            break;
                    }
                    if (o != null) v.Store(o + i);
                    acc += v;
                }
                accD += Widen(acc);
            }
        }
        sum = Vector512.Sum(accD);
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Deriv(PointwiseLoss kind, Vector512<float> d, Vector512<float> p)
    {
        var one = Vector512<float>.One;
        switch (kind)
        {
            case PointwiseLoss.Mse: return d + d;
            case PointwiseLoss.L1:
                // sign(d), NaN for NaN, 0 for ±0
                var sg = (Vector512.GreaterThan(d, Vector512<float>.Zero) & one) - (Vector512.LessThan(d, Vector512<float>.Zero) & one);
                return Vector512.ConditionalSelect(Vector512.Equals(d, d), sg, d);
            case PointwiseLoss.SmoothL1:
                return Vector512.ConditionalSelect(Vector512.LessThanOrEqual(d, -p), -one, Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(d, p), one, d / p));
            default:
                return Vector512.ConditionalSelect(Vector512.LessThanOrEqual(d, -p), -p, Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(d, p), p, d));
        }
    }

    public static int PointwiseBackward(PointwiseLoss kind, float p, float[] xa, float[] ta, float scale, float[]? gEach, float[]? gxa, float[]? gta, int s, int e)
    {
        int i = s;
        var pp = Vector512.Create(p);
        fixed (float* x = xa, t = ta, ge = gEach, gx = gxa, gt = gta)
        {
            for (; i + 16 <= e; i += 16)
            {
                var g = ge == null ? Vector512.Create(scale) : Vector512.Load(ge + i) * Vector512.Create(scale);
                var d = Vector512.Load(x + i) - Vector512.Load(t + i);
                if (gx != null) (g * Deriv(kind, d, pp)).Store(gx + i);
                if (gt != null) (g * Deriv(kind, -d, pp)).Store(gt + i);
            }
        }
        return i;
    }
}
