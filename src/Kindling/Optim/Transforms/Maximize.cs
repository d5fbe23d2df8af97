using System.Numerics.Tensors;

namespace Kindling.Optim;

/// <summary>u ← −u: ascend the objective (PyTorch's <c>maximize=True</c>, which negates the gradient first).</summary>
public sealed class Maximize(bool enabled = true) : GradientTransform
{
    public override bool Begin<T>(UpdateContext ctx) => enabled;
    public override void Apply<T>(int start, Span<T> w, Span<T> u, Span<T> scratch) => TensorPrimitives.Negate(u, u);
}
