using System.Numerics.Tensors;

namespace Kindling.Optim;

/// <summary>
/// The last stage: w ← w + (−lr / divisor)·u, with the group's learning rate and the divisor set by earlier stages
/// (<see cref="UpdateContext.LrDivisor"/>): PyTorch's <c>param.add_(u, alpha=-lr)</c> (SGD, RMSprop with momentum) and
/// <c>param.addcdiv_(m, denom, value=-step_size)</c> (Adam, Adagrad, RMSprop). Both round the product before the add
/// (TensorPrimitives.MultiplyAdd is not fused), which is the rounding Kindling's trajectories match PyTorch's with.
/// </summary>
public sealed class ScaleByLearningRate : GradientTransform
{
    private double _step;

    public override bool Begin<T>(UpdateContext ctx) { _step = -(ctx.Lr / ctx.LrDivisor); return true; }

    public override void Apply<T>(int start, Span<T> w, Span<T> u, Span<T> scratch) => TensorPrimitives.MultiplyAdd(u, T.CreateTruncating(_step), w, w);
}
