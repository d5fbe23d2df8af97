using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>sign: y = −1, 0 or 1 (+0 for ±0; NaN stays NaN); ∂x = 0.</summary>
internal readonly struct SignOperator : IPointwiseOp
{
    public static string Name => "sign";
    public static double Invoke(double x) => double.IsNaN(x) ? x : Math.Sign(x);
    public static float Invoke(float x) => float.IsNaN(x) ? x : MathF.Sign(x);
    public static Vector128<float> Invoke(Vector128<float> x)
    {
        var one = Vector128<float>.One;
        var s = (Vector128.GreaterThan(x, Vector128<float>.Zero) & one) - (Vector128.LessThan(x, Vector128<float>.Zero) & one);
        return Vector128.ConditionalSelect(Vector128.Equals(x, x), s, x);
    }
    public static Vector256<float> Invoke(Vector256<float> x)
    {
        var one = Vector256<float>.One;
        var s = (Vector256.GreaterThan(x, Vector256<float>.Zero) & one) - (Vector256.LessThan(x, Vector256<float>.Zero) & one);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), s, x);
    }
    public static Vector512<float> Invoke(Vector512<float> x)
    {
        var one = Vector512<float>.One;
        var s = (Vector512.GreaterThan(x, Vector512<float>.Zero) & one) - (Vector512.LessThan(x, Vector512<float>.Zero) & one);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), s, x);
    }
    public static double Grad(double x, double y, double g) => 0;
    public static float Grad(float x, float y, float g) => 0f;
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g) => Vector128<float>.Zero;
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g) => Vector256<float>.Zero;
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g) => Vector512<float>.Zero;
}
