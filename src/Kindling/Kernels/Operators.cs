using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// An elementwise operation y = f(x) at every width (TensorPrimitives' <c>IUnaryOperator</c>): float32 scalar,
/// 128-, 256- and 512-bit forms, which must give the same bits per element so the width a driver picks never changes
/// a result, and the float64 form (scalar: float64 is for gradient checks and references, not speed).
/// </summary>
internal interface IUnaryOperator
{
    static abstract double Invoke(double x);
    static abstract float Invoke(float x);
    static abstract Vector128<float> Invoke(Vector128<float> x);
    static abstract Vector256<float> Invoke(Vector256<float> x);
    static abstract Vector512<float> Invoke(Vector512<float> x);
}

/// <summary>
/// The derivative rule of an elementwise op, as one fused pass: ∂x = Grad(x, y, g) from the input x, the output y and
/// the output's gradient g, at every width with the same bits per element (run by <see cref="Simd.Grad{TOp}(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>).
/// </summary>
internal interface IUnaryDerivative
{
    static abstract double Grad(double x, double y, double g);
    static abstract float Grad(float x, float y, float g);
    static abstract Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g);
    static abstract Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g);
    static abstract Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g);
}

/// <summary>
/// A differentiable elementwise op, the whole definition in one struct: its forward at every width
/// (<see cref="IUnaryOperator"/>), its backward rule (<see cref="IUnaryDerivative"/>) and the name its graph node shows.
/// <c>Tensor.Unary&lt;TOp&gt;()</c> runs it and records <see cref="Derivatives.Pointwise{TOp}"/>; adding an op is one such
/// file plus a one-line public entry.
/// </summary>
internal interface IPointwiseOp : IUnaryOperator, IUnaryDerivative
{
    /// <summary>The node's name, PyTorch's grad_fn name (for example <c>ExpBackward</c>).</summary>
    static abstract string Name { get; }
}

/// <summary>
/// An elementwise operation z = f(x, y): float64, and float32 at every width with the same bits at every width.
/// Integer tensors use the int64 form, which ops undefined on integers (division, power) leave throwing.
/// </summary>
internal interface IBinaryOperator
{
    static abstract double Invoke(double x, double y);
    static abstract float Invoke(float x, float y);
    static abstract Vector128<float> Invoke(Vector128<float> x, Vector128<float> y);
    static abstract Vector256<float> Invoke(Vector256<float> x, Vector256<float> y);
    static abstract Vector512<float> Invoke(Vector512<float> x, Vector512<float> y);
    static virtual long Invoke(long x, long y) => throw new NotSupportedException("this operation is not defined on integer tensors.");
}

/// <summary>
/// A fused pointwise kernel over several (some optional) arrays, such as a loss's gradients: the operator holds
/// pointers to its operands and outputs, and processes the element(s) starting at index i. Run by <see cref="Simd.ForEach{TOp}"/>.
/// </summary>
internal interface IIndexedKernel
{
    /// <summary>Element i.</summary>
    void Invoke(int i);
    /// <summary>Elements i … i + 3.</summary>
    void Invoke128(int i);
    /// <summary>Elements i … i + 7.</summary>
    void Invoke256(int i);
    /// <summary>Elements i … i + 15.</summary>
    void Invoke512(int i);
}

/// <summary>
/// A fused pointwise value over several (some optional) arrays, such as a loss: the operator holds pointers to its
/// operands and returns the value(s) at index i. Run by <see cref="Simd.Sum{TOp}"/>, which stores and sums them.
/// </summary>
internal interface IIndexedOperator
{
    /// <summary>Element i.</summary>
    float Invoke(int i);
    /// <summary>Elements i … i + 3.</summary>
    Vector128<float> Invoke128(int i);
    /// <summary>Elements i … i + 7.</summary>
    Vector256<float> Invoke256(int i);
    /// <summary>Elements i … i + 15.</summary>
    Vector512<float> Invoke512(int i);
}

/// <summary>
/// Lane-by-lane forms for operators without a vector algorithm yet (erf, sin, cos, pow): each lane runs the scalar
/// form, so every width gives the scalar's bits by construction.
/// </summary>
internal static class Lanes
{
    public static Vector128<float> Map<TOp>(Vector128<float> x) where TOp : IUnaryOperator
    {
        Span<float> b = stackalloc float[4];
        x.CopyTo(b);
        for (int i = 0; i < b.Length; i++) b[i] = TOp.Invoke(b[i]);
        return Vector128.Create<float>(b);
    }

    public static Vector256<float> Map<TOp>(Vector256<float> x) where TOp : IUnaryOperator =>
        Vector256.Create(Map<TOp>(x.GetLower()), Map<TOp>(x.GetUpper()));

    public static Vector512<float> Map<TOp>(Vector512<float> x) where TOp : IUnaryOperator =>
        Vector512.Create(Map<TOp>(x.GetLower()), Map<TOp>(x.GetUpper()));

    public static Vector128<float> Map<TOp>(Vector128<float> x, Vector128<float> y) where TOp : IBinaryOperator
    {
        Span<float> a = stackalloc float[4], b = stackalloc float[4];
        x.CopyTo(a); y.CopyTo(b);
        for (int i = 0; i < a.Length; i++) a[i] = TOp.Invoke(a[i], b[i]);
        return Vector128.Create<float>(a);
    }

    public static Vector256<float> Map<TOp>(Vector256<float> x, Vector256<float> y) where TOp : IBinaryOperator =>
        Vector256.Create(Map<TOp>(x.GetLower(), y.GetLower()), Map<TOp>(x.GetUpper(), y.GetUpper()));

    public static Vector512<float> Map<TOp>(Vector512<float> x, Vector512<float> y) where TOp : IBinaryOperator =>
        Vector512.Create(Map<TOp>(x.GetLower(), y.GetLower()), Map<TOp>(x.GetUpper(), y.GetUpper()));

    public static Vector128<float> Grad<TOp>(Vector128<float> x, Vector128<float> y, Vector128<float> g) where TOp : IUnaryDerivative
    {
        Span<float> a = stackalloc float[4], b = stackalloc float[4], c = stackalloc float[4];
        x.CopyTo(a); y.CopyTo(b); g.CopyTo(c);
        for (int i = 0; i < a.Length; i++) a[i] = TOp.Grad(a[i], b[i], c[i]);
        return Vector128.Create<float>(a);
    }

    public static Vector256<float> Grad<TOp>(Vector256<float> x, Vector256<float> y, Vector256<float> g) where TOp : IUnaryDerivative =>
        Vector256.Create(Grad<TOp>(x.GetLower(), y.GetLower(), g.GetLower()), Grad<TOp>(x.GetUpper(), y.GetUpper(), g.GetUpper()));

    public static Vector512<float> Grad<TOp>(Vector512<float> x, Vector512<float> y, Vector512<float> g) where TOp : IUnaryDerivative =>
        Vector512.Create(Grad<TOp>(x.GetLower(), y.GetLower(), g.GetLower()), Grad<TOp>(x.GetUpper(), y.GetUpper(), g.GetUpper()));
}

/// <summary>
/// A differentiable binary op in one struct: its forward at every width (<see cref="IBinaryOperator"/>), its derivative
/// rule (<see cref="IDerivativeRule{TSaved}"/> over the saved inputs and output) and the name it reports.
/// </summary>
internal interface IBinaryOp : IBinaryOperator, IDerivativeRule<BinarySaved>
{
    /// <summary>PyTorch's name of the op (for example <c>add</c>); its node is shown as <c>AddBackward</c>.</summary>
    static abstract string Name { get; }
}
