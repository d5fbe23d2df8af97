using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>sqrt: y = √x (IEEE, correctly rounded at every width); ∂x = g / (2y).</summary>
internal readonly struct SqrtOperator : IPointwiseOp
{
    public static string Name => "sqrt";
    public static double Invoke(double x) => Math.Sqrt(x);
    public static float Invoke(float x) => MathF.Sqrt(x);
    public static Vector128<float> Invoke(Vector128<float> x) => Vector128.Sqrt(x);
    public static Vector256<float> Invoke(Vector256<float> x) => Vector256.Sqrt(x);
    public static Vector512<float> Invoke(Vector512<float> x) => Vector512.Sqrt(x);
    public static double Grad(double x, double y, double g) => g / (y * 2);
    public static float Grad(float x, float y, float g) => g / (y * 2f);
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g) => g / (y + y);
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g) => g / (y + y);
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g) => g / (y + y);
}
