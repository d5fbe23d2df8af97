using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>ReLU's backward (x, g) → g where x &gt; 0, else 0 (NaN x gives 0, as PyTorch's threshold_backward).</summary>
internal readonly struct ReluBackwardOperator : IBinaryOperator
{
    public static double Invoke(double x, double g) => x > 0 ? g : 0;
    public static float Invoke(float x, float g) => x > 0f ? g : 0f;
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> g) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), g, Vector256<float>.Zero);
    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> g) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), g, Vector512<float>.Zero);
}

/// <summary>Sigmoid's backward from its output: (y, g) → g·y·(1 − y).</summary>
internal readonly struct SigmoidBackwardOperator : IBinaryOperator
{
    public static double Invoke(double y, double g) => g * y * (1 - y);
    public static float Invoke(float y, float g) => g * y * (1f - y);
    public static Vector256<float> Invoke(Vector256<float> y, Vector256<float> g) => g * y * (Vector256<float>.One - y);
    public static Vector512<float> Invoke(Vector512<float> y, Vector512<float> g) => g * y * (Vector512<float>.One - y);
}

/// <summary>Tanh's backward from its output: (y, g) → g·(1 − y²).</summary>
internal readonly struct TanhBackwardOperator : IBinaryOperator
{
    public static double Invoke(double y, double g) => g * (1 - y * y);
    public static float Invoke(float y, float g) => g * (1f - y * y);
    public static Vector256<float> Invoke(Vector256<float> y, Vector256<float> g) => g * (Vector256<float>.One - y * y);
    public static Vector512<float> Invoke(Vector512<float> y, Vector512<float> g) => g * (Vector512<float>.One - y * y);
}
