using System.Numerics.Tensors;

namespace Kindling.Optim;

/// <summary>
/// Momentum (optax's <c>trace</c>): b ← μ·b + (1 − τ)·u in the state buffer "momentum_buffer", then u ← b, or with
/// Nesterov u ← u + μ·b. μ is the group's momentum (<see cref="ParamGroup.Momentum"/>) or <c>momentum</c>; at μ = 0 the
/// stage is skipped and no buffer is made. <c>copyFirst</c>: the first step sets b = u (PyTorch's SGD), else b starts at
/// zero and the first step is b = μ·0 + u (PyTorch's RMSprop, whose (1 − τ) is 1 and whose add is unscaled).
/// </summary>
public sealed class Trace(double momentum, double dampening = 0, bool nesterov = false, bool copyFirst = true) : GradientTransform
{
    private Array? _buf;
    private bool _first;
    private double _mu, _damp;

    public override bool Begin<T>(UpdateContext ctx)
    {
        double mu = ctx.Group.Momentum ?? momentum;
        // PyTorch's SGD keeps a buffer for any momentum ≠ 0, RMSprop for momentum > 0.
        if (copyFirst ? mu == 0 : !(mu > 0)) return false;
        _buf = ctx.Buffer<T>("momentum_buffer", out _first);
        _first &= copyFirst;
        _mu = mu; _damp = 1 - dampening;
        return true;
    }

    public override void Apply<T>(int start, Span<T> w, Span<T> u, Span<T> scratch)
    {
        var b = ((T[])_buf!).AsSpan(start, u.Length);
        T mu = T.CreateTruncating(_mu);
        if (_first) u.CopyTo(b);
        else if (copyFirst) { TensorPrimitives.Multiply(b, mu, b); TensorPrimitives.MultiplyAdd(u, T.CreateTruncating(_damp), b, b); }
        else { TensorPrimitives.Multiply(b, mu, b); TensorPrimitives.Add(b, u, b); }
        if (nesterov) TensorPrimitives.MultiplyAdd(b, mu, u, u);
        else b.CopyTo(u);
    }
}
