using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// cos: the C runtime's cosf (MathF.Cos, under 1 ulp; TensorPrimitives.Cos, which it replaces, ignored KINDLING_ISA); ∂x = −g·sin x.
/// The vector forms run lane by lane (no vector range reduction yet), so every width gives the scalar's bits.
/// </summary>
internal readonly struct CosOperator : IPointwiseOp
{
    public static string Name => "cos";
    public static double Invoke(double x) => Math.Cos(x);
    public static float Invoke(float x) => MathF.Cos(x);
    public static Vector128<float> Invoke(Vector128<float> x) => Lanes.Map<CosOperator>(x);
    public static Vector256<float> Invoke(Vector256<float> x) => Lanes.Map<CosOperator>(x);
    public static Vector512<float> Invoke(Vector512<float> x) => Lanes.Map<CosOperator>(x);
    public static double Grad(double x, double y, double g) => -g * Math.Sin(x);
    public static float Grad(float x, float y, float g) => -g * MathF.Sin(x);
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g) => Lanes.Grad<CosOperator>(x, y, g);
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g) => Lanes.Grad<CosOperator>(x, y, g);
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g) => Lanes.Grad<CosOperator>(x, y, g);
}
