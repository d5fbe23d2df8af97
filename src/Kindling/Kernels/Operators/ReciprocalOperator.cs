using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>reciprocal: y = 1/x (a correctly rounded division, not the rcpps estimate); ∂x = −g·y².</summary>
internal readonly struct ReciprocalOperator : IPointwiseOp
{
    public static string Name => "reciprocal";
    public static double Invoke(double x) => 1 / x;
    public static float Invoke(float x) => 1f / x;
    public static Vector128<float> Invoke(Vector128<float> x) => Vector128<float>.One / x;
    public static Vector256<float> Invoke(Vector256<float> x) => Vector256<float>.One / x;
    public static Vector512<float> Invoke(Vector512<float> x) => Vector512<float>.One / x;
    public static double Grad(double x, double y, double g) => -g * y * y;
    public static float Grad(float x, float y, float g) => -g * y * y;
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g) => -g * y * y;
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g) => -g * y * y;
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g) => -g * y * y;
}
