using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// sin: the C runtime's sinf (MathF.Sin, under 1 ulp; TensorPrimitives.Sin, which it replaces, ignored KINDLING_ISA); ∂x = g·cos x.
/// The vector forms run lane by lane (no vector range reduction yet), so every width gives the scalar's bits.
/// </summary>
internal readonly struct SinOperator : IPointwiseOp
{
    public static string Name => "sin";
    public static double Invoke(double x) => Math.Sin(x);
    public static float Invoke(float x) => MathF.Sin(x);
    public static Vector128<float> Invoke(Vector128<float> x) => Lanes.Map<SinOperator>(x);
    public static Vector256<float> Invoke(Vector256<float> x) => Lanes.Map<SinOperator>(x);
    public static Vector512<float> Invoke(Vector512<float> x) => Lanes.Map<SinOperator>(x);
    public static double Grad(double x, double y, double g) => g * Math.Cos(x);
    public static float Grad(float x, float y, float g) => g * MathF.Cos(x);
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g) => Lanes.Grad<SinOperator>(x, y, g);
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g) => Lanes.Grad<SinOperator>(x, y, g);
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g) => Lanes.Grad<SinOperator>(x, y, g);
}
