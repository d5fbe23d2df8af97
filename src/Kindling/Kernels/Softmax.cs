using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Kindling.Kernels;

/// <summary>
/// Softmax and log-softmax along the last axis of contiguous rows. Both subtract the row maximum before exponentiating,
/// so logits of any magnitude give finite results (TensorPrimitives.SoftMax does not, and overflows near 89 in float).
/// Rows are processed in blocks: short rows (10 classes) would otherwise pay a vectorised call's setup per row, so the
/// exponentials of a whole block go through one call.
/// </summary>
internal static class Softmax
{
    private const int Block = 4096;

    public static void Rows<T>(bool log, T[] x, int xo, T[] y, int yo, int rows, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (n == 0) return;
        int rowsPerBlock = Math.Max(1, Block / n);
        if (typeof(T) == typeof(float) && Isa.Level == IsaLevel.Vector512 && !ReferenceEquals(x, y))
        {
            var xf = (float[])(object)x; var yf = (float[])(object)y;
            Parallel2.For(rows, Math.Max(1, Parallel2.MinParallel / n), (r0, count) =>
            {
                int done = n < CeAvx512.Narrow ? SoftmaxAvx512.Narrow(log, xf, xo, yf, yo, n, r0, count) : SoftmaxAvx512.Wide(log, xf, xo, yf, yo, n, r0, count);
                if (done < count) Block_(log, x, xo, y, yo, n, r0 + done, count - done, rowsPerBlock);
            });
            return;
        }
        Parallel2.For(rows, Math.Max(1, Parallel2.MinParallel / n), (r0, count) => Block_(log, x, xo, y, yo, n, r0, count, rowsPerBlock));
    }

    private static void Block_<T>(bool log, T[] x, int xo, T[] y, int yo, int n, int r0, int count, int rowsPerBlock) where T : unmanaged, IFloatingPointIeee754<T>
    {
        {
            var tmp = ArrayPool<T>.Shared.Rent(rowsPerBlock * n);
            var shift = ArrayPool<T>.Shared.Rent(rowsPerBlock);
            for (int b0 = r0; b0 < r0 + count; b0 += rowsPerBlock)
            {
                int br = Math.Min(rowsPerBlock, r0 + count - b0);
                for (int r = 0; r < br; r++)
                {
                    var xr = new ReadOnlySpan<T>(x, xo + (b0 + r) * n, n);
                    T m = RowOps.Max(xr);
                    // A row that is all -inf has no finite shift; shifting by 0 keeps PyTorch's answer (NaN / -inf).
                    if (!T.IsFinite(m)) m = T.IsNegativeInfinity(m) ? T.Zero : m;
                    shift[r] = m;
                    RowOps.Sub(xr, m, tmp.AsSpan(r * n, n));
                }
                var blk = tmp.AsSpan(0, br * n);
                if (log)
                {
                    // y = (x − max) − log Σ exp(x − max): the shifted values are kept, only their exponentials go to scratch.
                    new Span<T>(tmp, 0, br * n).CopyTo(new Span<T>(y, yo + b0 * n, br * n));
                    FastExp.Exp<T>(blk, blk);
                    for (int r = 0; r < br; r++)
                    {
                        T lse = T.Log(RowOps.Sum(tmp.AsSpan(r * n, n)));
                        RowOps.Sub(new Span<T>(y, yo + (b0 + r) * n, n), lse, new Span<T>(y, yo + (b0 + r) * n, n));
                    }
                }
                else
                {
                    FastExp.Exp<T>(blk, blk);
                    for (int r = 0; r < br; r++)
                    {
                        var e = tmp.AsSpan(r * n, n);
                        T inv = T.One / RowOps.Sum(e);
                        RowOps.Scale(e, inv, new Span<T>(y, yo + (b0 + r) * n, n));
                    }
                }
            }
            ArrayPool<T>.Shared.Return(tmp);
            ArrayPool<T>.Shared.Return(shift);
        }
    }
}
