using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// log1p: y = ln(1 + x), accurate for small x (<see cref="FastLog"/>'s Goldberg-corrected form; .NET's float.LogP1 is
/// log(x + 1), which loses every digit below 1e-7). ∂x = g / (x + 1).
/// </summary>
internal readonly struct Log1pOperator : IPointwiseOp
{
    public static string Name => "log1p";
    public static double Invoke(double x)
    {
        // Goldberg: with v = 1 + x rounded, ln v · x/(v − 1) cancels v's rounding error (.NET's double.LogP1 is log(x + 1)).
        double v = 1 + x;
        if (v == 1 || double.IsNaN(x)) return x;
        if (double.IsPositiveInfinity(v)) return v;
        return Math.Log(v) * (x / (v - 1));
    }
    public static float Invoke(float x) => FastLog.Log1pScalar(x);
    public static Vector128<float> Invoke(Vector128<float> x) => FastLog.Log1p(x);
    public static Vector256<float> Invoke(Vector256<float> x) => FastLog.Log1p(x);
    public static Vector512<float> Invoke(Vector512<float> x) => FastLog.Log1p(x);
    public static double Grad(double x, double y, double g) => g / (x + 1);
    public static float Grad(float x, float y, float g) => g / (x + 1f);
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g) => g / (x + Vector128<float>.One);
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g) => g / (x + Vector256<float>.One);
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g) => g / (x + Vector512<float>.One);

}
