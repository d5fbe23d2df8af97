using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>L1 per element: f(d) = |d|, f'(d) = sign(d) (0 at ±0, NaN kept).</summary>
internal readonly struct L1LossOperator : IPointwiseLoss
{
    public static string Name => "L1LossBackward";
    public static double Loss(double d, double p) => Math.Abs(d);
    public static float Loss(float d, float p) => MathF.Abs(d);
    public static Vector128<float> Loss(Vector128<float> d, Vector128<float> p) => Vector128.Abs(d);
    public static Vector256<float> Loss(Vector256<float> d, Vector256<float> p) => Vector256.Abs(d);
    public static Vector512<float> Loss(Vector512<float> d, Vector512<float> p) => Vector512.Abs(d);
    public static double Deriv(double d, double p) => SignOperator.Invoke(d);
    public static float Deriv(float d, float p) => SignOperator.Invoke(d);
    public static Vector128<float> Deriv(Vector128<float> d, Vector128<float> p) => SignOperator.Invoke(d);
    public static Vector256<float> Deriv(Vector256<float> d, Vector256<float> p) => SignOperator.Invoke(d);
    public static Vector512<float> Deriv(Vector512<float> d, Vector512<float> p) => SignOperator.Invoke(d);
}
