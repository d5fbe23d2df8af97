using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// sigmoid: y = 1/(1 + e⁻ˣ), never overflowing: with u = e^−|x| ≤ 1, y = 1/(1 + u) for x ≥ 0 and u/(1 + u) below
/// (<see cref="FastExp"/>, identical bits at every width; about 2 ulp). ∂x = g·y·(1 − y), from the saved output.
/// </summary>
internal readonly struct SigmoidOperator : IPointwiseOp
{
    public static string Name => "sigmoid";

    public static double Invoke(double x)
    {
        if (x >= 0) return 1 / (1 + Math.Exp(-x));
        double e = Math.Exp(x);
        return e / (1 + e);
    }

    public static float Invoke(float x)
    {
        float u = FastExp.Scalar(-MathF.Abs(x));
        return (x >= 0f ? 1f : u) / (1f + u);
    }

    public static Vector128<float> Invoke(Vector128<float> x)
    {
        var u = FastExp.Exp(-Vector128.Abs(x));
        return Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(x, Vector128<float>.Zero), Vector128<float>.One, u) / (Vector128<float>.One + u);
    }

    public static Vector256<float> Invoke(Vector256<float> x)
    {
        var u = FastExp.Exp(-Vector256.Abs(x));
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), Vector256<float>.One, u) / (Vector256<float>.One + u);
    }

    public static Vector512<float> Invoke(Vector512<float> x)
    {
        var u = FastExp.Exp(-Vector512.Abs(x));
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<float>.Zero), Vector512<float>.One, u) / (Vector512<float>.One + u);
    }

    public static double Grad(double x, double y, double g) => g * y * (1 - y);
    public static float Grad(float x, float y, float g) => g * y * (1f - y);
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g) => g * y * (Vector128<float>.One - y);
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g) => g * y * (Vector256<float>.One - y);
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g) => g * y * (Vector512<float>.One - y);
}
