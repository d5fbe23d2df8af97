using System.Numerics;
using System.Numerics.Tensors;

namespace Kindling.Kernels;

internal enum UnaryOp { Neg, Exp, Log, Log1p, Expm1, Sqrt, Rsqrt, Abs, Sign, Sigmoid, Tanh, Relu, Softplus, Gelu, Square, Reciprocal, Sin, Cos, Erf }

internal enum BinaryOp { Add, Sub, Mul, Div, Pow, Max, Min }

internal enum CompareOp { Eq, Ne, Lt, Le, Gt, Ge }

/// <summary>Flat elementwise kernels over spans, vectorised through TensorPrimitives and split over the cores.</summary>
internal static class Elementwise
{
    public static void Unary<T>(UnaryOp op, T[] xa, int xo, T[] ya, int yo, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Parallel2.For(n, 1 << 15, (s, len) => UnaryChunk(op, new ReadOnlySpan<T>(xa, xo + s, len), new Span<T>(ya, yo + s, len)));
    }

    private static void UnaryChunk<T>(UnaryOp op, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case UnaryOp.Neg: TensorPrimitives.Negate(x, y); break;
            case UnaryOp.Exp: FastExp.Exp(x, y); break;
            case UnaryOp.Log: TensorPrimitives.Log(x, y); break;
            case UnaryOp.Log1p: for (int i = 0; i < x.Length; i++) y[i] = T.LogP1(x[i]); break;
            case UnaryOp.Expm1: for (int i = 0; i < x.Length; i++) y[i] = T.ExpM1(x[i]); break;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(x, y); break;
            case UnaryOp.Rsqrt: for (int i = 0; i < x.Length; i++) y[i] = T.One / T.Sqrt(x[i]); break;
            case UnaryOp.Abs: TensorPrimitives.Abs(x, y); break;
            case UnaryOp.Sign: for (int i = 0; i < x.Length; i++) y[i] = T.IsNaN(x[i]) ? x[i] : T.CreateTruncating(T.Sign(x[i])); break;
            case UnaryOp.Sigmoid: for (int i = 0; i < x.Length; i++) y[i] = Sigmoid(x[i]); break;
            case UnaryOp.Tanh: Simd.Map<TanhOperator, T>(x, y); break; // float64: Math.Tanh per element
            case UnaryOp.Relu: TensorPrimitives.Max(x, T.Zero, y); break; // IEEE maximum: NaN stays NaN, as torch.relu
            // softplus(x) = max(x, 0) + log1p(exp(-|x|)): exp never overflows and small values keep precision.
            case UnaryOp.Softplus: for (int i = 0; i < x.Length; i++) y[i] = T.Max(x[i], T.Zero) + T.LogP1(T.Exp(-T.Abs(x[i]))); break;
            case UnaryOp.Gelu:
                for (int i = 0; i < x.Length; i++)
                {
                    double v = double.CreateTruncating(x[i]);
                    y[i] = T.CreateTruncating(0.5 * v * (1.0 + SpecialFunctions.Erf(v / Math.Sqrt(2.0))));
                }
                break;
            case UnaryOp.Erf: for (int i = 0; i < x.Length; i++) y[i] = T.CreateTruncating(SpecialFunctions.Erf(double.CreateTruncating(x[i]))); break;
            case UnaryOp.Square: TensorPrimitives.Multiply(x, x, y); break;
            case UnaryOp.Reciprocal: TensorPrimitives.Divide(T.One, x, y); break;
            case UnaryOp.Sin: TensorPrimitives.Sin(x, y); break;
            case UnaryOp.Cos: TensorPrimitives.Cos(x, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    /// <summary>
    /// ReLU's backward in one pass: g where x &gt; 0, else 0 (PyTorch's threshold_backward), instead of building a mask,
    /// converting it and multiplying.
    /// </summary>
    public static void ReluBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> g, Span<T> y) where T : unmanaged, INumber<T> =>
        Simd.Map<ReluBackwardOperator, T>(x, g, y);

    /// <summary>Backward of sigmoid (g·y·(1 − y)) or tanh (g·(1 − y²)) from the saved output y, in one pass.</summary>
    public static void SaturatingBackward<T>(bool tanh, ReadOnlySpan<T> y, ReadOnlySpan<T> g, Span<T> r) where T : unmanaged, INumber<T>
    {
        if (tanh) Simd.Map<TanhBackwardOperator, T>(y, g, r);
        else Simd.Map<SigmoidBackwardOperator, T>(y, g, r);
    }

    /// <summary>Sigmoid that never overflows: for negative x it uses exp(x) / (1 + exp(x)).</summary>
    public static T Sigmoid<T>(T x) where T : IFloatingPointIeee754<T>
    {
        if (x >= T.Zero) return T.One / (T.One + T.Exp(-x));
        T e = T.Exp(x);
        return e / (T.One + e);
    }

    /// <summary>Binary op over whole equal-length arrays into a preallocated output, split over the cores (PyTorch's out=).</summary>
    public static void BinaryInto<T>(BinaryOp op, T[] a, T[] b, T[] y) where T : unmanaged, INumber<T> =>
        Parallel2.For(y.Length, 1 << 15, (s, len) => Binary(op, new ReadOnlySpan<T>(a, s, len), new ReadOnlySpan<T>(b, s, len), new Span<T>(y, s, len)));

    /// <summary>Binary op over equal-length spans, or with a broadcast scalar on either side (length-1 span).</summary>
    public static void Binary<T>(BinaryOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, INumber<T>
    {
        bool sa = a.Length == 1 && y.Length != 1, sb = b.Length == 1 && y.Length != 1;
        switch (op)
        {
            case BinaryOp.Add:
                if (sa) TensorPrimitives.Add(b, a[0], y); else if (sb) TensorPrimitives.Add(a, b[0], y); else TensorPrimitives.Add(a, b, y);
                break;
            case BinaryOp.Sub:
                if (sa) TensorPrimitives.Subtract(a[0], b, y); else if (sb) TensorPrimitives.Subtract(a, b[0], y); else TensorPrimitives.Subtract(a, b, y);
                break;
            case BinaryOp.Mul:
                if (sa) TensorPrimitives.Multiply(b, a[0], y); else if (sb) TensorPrimitives.Multiply(a, b[0], y); else TensorPrimitives.Multiply(a, b, y);
                break;
            case BinaryOp.Div:
                if (sa) TensorPrimitives.Divide(a[0], b, y); else if (sb) TensorPrimitives.Divide(a, b[0], y); else TensorPrimitives.Divide(a, b, y);
                break;
            case BinaryOp.Max:
                for (int i = 0; i < y.Length; i++) { T u = a[sa ? 0 : i], v = b[sb ? 0 : i]; y[i] = T.IsNaN(u) || T.IsNaN(v) ? (T.IsNaN(u) ? u : v) : (u >= v ? u : v); }
                break;
            case BinaryOp.Min:
                for (int i = 0; i < y.Length; i++) { T u = a[sa ? 0 : i], v = b[sb ? 0 : i]; y[i] = T.IsNaN(u) || T.IsNaN(v) ? (T.IsNaN(u) ? u : v) : (u <= v ? u : v); }
                break;
            default: throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    public static void Pow<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool sa = a.Length == 1 && y.Length != 1, sb = b.Length == 1 && y.Length != 1;
        for (int i = 0; i < y.Length; i++) y[i] = T.Pow(a[sa ? 0 : i], b[sb ? 0 : i]);
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
