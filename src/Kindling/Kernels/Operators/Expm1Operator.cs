using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// expm1: y = eˣ − 1, accurate for small x by Kahan's trick: with u = eˣ rounded, (u − 1)·x / ln u cancels u's own
/// rounding error (u − 1 is exact there), where .NET's float.ExpM1 (eˣ − 1) loses every digit below 1e-7. u = 1 gives
/// x itself; u = +∞ gives +∞; u − 1 = −1 gives −1. Same bits at every width (<see cref="FastExp"/>, <see cref="FastLog"/>).
/// ∂x = g·(y + 1).
/// </summary>
internal readonly struct Expm1Operator : IPointwiseOp
{
    public static string Name => "expm1";
    public static double Invoke(double x)
    {
        double u = Math.Exp(x);
        if (u == 1 || double.IsNaN(x)) return x;
        double um1 = u - 1;
        if (um1 == -1 || double.IsPositiveInfinity(u)) return um1;
        return um1 * (x / Math.Log(u)); // x / ln u ≈ 1 first: um1·x would overflow near the top of the range
    }

    public static float Invoke(float x)
    {
        float u = FastExp.Scalar(x);
        if (u == 1f || float.IsNaN(x)) return x;
        float um1 = u - 1f;
        if (um1 == -1f || float.IsPositiveInfinity(u)) return um1;
        return um1 * (x / FastLog.Scalar(u));
    }

    public static Vector128<float> Invoke(Vector128<float> x)
    {
        var u = FastExp.Exp(x);
        var um1 = u - Vector128<float>.One;
        var r = um1 * (x / FastLog.Log(u));
        r = Vector128.ConditionalSelect(Vector128.Equals(um1, Vector128.Create(-1f)) | Vector128.Equals(u, Vector128.Create(float.PositiveInfinity)), um1, r);
        return Vector128.ConditionalSelect(Vector128.Equals(u, Vector128<float>.One) | ~Vector128.Equals(x, x), x, r);
    }

    public static Vector256<float> Invoke(Vector256<float> x)
    {
        var u = FastExp.Exp(x);
        var um1 = u - Vector256<float>.One;
        var r = um1 * (x / FastLog.Log(u));
        r = Vector256.ConditionalSelect(Vector256.Equals(um1, Vector256.Create(-1f)) | Vector256.Equals(u, Vector256.Create(float.PositiveInfinity)), um1, r);
        return Vector256.ConditionalSelect(Vector256.Equals(u, Vector256<float>.One) | ~Vector256.Equals(x, x), x, r);
    }

    public static Vector512<float> Invoke(Vector512<float> x)
    {
        var u = FastExp.Exp(x);
        var um1 = u - Vector512<float>.One;
        var r = um1 * (x / FastLog.Log(u));
        r = Vector512.ConditionalSelect(Vector512.Equals(um1, Vector512.Create(-1f)) | Vector512.Equals(u, Vector512.Create(float.PositiveInfinity)), um1, r);
        return Vector512.ConditionalSelect(Vector512.Equals(u, Vector512<float>.One) | ~Vector512.Equals(x, x), x, r);
    }

    public static double Grad(double x, double y, double g) => g * (y + 1);
    public static float Grad(float x, float y, float g) => g * (y + 1f);
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g) => g * (y + Vector128<float>.One);
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g) => g * (y + Vector256<float>.One);
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g) => g * (y + Vector512<float>.One);
}
