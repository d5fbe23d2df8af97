using System.Numerics.Tensors;

namespace Kindling.Optim;

/// <summary>u ← −u: ascend the objective (PyTorch's <c>maximize=True</c>, which negates the gradient first).</summary>
public sealed class Maximize(bool enabled = true) : GradientTransform
{
    public override StageOutput<T> Update<T>(in StepContext ctx, TransformState? state) =>
        new(null, enabled ? static (_, _, u, _) => TensorPrimitives.Negate(u, u) : null);
}
