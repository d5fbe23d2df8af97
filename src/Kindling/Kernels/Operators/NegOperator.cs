using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>neg: y = −x (exact); ∂x = −g.</summary>
internal readonly struct NegOperator : IPointwiseOp
{
    public static string Name => "neg";
    public static double Invoke(double x) => -x;
    public static float Invoke(float x) => -x;
    public static Vector128<float> Invoke(Vector128<float> x) => -x;
    public static Vector256<float> Invoke(Vector256<float> x) => -x;
    public static Vector512<float> Invoke(Vector512<float> x) => -x;
    public static double Grad(double x, double y, double g) => -g;
    public static float Grad(float x, float y, float g) => -g;
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g) => -g;
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g) => -g;
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g) => -g;
}
