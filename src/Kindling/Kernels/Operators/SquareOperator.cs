using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>square: y = x·x (exact rounding); ∂x = g·x·2.</summary>
internal readonly struct SquareOperator : IPointwiseOp
{
    public static string Name => "square";
    public static double Invoke(double x) => x * x;
    public static float Invoke(float x) => x * x;
    public static Vector128<float> Invoke(Vector128<float> x) => x * x;
    public static Vector256<float> Invoke(Vector256<float> x) => x * x;
    public static Vector512<float> Invoke(Vector512<float> x) => x * x;
    public static double Grad(double x, double y, double g) => g * x * 2;
    public static float Grad(float x, float y, float g) => g * x * 2f;
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g) { var t = g * x; return t + t; }
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g) { var t = g * x; return t + t; }
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g) { var t = g * x; return t + t; }
}
