using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// tanh as an operator for the <see cref="Simd"/> drivers (Cephes' tanhf, identical bits at every width): for |x| &lt; 0.625
/// the odd polynomial x + x·z·P(z), z = x², keeps full relative precision near 0 (tanh(0) = 0 exactly, tanh(1e-7) =
/// 1e-7); above it 1 − 2/(e^{2|x|} + 1) with the sign of x (e^{2|x|} overflows to +∞ past |x| ≈ 44, giving exactly ±1).
/// NaN propagates. TensorPrimitives.Tanh (System.Numerics.Tensors 11) is replaced because its vector path computes
/// tanh(0) = −5.96e-8 and tanh(1e-7) = 5.96e-8, where PyTorch gives 0 and 1e-7. ∂x = g·(1 − y²), from the saved output.
/// </summary>
internal readonly struct TanhOperator : IPointwiseOp
{
    public static string Name => "tanh";
    private const float Small = 0.625f;
    private const float P0 = -5.70498872745E-3f, P1 = 2.06390887954E-2f, P2 = -5.37397155531E-2f, P3 = 1.33314422036E-1f, P4 = -3.33332819422E-1f;

    public static double Invoke(double x) => Math.Tanh(x);

    public static float Invoke(float x)
    {
        float a = MathF.Abs(x);
        if (a < Small)
        {
            float z = x * x;
            float p = MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(P0, z, P1), z, P2), z, P3), z, P4);
            // Signed: (p·z)·x + x rounds −0 to +0, and tanh(−0) is −0.
            return MathF.CopySign(MathF.FusedMultiplyAdd(p * z, x, x), x);
        }
        if (float.IsNaN(x)) return x;
        float r = 1f - 2f / (FastExp.Scalar(a + a) + 1f);
        return MathF.CopySign(r, x);
    }

    public static Vector128<float> Invoke(Vector128<float> x)
    {
        var a = Vector128.Abs(x);
        var z = x * x;
        var p = Vector128.FusedMultiplyAdd(Vector128.FusedMultiplyAdd(Vector128.FusedMultiplyAdd(Vector128.FusedMultiplyAdd(
            Vector128.Create(P0), z, Vector128.Create(P1)), z, Vector128.Create(P2)), z, Vector128.Create(P3)), z, Vector128.Create(P4));
        var small = Vector128.FusedMultiplyAdd(p * z, x, x);
        var large = Vector128<float>.One - Vector128.Create(2f) / (FastExp.Exp(a + a) + Vector128<float>.One);
        return Vector128.CopySign(Vector128.ConditionalSelect(Vector128.LessThan(a, Vector128.Create(Small)), small, large), x);
    }

    public static Vector256<float> Invoke(Vector256<float> x)
    {
        var a = Vector256.Abs(x);
        var z = x * x;
        var p = Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(
            Vector256.Create(P0), z, Vector256.Create(P1)), z, Vector256.Create(P2)), z, Vector256.Create(P3)), z, Vector256.Create(P4));
        var small = Vector256.FusedMultiplyAdd(p * z, x, x);
        var large = Vector256<float>.One - Vector256.Create(2f) / (FastExp.Exp(a + a) + Vector256<float>.One);
        // NaN fails the comparison and takes the large branch, where it propagates through exp.
        return Vector256.CopySign(Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256.Create(Small)), small, large), x);
    }

    public static Vector512<float> Invoke(Vector512<float> x)
    {
        var a = Vector512.Abs(x);
        var z = x * x;
        var p = Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(
            Vector512.Create(P0), z, Vector512.Create(P1)), z, Vector512.Create(P2)), z, Vector512.Create(P3)), z, Vector512.Create(P4));
        var small = Vector512.FusedMultiplyAdd(p * z, x, x);
        var large = Vector512<float>.One - Vector512.Create(2f) / (FastExp.Exp(a + a) + Vector512<float>.One);
        return Vector512.CopySign(Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(Small)), small, large), x);
    }

    public static double Grad(double x, double y, double g) => g * (1 - y * y);
    public static float Grad(float x, float y, float g) => g * (1f - y * y);
    public static Vector128<float> Grad(Vector128<float> x, Vector128<float> y, Vector128<float> g) => g * (Vector128<float>.One - y * y);
    public static Vector256<float> Grad(Vector256<float> x, Vector256<float> y, Vector256<float> g) => g * (Vector256<float>.One - y * y);
    public static Vector512<float> Grad(Vector512<float> x, Vector512<float> y, Vector512<float> g) => g * (Vector512<float>.One - y * y);
}
