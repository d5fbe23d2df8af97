using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>sub: z = x − y; ∂x = g, ∂y = −g (broadcast dimensions summed back).</summary>
internal readonly struct SubOperator : IBinaryOp
{
    public static string Name => "sub";
    public static double Invoke(double x, double y) => x - y;
    public static float Invoke(float x, float y) => x - y;
    public static Vector128<float> Invoke(Vector128<float> x, Vector128<float> y) => x - y;
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x - y;
    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x - y;
    public static long Invoke(long x, long y) => x - y;
    public static void Backward(Tensor g, GradSink s, BinarySaved saved)
    {
        if (s.Needs(0)) s.Add(0, g.SumTo(saved.A.Dims));
        if (s.Needs(1)) s.Add(1, (-g).SumTo(saved.B.Dims));
    }
}
