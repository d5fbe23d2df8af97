using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>pow: z = xʸ (float only; the C runtime's pow, lane by lane at every width); ∂x = g·y·x^(y−1), ∂y = g·z·log x, defined as 0 where x = 0 (PyTorch: the limit for y &gt; 0).</summary>
internal readonly struct PowOperator : IBinaryOp
{
    public static string Name => "pow";
    public static double Invoke(double x, double y) => Math.Pow(x, y);
    public static float Invoke(float x, float y) => MathF.Pow(x, y);
    public static Vector128<float> Invoke(Vector128<float> x, Vector128<float> y) => Lanes.Map<PowOperator>(x, y);
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => Lanes.Map<PowOperator>(x, y);
    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => Lanes.Map<PowOperator>(x, y);

    public static void Backward(Tensor g, GradSink s, BinarySaved saved)
    {
        Tensor ad = saved.A.Detach(), bd = saved.B.Detach();
        if (s.Needs(0)) s.Add(0, (g * bd * Tensor.Pow(ad, bd - 1)).SumTo(saved.A.Dims));
        if (s.Needs(1)) s.Add(1, Tensor.Where(ad.Eq(0), Tensor.ZerosLike(saved.Y), g * saved.Y.Detach() * ad.Log()).SumTo(saved.B.Dims));
    }
}
