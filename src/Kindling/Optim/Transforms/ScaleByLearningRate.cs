using System.Numerics.Tensors;

namespace Kindling.Optim;

/// <summary>
/// The last stage: w ← w − (lr / divisor)·u, with the group's learning rate and the divisor set by earlier stages
/// (<see cref="UpdateContext.LrDivisor"/>). <c>fused</c>: as one multiply-add (PyTorch's <c>param.add_(u, alpha=-lr)</c>
/// in SGD and RMSprop with momentum); otherwise the product is rounded first and then added (PyTorch's
/// <c>addcdiv_</c> in Adam, Adagrad and RMSprop), so the rounding matches PyTorch's either way.
/// </summary>
public sealed class ScaleByLearningRate : GradientTransform
{
    private readonly Func<UpdateContext, bool> _fusedWhen;
    private double _step;
    private bool _fused;

    public ScaleByLearningRate(bool fused) => _fusedWhen = _ => fused;

    /// <summary>Fused or not per parameter and step (RMSprop: fused after its momentum, unfused without).</summary>
    public ScaleByLearningRate(Func<UpdateContext, bool> fusedWhen) => _fusedWhen = fusedWhen;

    public override bool Begin<T>(UpdateContext ctx) { _step = -(ctx.Lr / ctx.LrDivisor); _fused = _fusedWhen(ctx); return true; }

    public override void Apply<T>(int start, Span<T> w, Span<T> u, Span<T> scratch)
    {
        if (_fused) TensorPrimitives.MultiplyAdd(u, T.CreateTruncating(_step), w, w);
        else
        {
            TensorPrimitives.Multiply(u, T.CreateTruncating(_step), u);
            TensorPrimitives.Add(w, u, w);
        }
    }
}
