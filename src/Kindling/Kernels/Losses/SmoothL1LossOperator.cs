using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>Smooth L1 per element: f(d) = 0.5·d²/β for |d| &lt; β, else |d| − 0.5·β; f'(d) = clamp(d/β, −1, 1) (sign(d) at β = 0).</summary>
internal readonly struct SmoothL1LossOperator : IPointwiseLoss
{
    public static string Name => "SmoothL1LossBackward";
    public static double Loss(double d, double p) { d = Math.Abs(d); return d < p ? 0.5 * d * d / p : d - 0.5 * p; }
    public static float Loss(float d, float p) { d = MathF.Abs(d); return d < p ? 0.5f * d * d / p : d - 0.5f * p; }
    public static Vector128<float> Loss(Vector128<float> d, Vector128<float> p)
    {
        var half = Vector128.Create(0.5f);
        d = Vector128.Abs(d);
        return Vector128.ConditionalSelect(Vector128.LessThan(d, p), half * d * d / p, d - half * p);
    }
    public static Vector256<float> Loss(Vector256<float> d, Vector256<float> p)
    {
        var half = Vector256.Create(0.5f);
        d = Vector256.Abs(d);
        return Vector256.ConditionalSelect(Vector256.LessThan(d, p), half * d * d / p, d - half * p);
    }
    public static Vector512<float> Loss(Vector512<float> d, Vector512<float> p)
    {
        var half = Vector512.Create(0.5f);
        d = Vector512.Abs(d);
        return Vector512.ConditionalSelect(Vector512.LessThan(d, p), half * d * d / p, d - half * p);
    }
    public static double Deriv(double d, double p) => d <= -p ? -1 : d >= p ? 1 : d / p;
    public static float Deriv(float d, float p) => d <= -p ? -1f : d >= p ? 1f : d / p;
    public static Vector128<float> Deriv(Vector128<float> d, Vector128<float> p) =>
        Vector128.ConditionalSelect(Vector128.LessThanOrEqual(d, -p), -Vector128<float>.One, Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(d, p), Vector128<float>.One, d / p));
    public static Vector256<float> Deriv(Vector256<float> d, Vector256<float> p) =>
        Vector256.ConditionalSelect(Vector256.LessThanOrEqual(d, -p), -Vector256<float>.One, Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(d, p), Vector256<float>.One, d / p));
    public static Vector512<float> Deriv(Vector512<float> d, Vector512<float> p) =>
        Vector512.ConditionalSelect(Vector512.LessThanOrEqual(d, -p), -Vector512<float>.One, Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(d, p), Vector512<float>.One, d / p));
}
