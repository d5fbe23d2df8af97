using System.Numerics.Tensors;

namespace Kindling.Optim;

/// <summary>
/// The last stage: w ← w + (−lr / divisor)·u, with the group's learning rate and the divisor the earlier stages returned
/// (<see cref="StepContext.LrDivisor"/>): PyTorch's <c>param.add_(u, alpha=-lr)</c> (SGD, RMSprop with momentum) and
/// <c>param.addcdiv_(m, denom, value=-step_size)</c> (Adam, Adagrad, RMSprop). Both round the product before the add
/// (TensorPrimitives.MultiplyAdd is not fused), which is the rounding Kindling's trajectories match PyTorch's with.
/// </summary>
public sealed class ScaleByLearningRate : GradientTransform
{
    public override StageOutput<T> Update<T>(in StepContext ctx, TransformState? state)
    {
        T step = T.CreateTruncating(-(ctx.Lr / ctx.LrDivisor));
        return new(null, (_, w, u, _) => TensorPrimitives.MultiplyAdd(u, step, w, w));
    }
}
