using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>MSE per element: f(d) = d², f'(d) = 2d.</summary>
internal readonly struct MseLossOperator : IPointwiseLoss
{
    public static string Name => "MseLossBackward";
    public static double Loss(double d, double p) => d * d;
    public static float Loss(float d, float p) => d * d;
    public static Vector128<float> Loss(Vector128<float> d, Vector128<float> p) => d * d;
    public static Vector256<float> Loss(Vector256<float> d, Vector256<float> p) => d * d;
    public static Vector512<float> Loss(Vector512<float> d, Vector512<float> p) => d * d;
    public static double Deriv(double d, double p) => 2 * d;
    public static float Deriv(float d, float p) => 2f * d;
    public static Vector128<float> Deriv(Vector128<float> d, Vector128<float> p) => d + d;
    public static Vector256<float> Deriv(Vector256<float> d, Vector256<float> p) => d + d;
    public static Vector512<float> Deriv(Vector512<float> d, Vector512<float> p) => d + d;
}
