using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>abs: y = |x| (clears the sign bit, exact); ∂x = g·sign(x), so 0 at 0 as in PyTorch (NaN stays NaN).</summary>
internal readonly struct AbsOperator : IPointwiseOp
{
    public static string Name => "abs";
    public static double Invoke(double x) => Math.Abs(x);
    public static float Invoke(float x) => MathF.Abs(x);
    public static Vector128<float> Invoke(Vector128<float> x) => Vector128.Abs(x);
    public static Vector256<float> Invoke(Vector256<float> x) => Vector256.Abs(x);
    public static Vector512<float> Invoke(Vector512<float> x) => Vector512.Abs(x);
    public static double Grad(double x, double y, double g) => g * SignOperator.Invoke(x);
    public static float Grad(float x, float y, float g) => g * SignOperator.Invoke(x);
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g) => g * SignOperator.Invoke(x);
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g) => g * SignOperator.Invoke(x);
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g) => g * SignOperator.Invoke(x);
}
