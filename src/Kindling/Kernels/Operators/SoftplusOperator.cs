using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// softplus: y = log(1 + eˣ) = max(x, 0) + log1p(e^−|x|), so exp never overflows and a large negative x keeps its
/// relative precision (y ≈ eˣ); same bits at every width. ∂x = g·σ(x).
/// </summary>
internal readonly struct SoftplusOperator : IPointwiseOp
{
    public static string Name => "softplus";
    public static double Invoke(double x) => (x > 0 ? x : 0) + Log1pOperator.Invoke(Math.Exp(-Math.Abs(x)));
    public static float Invoke(float x) => (x > 0f ? x : 0f) + FastLog.Log1pScalar(FastExp.Scalar(-MathF.Abs(x)));
    public static Vector128<float> Invoke(Vector128<float> x) =>
        Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<float>.Zero), x, Vector128<float>.Zero) + FastLog.Log1p(FastExp.Exp(-Vector128.Abs(x)));
    public static Vector256<float> Invoke(Vector256<float> x) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, Vector256<float>.Zero) + FastLog.Log1p(FastExp.Exp(-Vector256.Abs(x)));
    public static Vector512<float> Invoke(Vector512<float> x) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, Vector512<float>.Zero) + FastLog.Log1p(FastExp.Exp(-Vector512.Abs(x)));
    public static double Grad(double x, double y, double g) => g * SigmoidOperator.Invoke(x);
    public static float Grad(float x, float y, float g) => g * SigmoidOperator.Invoke(x);
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g) => g * SigmoidOperator.Invoke(x);
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g) => g * SigmoidOperator.Invoke(x);
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g) => g * SigmoidOperator.Invoke(x);
}
