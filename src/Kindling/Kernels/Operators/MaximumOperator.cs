using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>maximum: z = elementwise maximum, NaN propagating (the first NaN wins, as before), x at a tie; ∂: g to the winner, split evenly at ties (PyTorch).</summary>
internal readonly struct MaximumOperator : IBinaryOp
{
    public static string Name => "maximum";
    public static double Invoke(double x, double y) => double.IsNaN(x) ? x : double.IsNaN(y) ? y : x >= y ? x : y;
    public static float Invoke(float x, float y) => float.IsNaN(x) ? x : float.IsNaN(y) ? y : x >= y ? x : y;
    public static Vector128<float> Invoke(Vector128<float> x, Vector128<float> y)
    {
        var r = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(x, y), x, y);
        r = Vector128.ConditionalSelect(Vector128.Equals(y, y), r, y);
        return Vector128.ConditionalSelect(Vector128.Equals(x, x), r, x);
    }
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y)
    {
        var r = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, y), x, y);
        r = Vector256.ConditionalSelect(Vector256.Equals(y, y), r, y);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), r, x);
    }
    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y)
    {
        var r = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, y), x, y);
        r = Vector512.ConditionalSelect(Vector512.Equals(y, y), r, y);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), r, x);
    }

    public static long Invoke(long x, long y) => x >= y ? x : y;
    public static void Backward(Tensor g, GradSink s, BinarySaved saved)
    {
        Derivatives.MinMax(g, s, saved, max: true);
    }
}
