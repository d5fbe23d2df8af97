using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kindling.Kernels;

/// <summary>
/// AVX-512 float32 bodies of <see cref="Softmax.Rows{T}"/>: rows of fewer than 32 values go 16 rows at a time with one
/// row per lane (columns gathered for max and Σ exp, then the block's contiguous values streamed with each lane's row
/// max and log Σ brought in by permutation); longer rows go one at a time. Log-softmax is (x − max) − log Σ exp(x − max).
/// Returns the rows done; the caller finishes the rest.
/// </summary>
internal static unsafe class SoftmaxAvx512
{
    /// <summary>
    /// Σ exp(x − m) over a row of c ≥ 16 floats, four accumulators deep; a partial last vector is loaded overlapping
    /// the previous one and <paramref name="tailMask"/> keeps only its <paramref name="rem"/> new lanes.
    /// Shared by log-softmax and the wide-row cross-entropy.
    /// </summary>
    internal static float SumExpShifted(float* xr, int c, Vector512<float> mv, int rem, Vector512<float> tailMask)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int j = 0;
        for (; j + 64 <= c; j += 64)
        {
            a0 += FastExp.Exp(Vector512.Load(xr + j) - mv);
            a1 += FastExp.Exp(Vector512.Load(xr + j + 16) - mv);
            a2 += FastExp.Exp(Vector512.Load(xr + j + 32) - mv);
            a3 += FastExp.Exp(Vector512.Load(xr + j + 48) - mv);
        }
        for (; j + 16 <= c; j += 16) a0 += FastExp.Exp(Vector512.Load(xr + j) - mv);
        if (rem != 0) a1 += FastExp.Exp(Vector512.Load(xr + c - 16) - mv) & tailMask;
        return Vector512.Sum((a0 + a1) + (a2 + a3));
    }

    public static int Narrow(bool log, float[] x, int xo, float[] y, int yo, int c, int start, int count)
    {
        int full = count & ~15;
        if (full == 0) return 0;
        var laneC = Vector512<int>.Indices * c;
        var cols = stackalloc Vector512<float>[c];
        var rowIdx = stackalloc Vector512<int>[c];
        for (int v = 0; v < c; v++)
        {
            var q = Vector512<int>.Indices + Vector512.Create(16 * v);
            var r = Vector512.ConvertToInt32(Vector512.ConvertToSingle(q) / Vector512.Create((float)c));
            var cc = q - r * c;
            r -= Vector512.LessThan(cc, Vector512<int>.Zero) & Vector512<int>.One;
            r += Vector512.GreaterThanOrEqual(q - r * c, Vector512.Create(c)) & Vector512<int>.One;
            rowIdx[v] = r;
        }
        fixed (float* x0 = x, y0 = y)
        {
            for (int r0 = start; r0 < start + full; r0 += 16)
            {
                float* xb = x0 + xo + (long)r0 * c, yb = y0 + yo + (long)r0 * c;
                var m = Vector512.Create(float.NegativeInfinity);
                for (int j = 0; j < c; j++)
                {
                    var col = CeAvx512.Gather(xb, laneC + Vector512.Create(j), 4);
                    cols[j] = col;
                    m = Avx512F.Max(m, col);
                }
                m = Vector512.ConditionalSelect(Vector512.Equals(m, Vector512.Create(float.NegativeInfinity)), Vector512<float>.Zero, m);
                var s = Vector512<float>.Zero;
                for (int j = 0; j < c; j++) s += FastExp.Exp(cols[j] - m);
                if (log)
                {
                    var lse = FastLog.Log(s);
                    for (int v = 0; v < c; v++)
                    {
                        var ri = rowIdx[v];
                        ((Vector512.Load(xb + 16 * v) - Avx512F.PermuteVar16x32(m, ri)) - Avx512F.PermuteVar16x32(lse, ri)).Store(yb + 16 * v);
                    }
                }
                else
                {
                    var inv = Vector512<float>.One / s;
                    for (int v = 0; v < c; v++)
                    {
                        var ri = rowIdx[v];
                        (FastExp.Exp(Vector512.Load(xb + 16 * v) - Avx512F.PermuteVar16x32(m, ri)) * Avx512F.PermuteVar16x32(inv, ri)).Store(yb + 16 * v);
                    }
                }
            }
        }
        return full;
    }

    public static int Wide(bool log, float[] x, int xo, float[] y, int yo, int c, int start, int count)
    {
        int rem = c & 15;
        var tailMask = Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(16 - rem)).AsSingle();
        fixed (float* x0 = x, y0 = y)
        {
            for (int i = start; i < start + count; i++)
            {
                float* xr = x0 + xo + (long)i * c, yr = y0 + yo + (long)i * c;
                float m = CeAvx512.RowMax(xr, c);
                if (!float.IsFinite(m)) m = float.IsNegativeInfinity(m) ? 0f : m;
                var mv = Vector512.Create(m);
                int j;
                if (log)
                {
                    var lse = Vector512.Create(MathF.Log(SumExpShifted(xr, c, mv, rem, tailMask)));
                    for (j = 0; j + 16 <= c; j += 16) ((Vector512.Load(xr + j) - mv) - lse).Store(yr + j);
                    if (rem != 0) ((Vector512.Load(xr + c - 16) - mv) - lse).Store(yr + c - 16);
                }
                else
                {
                    Vector512<float> a0 = default, a1 = default, a2 = default;
                    for (j = 0; j + 32 <= c; j += 32)
                    {
                        var e0 = FastExp.Exp(Vector512.Load(xr + j) - mv); var e1 = FastExp.Exp(Vector512.Load(xr + j + 16) - mv);
                        e0.Store(yr + j); e1.Store(yr + j + 16);
                        a0 += e0; a1 += e1;
                    }
                    for (; j + 16 <= c; j += 16) { var e0 = FastExp.Exp(Vector512.Load(xr + j) - mv); e0.Store(yr + j); a0 += e0; }
                    Vector512<float> et = default;
                    if (rem != 0) { et = FastExp.Exp(Vector512.Load(xr + c - 16) - mv); a2 += et & tailMask; }
                    var inv = Vector512.Create(1f / Vector512.Sum((a0 + a1) + a2));
                    for (j = 0; j + 16 <= c; j += 16) (Vector512.Load(yr + j) * inv).Store(yr + j);
                    if (rem != 0) (et * inv).Store(yr + c - 16);
                }
            }
        }
        return count;
    }
}
