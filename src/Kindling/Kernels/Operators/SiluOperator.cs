using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>silu (swish): y = x·σ(x); ∂x = g·σ(x)·(1 + x·(1 − σ(x))) (PyTorch's silu_backward order).</summary>
internal readonly struct SiluOperator : IPointwiseOp
{
    public static string Name => "silu";
    public static double Invoke(double x) => x * SigmoidOperator.Invoke(x);
    public static float Invoke(float x) => x * SigmoidOperator.Invoke(x);
    public static Vector128<float> Invoke(Vector128<float> x) => x * SigmoidOperator.Invoke(x);
    public static Vector256<float> Invoke(Vector256<float> x) => x * SigmoidOperator.Invoke(x);
    public static Vector512<float> Invoke(Vector512<float> x) => x * SigmoidOperator.Invoke(x);

    public static double Grad(double x, double y, double g) { double s = SigmoidOperator.Invoke(x); return g * s * (1 + x * (1 - s)); }
    public static float Grad(float x, float y, float g) { float s = SigmoidOperator.Invoke(x); return g * s * (1f + x * (1f - s)); }
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g)
    { var s = SigmoidOperator.Invoke(x); var one = Vector128<float>.One; return g * s * (one + x * (one - s)); }
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g)
    { var s = SigmoidOperator.Invoke(x); var one = Vector256<float>.One; return g * s * (one + x * (one - s)); }
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g)
    { var s = SigmoidOperator.Invoke(x); var one = Vector512<float>.One; return g * s * (one + x * (one - s)); }
}
