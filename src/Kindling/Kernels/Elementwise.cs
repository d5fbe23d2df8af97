using System.Numerics;

namespace Kindling.Kernels;

internal enum CompareOp { Eq, Ne, Lt, Le, Gt, Ge }

/// <summary>
/// Whole-array elementwise kernels split over the cores: each runs one operator struct (<c>Kernels/Operators</c>)
/// through the <see cref="Simd"/> drivers, so every op runs at the level <c>KINDLING_ISA</c> selects.
/// </summary>
internal static class Elementwise
{
    /// <summary>y[yo..] = TOp(x[xo..]) over n elements (float32 or float64).</summary>
    public static void Unary<TOp, T>(T[] xa, int xo, T[] ya, int yo, int n) where TOp : IUnaryOperator where T : unmanaged =>
        Parallel2.For(n, 1 << 15, (s, len) => Simd.Map<TOp, T>(new ReadOnlySpan<T>(xa, xo + s, len), new Span<T>(ya, yo + s, len)));

    /// <summary>Binary op over whole equal-length arrays into a preallocated output, split over the cores (PyTorch's out=).</summary>
    public static void BinaryInto<TOp, T>(T[] a, T[] b, T[] y) where TOp : IBinaryOperator where T : unmanaged =>
        Parallel2.For(y.Length, 1 << 15, (s, len) => Simd.Map<TOp, T>(new ReadOnlySpan<T>(a, s, len), new ReadOnlySpan<T>(b, s, len), new Span<T>(y, s, len)));

    /// <summary>Sigmoid that never overflows, generic over the element type (the scalar form of the BCE kernel).</summary>
    public static T Sigmoid<T>(T x) where T : IFloatingPointIeee754<T>
    {
        if (x >= T.Zero) return T.One / (T.One + T.Exp(-x));
        T e = T.Exp(x);
        return e / (T.One + e);
    }

    public static void Compare<T>(CompareOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<bool> y) where T : unmanaged, INumber<T>
    {
        bool sa = a.Length == 1 && y.Length != 1, sb = b.Length == 1 && y.Length != 1;
        for (int i = 0; i < y.Length; i++)
        {
            T u = a[sa ? 0 : i], v = b[sb ? 0 : i];
            y[i] = op switch
            {
                CompareOp.Eq => u == v,
                CompareOp.Ne => u != v,
                CompareOp.Lt => u < v,
                CompareOp.Le => u <= v,
                CompareOp.Gt => u > v,
                _ => u >= v,
            };
        }
    }
}
