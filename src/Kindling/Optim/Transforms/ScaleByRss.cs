using System.Numerics.Tensors;

namespace Kindling.Optim;

/// <summary>
/// Adagrad's scaling (optax's <c>scale_by_rss</c>): s ← s + u·u (state "sum", starting at the initial accumulator value),
/// u ← u / (√s + ε), in PyTorch 1.13's operation order (addcmul_, then sqrt, add, addcdiv_).
/// </summary>
public sealed class ScaleByRss(double initialAccumulatorValue, double eps) : GradientTransform
{
    private Array? _sum;
    private double _eps;

    public override bool Begin<T>(UpdateContext ctx)
    {
        _sum = ctx.Buffer<T>("sum", out _, initialAccumulatorValue);
        _eps = eps;
        return true;
    }

    public override void Apply<T>(int start, Span<T> w, Span<T> u, Span<T> std)
    {
        var ss = ((T[])_sum!).AsSpan(start, u.Length);
        TensorPrimitives.Multiply(u, u, std); // addcmul_ order: s + g·g, unfused as PyTorch
        TensorPrimitives.Add(ss, std, ss);
        TensorPrimitives.Sqrt(ss, std);
        TensorPrimitives.Add(std, T.CreateTruncating(_eps), std);
        TensorPrimitives.Divide(u, std, u);
    }
}

/// <summary>Adagrad's learning-rate decay: the rate is divided by 1 + (t − 1)·lr_decay at step t.</summary>
public sealed class InverseTimeDecay(double lrDecay) : GradientTransform
{
    public override bool Begin<T>(UpdateContext ctx) { ctx.LrDivisor = 1 + (ctx.Step - 1) * lrDecay; return false; }
    public override void Apply<T>(int start, Span<T> w, Span<T> u, Span<T> scratch) { }
}
