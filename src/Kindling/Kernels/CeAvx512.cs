using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kindling.Kernels;

/// <summary>
/// AVX-512 float32 paths of <see cref="CrossEntropyKernel"/>. Narrow rows (c &lt; 32) go 16 rows at a time with one row
/// per lane: the forward gathers the block's columns, so max, Σ exp, log Σ and the loss of 16 rows are plain vector
/// operations; the backward streams the block's 16·c contiguous values and brings each lane its row's max, 1/Σ and
/// target with an in-register permutation. Wide rows run one row at a time with 16-lane loops. The row maximum is kept
/// apart from log Σ (loss = (max − x_t) + log Σ), so logits of ±1e4 lose nothing in float.
/// </summary>
internal static unsafe class CeAvx512
{
    public const int Narrow = 32;

    /// <summary>Loss, max and 1/Σ of full 16-row blocks of [start, start + count); returns the rows done (the rest go to the scalar path).</summary>
    public static int ForwardNarrow(float[] x, int c, long[] tgt, float[]? w, long ignore, double eps, double sumW, double[] loss, float[] rowMax, float[] invSum, double[] rowW, int start, int count)
    {
        int full = count & ~15;
        if (full == 0) return 0;
        var laneC = Vector512<int>.Indices * c;
        var cols = stackalloc Vector512<float>[c];
        float keep = (float)(1 - eps), epsC = (float)(eps / c), sw = (float)sumW;
        fixed (float* x0 = x, w0 = w, m0 = rowMax, s0 = invSum)
        fixed (long* t0 = tgt)
        fixed (double* l0 = loss, rw0 = rowW)
        {
            for (int r0 = start; r0 < start + full; r0 += 16)
            {
                float* xb = x0 + (long)r0 * c;
                var m = Vector512.Create(float.NegativeInfinity);
                for (int j = 0; j < c; j++)
                {
                    var col = Gather(xb, laneC + Vector512.Create(j), 4);
                    cols[j] = col;
                    m = Avx512F.Max(m, col); // a NaN may be dropped here, but exp(NaN − m) still makes Σ NaN
                }
                // An all −inf row keeps shift 0 (giving NaN, as PyTorch).
                m = Vector512.ConditionalSelect(Vector512.Equals(m, Vector512.Create(float.NegativeInfinity)), Vector512<float>.Zero, m);
                var s = Vector512<float>.Zero;
                for (int j = 0; j < c; j++) s += FastExp.Exp(cols[j] - m);
                var logS = FastLog.Log(s);
                var (tIdx, ig) = Targets(t0 + r0, ignore);
                var xt = Gather(xb, laneC + tIdx, 4);
                var wt = w0 == null ? Vector512<float>.One : Gather(w0, tIdx, 4);
                var li = Vector512.Create(keep) * wt * ((m - xt) + logS);
                if (eps > 0)
                {
                    var dev = Vector512<float>.Zero;
                    for (int j = 0; j < c; j++) dev = Avx512F.FusedMultiplyAdd(Vector512.Create(w0 == null ? 1f : w0[j]), m - cols[j], dev);
                    li = Avx512F.FusedMultiplyAdd(Vector512.Create(epsC), Avx512F.FusedMultiplyAdd(Vector512.Create(sw), logS, dev), li);
                }
                li = Vector512.ConditionalSelect(ig, Vector512<float>.Zero, li);
                wt = Vector512.ConditionalSelect(ig, Vector512<float>.Zero, wt);
                m.Store(m0 + r0);
                (Vector512<float>.One / s).Store(s0 + r0);
                Avx512F.ConvertToVector512Double(li.GetLower()).Store(l0 + r0);
                Avx512F.ConvertToVector512Double(li.GetUpper()).Store(l0 + r0 + 8);
                Avx512F.ConvertToVector512Double(wt.GetLower()).Store(rw0 + r0);
                Avx512F.ConvertToVector512Double(wt.GetUpper()).Store(rw0 + r0 + 8);
            }
        }
        return full;
    }

    /// <summary>16 floats at base[idx] (AVX-512 has gathers, but .NET exposes only the 8-lane AVX2 form).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Gather(float* b, Vector512<int> idx, [System.Diagnostics.CodeAnalysis.ConstantExpected] byte scale) =>
        Vector512.Create(Avx2.GatherVector256(b, idx.GetLower(), 4), Avx2.GatherVector256(b, idx.GetUpper(), 4));

    /// <summary>The 16 targets at <paramref name="t"/> as int32 lanes (0 where ignored) and the ignore mask.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<int> idx, Vector512<float> ignored) Targets(long* t, long ignore)
    {
        var a = Vector512.Load(t); var b = Vector512.Load(t + 8);
        var ign = Vector512.Create(ignore);
        var t32 = Vector512.Create(Avx512F.ConvertToVector256Int32(a), Avx512F.ConvertToVector256Int32(b));
        var ig = Vector512.Create(Avx512F.ConvertToVector256Int32(Vector512.Equals(a, ign)), Avx512F.ConvertToVector256Int32(Vector512.Equals(b, ign)));
        return (Vector512.AndNot(t32, ig), ig.AsSingle());
    }

    public static void ForwardWide(float[] x, int c, long[] tgt, float[]? w, long ignore, double eps, double sumW, double[] loss, float[] rowMax, float[] invSum, double[] rowW, int start, int count)
    {
        int rem = c & 15;
        var tailMask = Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(16 - rem)).AsSingle();
        fixed (float* x0 = x)
        {
            for (int i = start; i < start + count; i++)
            {
                float* xr = x0 + (long)i * c;
                float m = RowMax(xr, c);
                if (!float.IsFinite(m)) m = float.IsNegativeInfinity(m) ? 0f : m;
                var mv = Vector512.Create(m);
                float s = SoftmaxAvx512.SumExpShifted(xr, c, mv, rem, tailMask);
                rowMax[i] = m;
                invSum[i] = 1f / s;
                long t = tgt[i];
                if (t == ignore) { loss[i] = 0; rowW[i] = 0; continue; }
                double logS = Math.Log(s);
                double wt = w == null ? 1 : w[t];
                double li = (1 - eps) * wt * ((double)(m - xr[t]) + logS);
                if (eps > 0)
                {
                    double dev = 0;
                    for (int k = 0; k < c; k++) dev += (w == null ? 1 : w[k]) * (double)(m - xr[k]);
                    li += eps / c * (sumW * logS + dev);
                }
                loss[i] = li;
                rowW[i] = wt;
            }
        }
    }

    /// <summary>
    /// ForwardWide and BackwardWide of the same rows in one pass: exp(x − max) is stored into the gradient row while
    /// it is summed (the same accumulators, in the same order, as <see cref="SoftmaxAvx512.SumExpShifted"/>), then scaled
    /// in place — one exponential per element instead of two, and bit-identical results.
    /// </summary>
    public static void FusedWide(float[] x, int c, long[] tgt, float[]? w, long ignore, double eps, double sumW, double[] loss, float[] rowMax, float[] invSum, double[] rowW, double[] scale, float[] grad, int start, int count)
    {
        int rem = c & 15;
        var tailMask = Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(16 - rem)).AsSingle();
        fixed (float* x0 = x, w0 = w, g0 = grad)
        {
            for (int i = start; i < start + count; i++)
            {
                float* xr = x0 + (long)i * c, gr = g0 + (long)i * c;
                float m = RowMax(xr, c);
                if (!float.IsFinite(m)) m = float.IsNegativeInfinity(m) ? 0f : m;
                var mv = Vector512.Create(m);
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                int j = 0;
                for (; j + 64 <= c; j += 64)
                {
                    var e0 = FastExp.Exp(Vector512.Load(xr + j) - mv); var e1 = FastExp.Exp(Vector512.Load(xr + j + 16) - mv);
                    var e2 = FastExp.Exp(Vector512.Load(xr + j + 32) - mv); var e3 = FastExp.Exp(Vector512.Load(xr + j + 48) - mv);
                    e0.Store(gr + j); e1.Store(gr + j + 16); e2.Store(gr + j + 32); e3.Store(gr + j + 48);
                    a0 += e0; a1 += e1; a2 += e2; a3 += e3;
                }
                for (; j + 16 <= c; j += 16) { var e0 = FastExp.Exp(Vector512.Load(xr + j) - mv); e0.Store(gr + j); a0 += e0; }
                Vector512<float> eTail = default;
                if (rem != 0) { eTail = FastExp.Exp(Vector512.Load(xr + c - 16) - mv); a1 += eTail & tailMask; }
                float s = Vector512.Sum((a0 + a1) + (a2 + a3));
                rowMax[i] = m;
                invSum[i] = 1f / s;
                long t = tgt[i];
                if (t == ignore)
                {
                    loss[i] = 0; rowW[i] = 0;
                    new Span<float>(gr, c).Clear();
                    continue;
                }
                double logS = Math.Log(s);
                double wt = w == null ? 1 : w[t];
                double li = (1 - eps) * wt * ((double)(m - xr[t]) + logS);
                if (eps > 0)
                {
                    double dev = 0;
                    for (int k2 = 0; k2 < c; k2++) dev += (w == null ? 1 : w[k2]) * (double)(m - xr[k2]);
                    li += eps / c * (sumW * logS + dev);
                }
                loss[i] = li;
                rowW[i] = wt;
                // The gradient, as BackwardWide computes it from the stored exponentials.
                double sc = scale[i];
                if (sc == 0) { new Span<float>(gr, c).Clear(); continue; }
                var coef = Vector512.Create((float)(sc * ((1 - eps) * wt + eps / c * sumW)) * invSum[i]);
                var k = Vector512.Create((float)(-sc * eps / c));
                // eTail still holds exp(x − max) of the last 16 elements (the loop below rescales the overlap in place).
                for (j = 0; j + 16 <= c; j += 16)
                {
                    var g = Vector512.Load(gr + j) * coef;
                    if (eps > 0) g = Avx512F.FusedMultiplyAdd(k, w0 == null ? Vector512<float>.One : Vector512.Load(w0 + j), g);
                    g.Store(gr + j);
                }
                if (rem != 0)
                {
                    var g = eTail * coef;
                    if (eps > 0) g = Avx512F.FusedMultiplyAdd(k, w0 == null ? Vector512<float>.One : Vector512.Load(w0 + c - 16), g);
                    g.Store(gr + c - 16);
                }
                gr[t] -= (float)(sc * (1 - eps) * wt);
            }
        }
    }

    internal static float RowMax(float* xr, int c)
    {
        var m0 = Vector512.Load(xr);
        var m1 = m0; var nan = Vector512<float>.Zero;
        int j = 16;
        for (; j + 32 <= c; j += 32)
        {
            var u = Vector512.Load(xr + j); var v = Vector512.Load(xr + j + 16);
            m0 = Avx512F.Max(m0, u); m1 = Avx512F.Max(m1, v);
            nan |= ~Vector512.Equals(u, u) | ~Vector512.Equals(v, v);
        }
        for (; j + 16 <= c; j += 16) { var u = Vector512.Load(xr + j); m0 = Avx512F.Max(m0, u); nan |= ~Vector512.Equals(u, u); }
        var tl = Vector512.Load(xr + c - 16);
        m0 = Avx512F.Max(Avx512F.Max(m0, m1), tl);
        nan |= ~Vector512.Equals(tl, tl) | ~Vector512.Equals(m0, m0);
        if (nan != Vector512<float>.Zero) return float.NaN;
        var h = Avx.Max(m0.GetLower(), m0.GetUpper());
        var q = Sse.Max(h.GetLower(), h.GetUpper());
        q = Sse.Max(q, Sse.Shuffle(q, q, 0b01_00_11_10));
        q = Sse.Max(q, Sse.Shuffle(q, q, 0b10_11_00_01));
        return q.ToScalar();
    }

    /// <summary>Gradient of full 16-row blocks; returns the rows done.</summary>
    public static int BackwardNarrow(float[] x, int c, long[] tgt, float[]? w, long ignore, double eps, double sumW, float[] rowMax, float[] invSum, double[] scale, float[] grad, int start, int count)
    {
        int full = count & ~15;
        if (full == 0) return 0;
        // Lane l of the block's v-th vector holds flat element 16v + l: row (16v + l) / c, column (16v + l) % c.
        var rowIdx = stackalloc Vector512<int>[c];
        var colIdx = stackalloc Vector512<int>[c];
        var wcol = stackalloc Vector512<float>[c];
        for (int v = 0; v < c; v++)
        {
            var q = Vector512<int>.Indices + Vector512.Create(16 * v);
            var r = Vector512.ConvertToInt32(Vector512.ConvertToSingle(q) / Vector512.Create((float)c)); // exact: q < 512
            var cc = q - r * c;
            // float division may land one low or high at exact multiples; fix up
            var lo = Vector512.LessThan(cc, Vector512<int>.Zero); r -= lo & Vector512<int>.One; cc += lo & Vector512.Create(c);
            var hi = Vector512.GreaterThanOrEqual(cc, Vector512.Create(c)); r += hi & Vector512<int>.One; cc -= hi & Vector512.Create(c);
            rowIdx[v] = r; colIdx[v] = cc;
            wcol[v] = Vector512<float>.One;
        }
        float keep = (float)(1 - eps), epsC = (float)(eps / c), sw = (float)sumW;
        fixed (float* x0 = x, w0 = w, m0 = rowMax, s0 = invSum, g0 = grad)
        fixed (long* t0 = tgt)
        fixed (double* sc0 = scale)
        {
            if (w0 != null) for (int v = 0; v < c; v++) wcol[v] = Gather(w0, colIdx[v], 4);
            for (int r0 = start; r0 < start + full; r0 += 16)
            {
                float* xb = x0 + (long)r0 * c, gb = g0 + (long)r0 * c;
                var m = Vector512.Load(m0 + r0);
                var (tIdx, ig) = Targets(t0 + r0, ignore);
                var sc = Vector512.Create(Avx512F.ConvertToVector256Single(Vector512.Load(sc0 + r0)), Avx512F.ConvertToVector256Single(Vector512.Load(sc0 + r0 + 8)));
                var wt = w0 == null ? Vector512<float>.One : Gather(w0, tIdx, 4);
                var coef = sc * Avx512F.FusedMultiplyAdd(Vector512.Create(keep), wt, Vector512.Create(epsC * sw)) * Vector512.Load(s0 + r0);
                var sub = sc * Vector512.Create(keep) * wt;
                var k = -sc * Vector512.Create(epsC);
                var zero = ig | Vector512.Equals(sc, Vector512<float>.Zero);
                var tf = tIdx.AsSingle();
                for (int v = 0; v < c; v++)
                {
                    var ri = rowIdx[v];
                    var g = FastExp.Exp(Vector512.Load(xb + 16 * v) - Avx512F.PermuteVar16x32(m, ri)) * Avx512F.PermuteVar16x32(coef, ri);
                    var hit = Vector512.Equals(colIdx[v], Avx512F.PermuteVar16x32(tf, ri).AsInt32()).AsSingle();
                    g -= Avx512F.PermuteVar16x32(sub, ri) & hit;
                    if (eps > 0) g = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(k, ri), wcol[v], g);
                    g = Vector512.AndNot(g, Avx512F.PermuteVar16x32(zero, ri));
                    g.Store(gb + 16 * v);
                }
            }
        }
        return full;
    }

    public static void BackwardWide(float[] x, int c, long[] tgt, float[]? w, long ignore, double eps, double sumW, float[] rowMax, float[] invSum, double[] scale, float[] grad, int start, int count)
    {
        fixed (float* x0 = x, w0 = w, g0 = grad)
        {
            for (int i = start; i < start + count; i++)
            {
                float* xr = x0 + (long)i * c, gr = g0 + (long)i * c;
                long t = tgt[i];
                if (t == ignore || scale[i] == 0) { new Span<float>(gr, c).Clear(); continue; }
                double wt = w == null ? 1 : w[t];
                double s = scale[i];
                var coef = Vector512.Create((float)(s * ((1 - eps) * wt + eps / c * sumW)) * invSum[i]);
                var mv = Vector512.Create(rowMax[i]);
                var k = Vector512.Create((float)(-s * eps / c));
                int j = 0;
                if (eps == 0)
                {
                    for (; j + 32 <= c; j += 32)
                    {
                        (FastExp.Exp(Vector512.Load(xr + j) - mv) * coef).Store(gr + j);
                        (FastExp.Exp(Vector512.Load(xr + j + 16) - mv) * coef).Store(gr + j + 16);
                    }
                    for (; j + 16 <= c; j += 16) (FastExp.Exp(Vector512.Load(xr + j) - mv) * coef).Store(gr + j);
                    if (j < c) (FastExp.Exp(Vector512.Load(xr + c - 16) - mv) * coef).Store(gr + c - 16);
                }
                else
                {
                    for (; j < c; j += 16)
                    {
                        int o = Math.Min(j, c - 16);
                        var wv = w0 == null ? Vector512<float>.One : Vector512.Load(w0 + o);
                        Avx512F.FusedMultiplyAdd(k, wv, FastExp.Exp(Vector512.Load(xr + o) - mv) * coef).Store(gr + o);
                    }
                }
                gr[t] -= (float)(s * (1 - eps) * wt);
            }
        }
    }
}
