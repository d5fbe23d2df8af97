using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// erf: the error function, evaluated in float64 (<see cref="SpecialFunctions.Erf"/>) and rounded once; ∂x =
/// g·2/√π·e^(−x²), likewise. The vector forms run lane by lane (no float32 vector erf yet): every width, the same bits.
/// </summary>
internal readonly struct ErfOperator : IPointwiseOp
{
    private const double TwoOverSqrtPi = 1.12837916709551257390;

    public static string Name => "erf";
    public static double Invoke(double x) => SpecialFunctions.Erf(x);
    public static float Invoke(float x) => (float)SpecialFunctions.Erf(x);
    public static Vector128<float> Invoke(Vector128<float> x) => Lanes.Map<ErfOperator>(x);
    public static Vector256<float> Invoke(Vector256<float> x) => Lanes.Map<ErfOperator>(x);
    public static Vector512<float> Invoke(Vector512<float> x) => Lanes.Map<ErfOperator>(x);
    public static double Grad(double x, double y, double g) => g * Math.Exp(-x * x) * TwoOverSqrtPi;
    public static float Grad(float x, float y, float g) => (float)Grad((double)x, y, g);
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g) => Lanes.Grad<ErfOperator>(x, y, g);
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g) => Lanes.Grad<ErfOperator>(x, y, g);
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g) => Lanes.Grad<ErfOperator>(x, y, g);
}
