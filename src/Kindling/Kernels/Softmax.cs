using System.Numerics;
using System.Numerics.Tensors;

namespace Kindling.Kernels;

/// <summary>
/// Softmax and log-softmax along the last axis of contiguous rows. Both subtract the row maximum before exponentiating,
/// so logits of any magnitude give finite results (TensorPrimitives.SoftMax does not, and overflows near 89 in float).
/// </summary>
internal static class Softmax
{
    public static void Rows<T>(bool log, T[] x, int xo, T[] y, int yo, int rows, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Parallel2.For(rows, Math.Max(1, (1 << 14) / Math.Max(n, 1)), (r0, count) =>
        {
            var tmp = System.Buffers.ArrayPool<T>.Shared.Rent(n);
            for (int r = r0; r < r0 + count; r++)
                Row(log, new ReadOnlySpan<T>(x, xo + r * n, n), new Span<T>(y, yo + r * n, n), tmp.AsSpan(0, n));
            System.Buffers.ArrayPool<T>.Shared.Return(tmp);
        });
    }

    /// <summary>One row; <paramref name="tmp"/> is scratch of the row's length.</summary>
    public static void Row<T>(bool log, ReadOnlySpan<T> xr, Span<T> yr, Span<T> tmp) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = xr.Length;
        if (n == 0) return;
        T m = TensorPrimitives.Max(xr);
        // A row that is all -inf (or has +inf / NaN) has no finite shift; PyTorch gives NaN there and so do we.
        if (!T.IsFinite(m)) m = T.IsNegativeInfinity(m) ? T.Zero : m;
        TensorPrimitives.Subtract(xr, m, yr);
        if (log)
        {
            TensorPrimitives.Exp(yr, tmp);
            T lse = T.Log(TensorPrimitives.Sum<T>(tmp));
            TensorPrimitives.Subtract(yr, lse, yr);
        }
        else
        {
            TensorPrimitives.Exp(yr, yr);
            T s = TensorPrimitives.Sum<T>(yr);
            TensorPrimitives.Divide(yr, s, yr);
        }
    }
}
