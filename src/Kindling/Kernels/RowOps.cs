using System.Numerics;
using System.Numerics.Tensors;

namespace Kindling.Kernels;

/// <summary>
/// Reductions and scalar updates of one row, shared by the softmax and cross-entropy fallbacks (double, or machines
/// without AVX-512). Short rows (10 classes) are faster in a plain loop than through a vectorised call's setup.
/// </summary>
internal static class RowOps
{
    private const int Short = 32;

    /// <summary>The row maximum; a NaN anywhere makes it NaN, as PyTorch.</summary>
    public static T Max<T>(ReadOnlySpan<T> row) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (row.Length >= Short) return TensorPrimitives.Max(row);
        T m = row[0];
        for (int j = 1; j < row.Length; j++) { T v = row[j]; if (T.IsNaN(v)) return v; if (v > m) m = v; }
        return m;
    }

    public static T Sum<T>(ReadOnlySpan<T> row) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (row.Length >= Short) return Cascade.Sum(row);
        T s = T.Zero;
        foreach (var v in row) s += v;
        return s;
    }

    public static void Sub<T>(ReadOnlySpan<T> row, T v, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (row.Length >= Short) { TensorPrimitives.Subtract(row, v, dst); return; }
        for (int j = 0; j < row.Length; j++) dst[j] = row[j] - v;
    }

    public static void Scale<T>(ReadOnlySpan<T> row, T v, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (row.Length >= Short) { TensorPrimitives.Multiply(row, v, dst); return; }
        for (int j = 0; j < row.Length; j++) dst[j] = row[j] * v;
    }

    public static void Add<T>(Span<T> row, T v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (row.Length >= Short) { TensorPrimitives.Add(row, v, row); return; }
        for (int j = 0; j < row.Length; j++) row[j] += v;
    }
}
