using System.Numerics.Tensors;

namespace Kindling.Optim;

/// <summary>The momentum buffer b of <see cref="Trace"/> ("momentum_buffer").</summary>
public sealed record TraceState(Tensor MomentumBuffer) : TransformState
{
    public override IEnumerable<KeyValuePair<string, Tensor>> Buffers => [new("momentum_buffer", MomentumBuffer)];
}

/// <summary>
/// Momentum (optax's <c>trace</c>): b ← μ·b + (1 − τ)·u in the state buffer "momentum_buffer", then u ← b, or with
/// Nesterov u ← u + μ·b. μ is the group's momentum (<see cref="ParamGroup.Momentum"/>) or <c>momentum</c>; at μ = 0 the
/// stage is skipped and no buffer is made (PyTorch makes it at the first step with momentum). <c>copyFirst</c>: that
/// first step sets b = u (PyTorch's SGD), else b starts at zero and the first step is b = μ·0 + u (PyTorch's RMSprop,
/// whose (1 − τ) is 1 and whose add is unscaled).
/// </summary>
public sealed class Trace(double momentum, double dampening = 0, bool nesterov = false, bool copyFirst = true) : GradientTransform
{
    public override TransformState? Restore(IReadOnlyDictionary<string, Tensor> buffers, Tensor param) =>
        buffers.TryGetValue("momentum_buffer", out var b) ? new TraceState(b) : null;

    public override StageOutput<T> Update<T>(in StepContext ctx, TransformState? state)
    {
        double m = ctx.Group.Momentum ?? momentum;
        // PyTorch's SGD keeps a buffer for any momentum ≠ 0, RMSprop for momentum > 0.
        if (copyFirst ? m == 0 : !(m > 0)) return new(state, null);
        var s = state as TraceState;
        bool first = s == null && copyFirst;
        s ??= new TraceState(Zeros(ctx.Param));
        var buf = (T[])s.MomentumBuffer.Storage.Data;
        T mu = T.CreateTruncating(m), damp = T.CreateTruncating(1 - dampening);
        bool add = copyFirst, nest = nesterov;
        return new(s, (start, _, u, _) =>
        {
            var b = buf.AsSpan(start, u.Length);
            if (first) u.CopyTo(b);
            else if (add) { TensorPrimitives.Multiply(b, mu, b); TensorPrimitives.MultiplyAdd(u, damp, b, b); }
            else { TensorPrimitives.Multiply(b, mu, b); TensorPrimitives.Add(b, u, b); }
            if (nest) TensorPrimitives.MultiplyAdd(b, mu, u, u);
            else b.CopyTo(u);
        });
    }
}
