using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// gelu with the exact erf (PyTorch's approximate='none'): y = x·Φ(x) = ½·x·(1 + erf(x/√2)); ∂x = g·(Φ(x) + x·φ(x)).
/// Both are evaluated in float64 and rounded once; the vector forms run lane by lane (no float32 vector erf yet), so
/// every width gives the scalar's bits.
/// </summary>
internal readonly struct GeluOperator : IPointwiseOp
{
    private const double InvSqrt2 = 0.70710678118654752440, InvSqrt2Pi = 0.39894228040143267794;

    public static string Name => "gelu";
    public static double Invoke(double x) => 0.5 * x * (1.0 + SpecialFunctions.Erf(x / Math.Sqrt(2.0)));
    public static float Invoke(float x) => (float)Invoke((double)x);
    public static Vector128<float> Invoke(Vector128<float> x) => Lanes.Map<GeluOperator>(x);
    public static Vector256<float> Invoke(Vector256<float> x) => Lanes.Map<GeluOperator>(x);
    public static Vector512<float> Invoke(Vector512<float> x) => Lanes.Map<GeluOperator>(x);

    public static double Grad(double x, double y, double g) =>
        g * (0.5 * (1 + SpecialFunctions.Erf(x * InvSqrt2)) + x * Math.Exp(-0.5 * x * x) * InvSqrt2Pi);
    public static float Grad(float x, float y, float g) => (float)Grad((double)x, y, g);
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g) => Lanes.Grad<GeluOperator>(x, y, g);
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g) => Lanes.Grad<GeluOperator>(x, y, g);
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g) => Lanes.Grad<GeluOperator>(x, y, g);
}
