using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Kindling.Kernels;

/// <summary>
/// Fused cross-entropy over (n, c) logits with class-index targets: one pass computes each row's log-sum-exp and loss,
/// one pass writes the gradient softmax − target directly. Nothing of size n·c is kept between the passes: backward
/// recomputes exp(x − max)/Σ from the saved per-row max and 1/Σ. Rows are processed in blocks so the exponentials of many short
/// rows (c = 10) go through one vectorised call instead of one call per row.
/// </summary>
internal static class CrossEntropyKernel
{
    private const int Block = 4096;

    /// <summary>Per-row loss and log-sum-exp; rowW receives w[target] (0 when ignored), the denominators of a weighted mean.</summary>
    public static void Forward<T>(T[] x, int n, int c, long[] tgt, T[]? w, long ignore, double eps, double[] loss, T[] rowMax, T[] invSum, double[] rowW)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rowsPerBlock = Math.Max(1, Block / Math.Max(c, 1));
        double sumW = w == null ? c : w.Sum(v => double.CreateTruncating(v));
        Parallel2.For(n, Math.Max(1, Parallel2.MinParallel / Math.Max(c, 1)), (start, count) =>
            ForwardChunk(x, c, tgt, w, ignore, eps, sumW, loss, rowMax, invSum, rowW, start, count, rowsPerBlock));
    }

    /// <summary>Rows [start, start + count) of <see cref="Forward{T}"/>: the 512-bit bodies where they apply, the row loop for the rest.</summary>
    private static void ForwardChunk<T>(T[] x, int c, long[] tgt, T[]? w, long ignore, double eps, double sumW, double[] loss, T[] rowMax, T[] invSum, double[] rowW, int start, int count, int rowsPerBlock)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && Isa.Level == IsaLevel.Vector512 && c > 0)
        {
            var xf = (float[])(object)x; var wf = (float[]?)(object?)w; var mf = (float[])(object)rowMax; var sf = (float[])(object)invSum;
            if (c >= CeAvx512.Narrow) { CeAvx512.ForwardWide(xf, c, tgt, wf, ignore, eps, sumW, loss, mf, sf, rowW, start, count); return; }
            int done = CeAvx512.ForwardNarrow(xf, c, tgt, wf, ignore, eps, sumW, loss, mf, sf, rowW, start, count);
            start += done; count -= done;
        }
        if (count > 0) ForwardRows(x, c, tgt, w, ignore, eps, sumW, loss, rowMax, invSum, rowW, start, count, rowsPerBlock);
    }

    private static void ForwardRows<T>(T[] x, int c, long[] tgt, T[]? w, long ignore, double eps, double sumW, double[] loss, T[] rowMax, T[] invSum, double[] rowW, int start, int count, int rowsPerBlock)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tmp = ArrayPool<T>.Shared.Rent(rowsPerBlock * c);
        for (int r0 = start; r0 < start + count; r0 += rowsPerBlock)
        {
            int rows = Math.Min(rowsPerBlock, start + count - r0);
            for (int r = 0; r < rows; r++)
            {
                var row = new ReadOnlySpan<T>(x, (r0 + r) * c, c);
                T m = RowOps.Max(row);
                // Shift by the row maximum so exp never overflows; an all -inf row keeps shift 0 (giving NaN, as PyTorch).
                if (!T.IsFinite(m)) m = T.IsNegativeInfinity(m) ? T.Zero : m;
                rowMax[r0 + r] = m;
                RowOps.Sub(row, m, tmp.AsSpan(r * c, c));
            }
            FastExp.Exp<T>(tmp.AsSpan(0, rows * c), tmp.AsSpan(0, rows * c));
            for (int r = 0; r < rows; r++)
            {
                int i = r0 + r;
                T s = RowOps.Sum(tmp.AsSpan(r * c, c));
                invSum[i] = T.One / s;
                // lse − x_t is formed as (max − x_t) + log Σ: adding log Σ to a max of 1e4 first would lose
                // the low bits in float.
                double logS = Math.Log(double.CreateTruncating(s));
                T m = rowMax[i];
                long t = tgt[i];
                if (t == ignore) { loss[i] = 0; rowW[i] = 0; continue; }
                double wt = w == null ? 1 : double.CreateTruncating(w[t]);
                double li = (1 - eps) * wt * (double.CreateTruncating(m - x[i * c + t]) + logS);
                if (eps > 0)
                {
                    // Σ_j w_j (lse − x_j) = W·log Σ + Σ_j w_j (max − x_j): the smoothing term without a probability tensor.
                    double dev = 0;
                    for (int j = 0; j < c; j++) dev += (w == null ? 1 : double.CreateTruncating(w[j])) * double.CreateTruncating(m - x[i * c + j]);
                    li += eps / c * (sumW * logS + dev);
                }
                loss[i] = li;
                rowW[i] = wt;
            }
        }
        ArrayPool<T>.Shared.Return(tmp);
    }

    /// <summary>grad[i, :] = scale[i] · ((1−ε) w_t (p − onehot_t) + ε/C (W p − w)), p = exp(x − lse).</summary>
    public static void Backward<T>(T[] x, int n, int c, long[] tgt, T[]? w, long ignore, double eps, T[] rowMax, T[] invSum, double[] scale, T[] grad)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rowsPerBlock = Math.Max(1, Block / Math.Max(c, 1));
        double sumW = w == null ? c : w.Sum(v => double.CreateTruncating(v));
        Parallel2.For(n, Math.Max(1, Parallel2.MinParallel / Math.Max(c, 1)), (start, count) =>
            BackwardChunk(x, c, tgt, w, ignore, eps, sumW, rowMax, invSum, scale, grad, start, count, rowsPerBlock));
    }

    private static void BackwardChunk<T>(T[] x, int c, long[] tgt, T[]? w, long ignore, double eps, double sumW, T[] rowMax, T[] invSum, double[] scale, T[] grad, int start, int count, int rowsPerBlock)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && Isa.Level == IsaLevel.Vector512 && c > 0)
        {
            var xf = (float[])(object)x; var wf = (float[]?)(object?)w; var mf = (float[])(object)rowMax; var sf = (float[])(object)invSum; var gf = (float[])(object)grad;
            if (c >= CeAvx512.Narrow) { CeAvx512.BackwardWide(xf, c, tgt, wf, ignore, eps, sumW, mf, sf, scale, gf, start, count); return; }
            int done = CeAvx512.BackwardNarrow(xf, c, tgt, wf, ignore, eps, sumW, mf, sf, scale, gf, start, count);
            start += done; count -= done;
        }
        if (count > 0) BackwardRows(x, c, tgt, w, ignore, eps, sumW, rowMax, invSum, scale, grad, start, count, rowsPerBlock);
    }

    /// <summary>
    /// <see cref="Forward{T}"/> and <see cref="Backward{T}"/> in one pass over the logits, for when the row scales are known
    /// before the forward (a reduced loss whose upstream gradient will be 1): each block of rows is still in cache when
    /// its gradient is written, and on the 512-bit wide-row path each exp(x − max) is computed once, kept in the gradient
    /// row and scaled there. The results are bit-identical to Forward followed by Backward.
    /// </summary>
    public static void ForwardBackward<T>(T[] x, int n, int c, long[] tgt, T[]? w, long ignore, double eps, double[] loss, T[] rowMax, T[] invSum, double[] rowW, double[] scale, T[] grad)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rowsPerBlock = Math.Max(1, Block / Math.Max(c, 1));
        double sumW = w == null ? c : w.Sum(v => double.CreateTruncating(v));
        // Sub-blocks of whole 16-row groups and ~32 KiB of logits, so the backward half reads them from L1/L2.
        int sub = Math.Max(16, (8192 / Math.Max(c, 1)) & ~15);
        Parallel2.For(n, Math.Max(1, Parallel2.MinParallel / Math.Max(c, 1)), (start, count) =>
        {
            if (typeof(T) == typeof(float) && Isa.Level == IsaLevel.Vector512 && c >= CeAvx512.Narrow)
            {
                CeAvx512.FusedWide((float[])(object)x, c, tgt, (float[]?)(object?)w, ignore, eps, sumW, loss, (float[])(object)rowMax, (float[])(object)invSum, rowW, scale, (float[])(object)grad, start, count);
                return;
            }
            for (int s0 = start; s0 < start + count; s0 += sub)
            {
                int cnt = Math.Min(sub, start + count - s0);
                ForwardChunk(x, c, tgt, w, ignore, eps, sumW, loss, rowMax, invSum, rowW, s0, cnt, rowsPerBlock);
                BackwardChunk(x, c, tgt, w, ignore, eps, sumW, rowMax, invSum, scale, grad, s0, cnt, rowsPerBlock);
            }
        });
    }

    private static void BackwardRows<T>(T[] x, int c, long[] tgt, T[]? w, long ignore, double eps, double sumW, T[] rowMax, T[] invSum, double[] scale, T[] grad, int start, int count, int rowsPerBlock)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r0 = start; r0 < start + count; r0 += rowsPerBlock)
        {
            int rows = Math.Min(rowsPerBlock, start + count - r0);
            for (int r = 0; r < rows; r++)
                RowOps.Sub(new ReadOnlySpan<T>(x, (r0 + r) * c, c), rowMax[r0 + r], grad.AsSpan((r0 + r) * c, c));
            var blk = grad.AsSpan(r0 * c, rows * c);
            FastExp.Exp<T>(blk, blk);
            for (int r = 0; r < rows; r++)
            {
                int i = r0 + r;
                var g = grad.AsSpan(i * c, c);
                long t = tgt[i];
                if (t == ignore || scale[i] == 0) { g.Clear(); continue; }
                double wt = w == null ? 1 : double.CreateTruncating(w[t]);
                double s = scale[i];
                T coefP = T.CreateTruncating(s * ((1 - eps) * wt + eps / c * sumW)) * invSum[i]; // p = exp(x − max) / Σ
                RowOps.Scale(g, coefP, g);
                g[(int)t] -= T.CreateTruncating(s * (1 - eps) * wt);
                if (eps > 0)
                {
                    T k = T.CreateTruncating(-s * eps / c);
                    if (w == null) RowOps.Add(g, k);
                    else TensorPrimitives.MultiplyAdd(w, k, g, g);
                }
            }
        }
    }
}
