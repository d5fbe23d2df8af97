using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// hardswish (PyTorch's <c>F.hardswish</c>, MobileNetV3): y = x·min(max(x + 3, 0), 6)/6 — 0 below −3, x above 3;
/// ∂x = 0 for x &lt; −3, g·(x/3 + ½) for −3 ≤ x &lt; 3, g from 3 on — PyTorch 1.13's vectorised hardswish_backward, which
/// every tensor of at least one vector runs (its scalar tail uses x ≤ 3 and gives 1.5·g at exactly 3; measured by
/// tools/parity/gen_activations.py). Exact IEEE arithmetic, identical bits at every width; NaN stays NaN.
/// </summary>
internal readonly struct HardswishOperator : IPointwiseOp
{
    public static string Name => "hardswish";

    public static double Invoke(double x) { double t = x + 3; return x * (t < 0 ? 0 : t > 6 ? 6 : t) / 6; }
    public static float Invoke(float x) { float t = x + 3f; return x * (t < 0f ? 0f : t > 6f ? 6f : t) / 6f; }
    public static Vector128<float> Invoke(Vector128<float> x)
    {
        var t = x + Vector128.Create(3f);
        var six = Vector128.Create(6f);
        t = Vector128.ConditionalSelect(Vector128.LessThan(t, Vector128<float>.Zero), Vector128<float>.Zero, Vector128.ConditionalSelect(Vector128.GreaterThan(t, six), six, t));
        return x * t / six;
    }
    public static Vector256<float> Invoke(Vector256<float> x)
    {
        var t = x + Vector256.Create(3f);
        var six = Vector256.Create(6f);
        t = Vector256.ConditionalSelect(Vector256.LessThan(t, Vector256<float>.Zero), Vector256<float>.Zero, Vector256.ConditionalSelect(Vector256.GreaterThan(t, six), six, t));
        return x * t / six;
    }
    public static Vector512<float> Invoke(Vector512<float> x)
    {
        var t = x + Vector512.Create(3f);
        var six = Vector512.Create(6f);
        t = Vector512.ConditionalSelect(Vector512.LessThan(t, Vector512<float>.Zero), Vector512<float>.Zero, Vector512.ConditionalSelect(Vector512.GreaterThan(t, six), six, t));
        return x * t / six;
    }

    public static double Grad(double x, double y, double g) => x < -3 ? 0 : x >= 3 ? g : g * (x / 3 + 0.5);
    public static float Grad(float x, float y, float g) => x < -3f ? 0f : x >= 3f ? g : g * (x / 3f + 0.5f);
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g)
    {
        var mid = g * (x / Vector128.Create(3f) + Vector128.Create(0.5f));
        var r = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(x, Vector128.Create(3f)), g, mid);
        return Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128.Create(-3f)), Vector128<float>.Zero, r);
    }
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g)
    {
        var mid = g * (x / Vector256.Create(3f) + Vector256.Create(0.5f));
        var r = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256.Create(3f)), g, mid);
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(-3f)), Vector256<float>.Zero, r);
    }
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g)
    {
        var mid = g * (x / Vector512.Create(3f) + Vector512.Create(0.5f));
        var r = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512.Create(3f)), g, mid);
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(-3f)), Vector512<float>.Zero, r);
    }
}
