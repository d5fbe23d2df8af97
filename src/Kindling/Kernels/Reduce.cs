using System.Numerics;
using System.Numerics.Tensors;

namespace Kindling.Kernels;

internal enum ReduceOp { Sum, Prod, Max, Min }

/// <summary>
/// Reductions along one axis of a contiguous tensor viewed as (outer, n, inner). With inner == 1 each output is a
/// vectorised reduction of one contiguous row; otherwise whole inner rows are combined elementwise, which keeps the
/// reads sequential instead of striding through memory. Sums are cascade sums (<see cref="Cascade"/>) either way, so a
/// long float32 reduction stays as accurate as PyTorch's.
/// </summary>
internal static class Reduce
{
    public static void Axis<T>(ReduceOp op, T[] x, int xo, int outer, int n, int inner, Span<T> y) where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                var row = new ReadOnlySpan<T>(x, xo + o * n, n);
                y[o] = op switch
                {
                    ReduceOp.Sum => Cascade.Sum(row),
                    ReduceOp.Prod => n == 0 ? T.One : TensorPrimitives.Product(row),
                    ReduceOp.Max => MaxNan(row),
                    _ => MinNan(row),
                };
            }
            return;
        }
        if (op == ReduceOp.Sum)
        {
            for (int o = 0; o < outer; o++) Cascade.Columns(new ReadOnlySpan<T>(x, xo + o * n * inner, n * inner), n, inner, y.Slice(o * inner, inner));
            return;
        }
        for (int o = 0; o < outer; o++)
        {
            var dst = y.Slice(o * inner, inner);
            if (n == 0) { dst.Fill(op == ReduceOp.Prod ? T.One : T.Zero); continue; }
            new ReadOnlySpan<T>(x, xo + o * n * inner, inner).CopyTo(dst);
            for (int i = 1; i < n; i++)
            {
                var src = new ReadOnlySpan<T>(x, xo + (o * n + i) * inner, inner);
                switch (op)
                {
                    case ReduceOp.Prod: TensorPrimitives.Multiply(dst, src, dst); break;
                    case ReduceOp.Max: Simd.Map<MaximumOperator, T>(dst, src, dst); break;
                    default: Simd.Map<MinimumOperator, T>(dst, src, dst); break;
                }
            }
        }
    }

    /// <summary>Max that propagates NaN like PyTorch (TensorPrimitives.Max does too, but throws on empty input).</summary>
    private static T MaxNan<T>(ReadOnlySpan<T> row) where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        if (row.Length == 0) throw new ArgumentException("max: cannot reduce an empty dimension (no identity for max).");
        return TensorPrimitives.Max(row);
    }

    private static T MinNan<T>(ReadOnlySpan<T> row) where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        if (row.Length == 0) throw new ArgumentException("min: cannot reduce an empty dimension (no identity for min).");
        return TensorPrimitives.Min(row);
    }

    /// <summary>Index of the first maximum (or minimum) along the axis; a NaN counts as the extreme, as in PyTorch.</summary>
    public static void ArgExtreme<T>(bool max, T[] x, int xo, int outer, int n, int inner, Span<long> idx, Span<T> val) where T : unmanaged, INumber<T>
    {
        if (n == 0) throw new ArgumentException($"{(max ? "argmax" : "argmin")}: cannot reduce an empty dimension.");
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < inner; j++)
            {
                int b = xo + o * n * inner + j;
                T best = x[b];
                long bi = 0;
                if (!T.IsNaN(best))
                    for (int i = 1; i < n; i++)
                    {
                        T v = x[b + i * inner];
                        if (T.IsNaN(v)) { best = v; bi = i; break; }
                        if (max ? v > best : v < best) { best = v; bi = i; }
                    }
                idx[o * inner + j] = bi;
                val[o * inner + j] = best;
            }
    }
}
