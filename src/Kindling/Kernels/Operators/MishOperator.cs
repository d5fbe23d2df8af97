using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// mish (PyTorch's <c>F.mish</c>): y = x·tanh(softplus(x)), with the overflow-free <see cref="SoftplusOperator"/> and the
/// accurate <see cref="TanhOperator"/> (PyTorch writes tanh(log1p(eˣ))); ∂x = g·(t + x·σ(x)·(1 − t²)), t = tanh(softplus(x))
/// (PyTorch's mish_backward). Identical bits at every width.
/// </summary>
internal readonly struct MishOperator : IPointwiseOp
{
    public static string Name => "mish";

    public static double Invoke(double x) => x * Math.Tanh(SoftplusOperator.Invoke(x));
    public static float Invoke(float x) => x * TanhOperator.Invoke(SoftplusOperator.Invoke(x));
    public static Vector128<float> Invoke(Vector128<float> x) => x * TanhOperator.Invoke(SoftplusOperator.Invoke(x));
    public static Vector256<float> Invoke(Vector256<float> x) => x * TanhOperator.Invoke(SoftplusOperator.Invoke(x));
    public static Vector512<float> Invoke(Vector512<float> x) => x * TanhOperator.Invoke(SoftplusOperator.Invoke(x));

    public static double Grad(double x, double y, double g)
    {
        double t = Math.Tanh(SoftplusOperator.Invoke(x));
        return g * (t + x * SigmoidOperator.Invoke(x) * (1 - t * t));
    }
    public static float Grad(float x, float y, float g)
    {
        float t = TanhOperator.Invoke(SoftplusOperator.Invoke(x));
        return g * (t + x * SigmoidOperator.Invoke(x) * (1f - t * t));
    }
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g)
    {
        var t = TanhOperator.Invoke(SoftplusOperator.Invoke(x));
        return g * (t + x * SigmoidOperator.Invoke(x) * (Vector128<float>.One - t * t));
    }
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g)
    {
        var t = TanhOperator.Invoke(SoftplusOperator.Invoke(x));
        return g * (t + x * SigmoidOperator.Invoke(x) * (Vector256<float>.One - t * t));
    }
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g)
    {
        var t = TanhOperator.Invoke(SoftplusOperator.Invoke(x));
        return g * (t + x * SigmoidOperator.Invoke(x) * (Vector512<float>.One - t * t));
    }
}
