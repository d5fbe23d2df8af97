using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// log: y = ln x (<see cref="FastLog"/>, about 1 ulp, identical bits at every width; float64 Math.Log). Replaces
/// TensorPrimitives.Log, which ignored <c>KINDLING_ISA</c>. ∂x = g / x.
/// </summary>
internal readonly struct LogOperator : IPointwiseOp
{
    public static string Name => "log";
    public static double Invoke(double x) => Math.Log(x);
    public static float Invoke(float x) => FastLog.Scalar(x);
    public static Vector128<float> Invoke(Vector128<float> x) => FastLog.Log(x);
    public static Vector256<float> Invoke(Vector256<float> x) => FastLog.Log(x);
    public static Vector512<float> Invoke(Vector512<float> x) => FastLog.Log(x);
    public static double Grad(double x, double y, double g) => g / x;
    public static float Grad(float x, float y, float g) => g / x;
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g) => g / x;
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g) => g / x;
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g) => g / x;
}
