using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>leaky_relu: y = x for x &gt; 0, else slope·x; ∂x = g for x &gt; 0, else g·slope (PyTorch's leaky_relu_backward). Exact IEEE arithmetic.</summary>
internal readonly struct LeakyReluOperator : IParamPointwiseOp
{
    public static string Name => "leaky_relu";
    public static double Invoke(double x, double p) => x > 0 ? x : x * p;
    public static float Invoke(float x, float p) => x > 0f ? x : x * p;
    public static Vector128<float> Invoke(Vector128<float> x, Vector128<float> p) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<float>.Zero), x, x * p);
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> p) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, x * p);
    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> p) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, x * p);
    public static double Grad(double x, double y, double g, double p) => x > 0 ? g : g * p;
    public static float Grad(float x, float y, float g, float p) => x > 0f ? g : g * p;
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g, Vector128<float> p) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<float>.Zero), g, g * p);
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g, Vector256<float> p) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), g, g * p);
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g, Vector512<float> p) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), g, g * p);
}
