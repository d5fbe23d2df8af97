using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>rsqrt: y = 1/√x (a correctly rounded square root, then a correctly rounded division — not the ~12-bit rsqrtps estimate); ∂x = −½·g·y³.</summary>
internal readonly struct RsqrtOperator : IPointwiseOp
{
    public static string Name => "rsqrt";
    public static double Invoke(double x) => 1 / Math.Sqrt(x);
    public static float Invoke(float x) => 1f / MathF.Sqrt(x);
    public static Vector128<float> Invoke(Vector128<float> x) => Vector128<float>.One / Vector128.Sqrt(x);
    public static Vector256<float> Invoke(Vector256<float> x) => Vector256<float>.One / Vector256.Sqrt(x);
    public static Vector512<float> Invoke(Vector512<float> x) => Vector512<float>.One / Vector512.Sqrt(x);
    public static double Grad(double x, double y, double g) => g * y * y * y * -0.5;
    public static float Grad(float x, float y, float g) => g * y * y * y * -0.5f;
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g) => g * y * y * y * Vector128.Create(-0.5f);
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g) => g * y * y * y * Vector256.Create(-0.5f);
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g) => g * y * y * y * Vector512.Create(-0.5f);
}
