using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// elu: y = x for x &gt; 0, else α·(eˣ − 1) with the accurate <see cref="Expm1Operator"/>; ∂x = g for x &gt; 0, else
/// g·α·eˣ (PyTorch's elu_backward on the input; α·eˣ rather than y + α, which cancels for large negative x).
/// Same bits at every width.
/// </summary>
internal readonly struct EluOperator : IParamPointwiseOp
{
    public static string Name => "elu";
    public static double Invoke(double x, double p) => x > 0 ? x : p * Expm1Operator.Invoke(x);
    public static float Invoke(float x, float p) => x > 0f ? x : p * Expm1Operator.Invoke(x);
    public static Vector128<float> Invoke(Vector128<float> x, Vector128<float> p) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<float>.Zero), x, p * Expm1Operator.Invoke(x));
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> p) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, p * Expm1Operator.Invoke(x));
    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> p) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, p * Expm1Operator.Invoke(x));
    public static double Grad(double x, double y, double g, double p) => x > 0 ? g : g * (p * Math.Exp(x));
    public static float Grad(float x, float y, float g, float p) => x > 0f ? g : g * (p * FastExp.Scalar(x));
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g, Vector128<float> p) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<float>.Zero), g, g * (p * FastExp.Exp(x)));
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g, Vector256<float> p) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), g, g * (p * FastExp.Exp(x)));
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g, Vector512<float> p) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), g, g * (p * FastExp.Exp(x)));
}
