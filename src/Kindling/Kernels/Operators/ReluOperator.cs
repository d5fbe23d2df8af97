using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// relu: y = max(x, 0) with IEEE maximum's edges (relu(−0) = +0, NaN stays NaN, as torch.relu); ∂x = g where x &gt; 0,
/// else 0 (0 at 0 and at NaN, as PyTorch's threshold_backward).
/// </summary>
internal readonly struct ReluOperator : IPointwiseOp
{
    public static string Name => "relu";
    public static double Invoke(double x) => x > 0 ? x : double.IsNaN(x) ? x : 0;
    public static float Invoke(float x) => x > 0f ? x : float.IsNaN(x) ? x : 0f;
    public static Vector128<float> Invoke(Vector128<float> x) =>
        Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<float>.Zero) | ~Vector128.Equals(x, x), x, Vector128<float>.Zero);
    public static Vector256<float> Invoke(Vector256<float> x) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero) | ~Vector256.Equals(x, x), x, Vector256<float>.Zero);
    public static Vector512<float> Invoke(Vector512<float> x) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero) | ~Vector512.Equals(x, x), x, Vector512<float>.Zero);
    public static double Grad(double x, double y, double g) => x > 0 ? g : 0;
    public static float Grad(float x, float y, float g) => x > 0f ? g : 0f;
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<float>.Zero), g, Vector128<float>.Zero);
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), g, Vector256<float>.Zero);
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), g, Vector512<float>.Zero);
}
