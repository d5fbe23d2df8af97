using System.Numerics.Tensors;

namespace Kindling.Optim;

/// <summary>Adam's moments: "exp_avg" m, "exp_avg_sq" v and, with amsgrad, "max_exp_avg_sq" v̂.</summary>
public sealed record AdamState(Tensor ExpAvg, Tensor ExpAvgSq, Tensor? MaxExpAvgSq) : TransformState
{
    public override IEnumerable<KeyValuePair<string, Tensor>> Buffers =>
        MaxExpAvgSq == null ? [new("exp_avg", ExpAvg), new("exp_avg_sq", ExpAvgSq)]
            : [new("exp_avg", ExpAvg), new("exp_avg_sq", ExpAvgSq), new("max_exp_avg_sq", MaxExpAvgSq)];
}

/// <summary>
/// Adam's scaling: m ← β₁m + (1 − β₁)u, v ← β₂v + (1 − β₂)u² (with amsgrad v̂ = max of all v), u ← m / (√v̂ / √(1 − β₂ᵗ) + ε),
/// and the learning rate divided by 1 − β₁ᵗ (returned as the stage's divisor) — PyTorch 1.13's operation order (the bias
/// correction of m is folded into the step size). β₁ is the group's <see cref="ParamGroup.Beta1"/> when set (what
/// OneCycleLR cycles).
/// </summary>
public sealed class ScaleByAdam(double beta1, double beta2, double eps, bool amsgrad = false) : GradientTransform
{
    public override TransformState? Init(Tensor param) => new AdamState(Zeros(param), Zeros(param), amsgrad ? Zeros(param) : null);

    public override TransformState? Restore(IReadOnlyDictionary<string, Tensor> b, Tensor param) =>
        b.TryGetValue("exp_avg", out var m) && b.TryGetValue("exp_avg_sq", out var v)
            ? new AdamState(m, v, amsgrad ? (b.TryGetValue("max_exp_avg_sq", out var vm) ? vm : Zeros(param)) : null) : null;

    public override StageOutput<T> Update<T>(in StepContext ctx, TransformState? state)
    {
        var s = (AdamState)(state ?? Init(ctx.Param))!;
        double b1 = ctx.Group.Beta1 ?? beta1;
        T tb1 = T.CreateTruncating(b1), tb1c = T.CreateTruncating(1 - b1), tb2 = T.CreateTruncating(beta2), tb2c = T.CreateTruncating(1 - beta2);
        T bc2Sqrt = T.CreateTruncating(Math.Sqrt(1 - Math.Pow(beta2, ctx.Step))), teps = T.CreateTruncating(eps);
        T[] mAll = (T[])s.ExpAvg.Storage.Data, vAll = (T[])s.ExpAvgSq.Storage.Data;
        T[]? vmAll = s.MaxExpAvgSq == null ? null : (T[])s.MaxExpAvgSq.Storage.Data;
        return new(s, (start, _, u, den) =>
        {
            int len = u.Length;
            var m = mAll.AsSpan(start, len);
            var v = vAll.AsSpan(start, len);
            TensorPrimitives.Multiply(m, tb1, m);
            TensorPrimitives.MultiplyAdd(u, tb1c, m, m);
            Optimizer.DecayAddSquare(v, tb2, tb2c, u, den);
            if (vmAll != null)
            {
                var vm = vmAll.AsSpan(start, len);
                TensorPrimitives.Max(vm, v, vm);
                TensorPrimitives.Sqrt(vm, den);
            }
            else TensorPrimitives.Sqrt(v, den);
            TensorPrimitives.Divide(den, bc2Sqrt, den);
            TensorPrimitives.Add(den, teps, den);
            TensorPrimitives.Divide(m, den, u);
        }, 1 - Math.Pow(b1, ctx.Step));
    }
}
