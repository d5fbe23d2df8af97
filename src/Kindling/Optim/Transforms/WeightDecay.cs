using System.Numerics.Tensors;

namespace Kindling.Optim;

/// <summary>
/// Coupled weight decay (an L2 penalty's gradient): u ← u + λ·w, with λ the group's weight decay — PyTorch's
/// <c>grad.add(param, alpha=weight_decay)</c> in SGD, Adam, RMSprop and Adagrad.
/// </summary>
public sealed class AddDecayedWeights : GradientTransform
{
    private double _wd;
    public override bool Begin<T>(UpdateContext ctx) { _wd = ctx.WeightDecay; return ctx.WeightDecay != 0; }
    public override void Apply<T>(int start, Span<T> w, Span<T> u, Span<T> scratch) => TensorPrimitives.MultiplyAdd(w, T.CreateTruncating(_wd), u, u);
}

/// <summary>
/// Decoupled weight decay (Loshchilov &amp; Hutter, AdamW): w ← w·(1 − lr·λ), applied to the parameter itself and not
/// seen by the moments, with λ the group's weight decay.
/// </summary>
public sealed class DecoupledWeightDecay : GradientTransform
{
    private double _decay;
    public override bool Begin<T>(UpdateContext ctx) { _decay = 1 - ctx.Lr * ctx.WeightDecay; return ctx.WeightDecay != 0; }
    public override void Apply<T>(int start, Span<T> w, Span<T> u, Span<T> scratch) => TensorPrimitives.Multiply(w, T.CreateTruncating(_decay), w);
}
