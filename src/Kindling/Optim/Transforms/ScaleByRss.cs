using System.Numerics.Tensors;

namespace Kindling.Optim;

/// <summary>Adagrad's sum of squared gradients ("sum").</summary>
public sealed record RssState(Tensor Sum) : TransformState
{
    public override IEnumerable<KeyValuePair<string, Tensor>> Buffers => [new("sum", Sum)];
}

/// <summary>
/// Adagrad's scaling (optax's <c>scale_by_rss</c>): s ← s + u·u (state "sum", starting at the initial accumulator value),
/// u ← u / (√s + ε), in PyTorch 1.13's operation order (addcmul_, then sqrt, add, addcdiv_).
/// </summary>
public sealed class ScaleByRss(double initialAccumulatorValue, double eps) : GradientTransform
{
    public override TransformState? Init(Tensor param) => new RssState(Zeros(param, initialAccumulatorValue));

    public override TransformState? Restore(IReadOnlyDictionary<string, Tensor> b, Tensor param) => b.TryGetValue("sum", out var s) ? new RssState(s) : null;

    public override StageOutput<T> Update<T>(in StepContext ctx, TransformState? state)
    {
        var st = (RssState)(state ?? Init(ctx.Param))!;
        T[] sumAll = (T[])st.Sum.Storage.Data;
        T te = T.CreateTruncating(eps);
        return new(st, (start, _, u, std) =>
        {
            var ss = sumAll.AsSpan(start, u.Length);
            TensorPrimitives.Multiply(u, u, std); // addcmul_ order: s + g·g, unfused as PyTorch
            TensorPrimitives.Add(ss, std, ss);
            TensorPrimitives.Sqrt(ss, std);
            TensorPrimitives.Add(std, te, std);
            TensorPrimitives.Divide(u, std, u);
        });
    }
}

/// <summary>Adagrad's learning-rate decay: the stage returns the divisor 1 + (t − 1)·lr_decay at step t and changes nothing else.</summary>
public sealed class InverseTimeDecay(double lrDecay) : GradientTransform
{
    public override StageOutput<T> Update<T>(in StepContext ctx, TransformState? state) => new(null, null, 1 + (ctx.Step - 1) * lrDecay);
}
