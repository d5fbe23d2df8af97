using System.Numerics.Tensors;

namespace Kindling.Optim;

/// <summary>
/// Coupled weight decay (an L2 penalty's gradient): u ← u + λ·w, with λ the group's weight decay — PyTorch's
/// <c>grad.add(param, alpha=weight_decay)</c> in SGD, Adam, RMSprop and Adagrad.
/// </summary>
public sealed class AddDecayedWeights : GradientTransform
{
    public override StageOutput<T> Update<T>(in StepContext ctx, TransformState? state)
    {
        if (ctx.WeightDecay == 0) return new(null, null);
        T wd = T.CreateTruncating(ctx.WeightDecay);
        return new(null, (_, w, u, _) => TensorPrimitives.MultiplyAdd(w, wd, u, u));
    }
}

/// <summary>
/// Decoupled weight decay (Loshchilov &amp; Hutter, AdamW): w ← w·(1 − lr·λ), applied to the parameter itself and not
/// seen by the moments, with λ the group's weight decay.
/// </summary>
public sealed class DecoupledWeightDecay : GradientTransform
{
    public override StageOutput<T> Update<T>(in StepContext ctx, TransformState? state)
    {
        if (ctx.WeightDecay == 0) return new(null, null);
        T decay = T.CreateTruncating(1 - ctx.Lr * ctx.WeightDecay);
        return new(null, (_, w, _, _) => TensorPrimitives.Multiply(w, decay, w));
    }
}
