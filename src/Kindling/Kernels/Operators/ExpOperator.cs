using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>exp: y = eˣ (<see cref="FastExp"/>, about 1 ulp, identical bits at every width; float64 Math.Exp); ∂x = g·y.</summary>
internal readonly struct ExpOperator : IPointwiseOp
{
    public static string Name => "exp";
    public static double Invoke(double x) => Math.Exp(x);
    public static float Invoke(float x) => FastExp.Scalar(x);
    public static Vector128<float> Invoke(Vector128<float> x) => FastExp.Exp(x);
    public static Vector256<float> Invoke(Vector256<float> x) => FastExp.Exp(x);
    public static Vector512<float> Invoke(Vector512<float> x) => FastExp.Exp(x);
    public static double Grad(double x, double y, double g) => g * y;
    public static float Grad(float x, float y, float g) => g * y;
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g) => g * y;
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g) => g * y;
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g) => g * y;
}
