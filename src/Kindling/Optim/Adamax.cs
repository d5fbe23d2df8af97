using System.Numerics.Tensors;
using Kindling.Registry;

namespace Kindling.Optim;

/// <summary>
/// Adamax (Kingma &amp; Ba, §7: Adam with the infinity norm) with PyTorch 1.13's rule: g = ±∇ + λw;
/// m = β₁m + (1 − β₁)g; u = max(β₂u, |g| + ε); w ← w − lr/(1 − β₁ᵗ)·m/u. Defaults: lr 2e-3, betas (0.9, 0.999),
/// eps 1e-8, weight decay 0, maximize false. State: "exp_avg", "exp_inf" (PyTorch's names).
/// </summary>
/// <remarks>The chain: <see cref="Optim.Maximize"/> → <see cref="AddDecayedWeights"/> → <see cref="ScaleByAdamax"/> → <see cref="ScaleByLearningRate"/>.</remarks>
public sealed class Adamax : ChainedOptimizer
{
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public bool Maximize { get; }

    [Optimizer("adamax", "Adamax: Adam with the infinity norm of past gradients", Order = 60)]
    public Adamax(IEnumerable<Tensor> parameters, [Option("learning rate", Min = 0, Flag = "--lr")] double lr = 2e-3,
        [Option("decay of the first moment β₁", Min = 0, Max = 1, MaxExclusive = true)] double beta1 = 0.9,
        [Option("decay of the infinity norm β₂", Min = 0, Max = 1, MaxExclusive = true)] double beta2 = 0.999,
        [Option("added to |g| in the norm", Min = 0)] double eps = 1e-8,
        [Option("L2 penalty λ added to the gradient (λ·w)", Min = 0, Flag = "--weight-decay")] double weightDecay = 0,
        [Option("maximize the objective instead of minimizing")] bool maximize = false)
        : this(One(parameters), lr, beta1, beta2, eps, weightDecay, maximize) { }

    public Adamax(IEnumerable<ParamGroup> groups, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool maximize = false)
        : base(groups, lr, weightDecay, "Adamax", new Optim.Maximize(maximize), new AddDecayedWeights(), new ScaleByAdamax(beta1, beta2, eps), new ScaleByLearningRate())
    {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
            throw new ArgumentOutOfRangeException(nameof(beta1), $"Adamax: betas must be in [0, 1), got ({beta1}, {beta2}).");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, $"Adamax: eps must be ≥ 0, got {eps}.");
        Beta1 = beta1; Beta2 = beta2; Eps = eps; Maximize = maximize;
    }

    protected internal override bool HasBetas => true;
}

/// <summary>Adamax's first moment "exp_avg" and exponentially weighted infinity norm "exp_inf".</summary>
public sealed record AdamaxState(Tensor ExpAvg, Tensor ExpInf) : TransformState
{
    public override IEnumerable<KeyValuePair<string, Tensor>> Buffers => [new("exp_avg", ExpAvg), new("exp_inf", ExpInf)];
}

/// <summary>
/// Adamax's scaling: m ← β₁m + (1 − β₁)u, n ← max(β₂n, |u| + ε), u ← m / n, and the learning rate divided by 1 − β₁ᵗ —
/// PyTorch 1.13's operations in its order (mul_ then add_ with alpha; mul_, abs().add_(eps), amax). β₁ is the group's
/// <see cref="ParamGroup.Beta1"/> when set.
/// </summary>
public sealed class ScaleByAdamax(double beta1, double beta2, double eps) : GradientTransform
{
    public override TransformState? Init(Tensor param) => new AdamaxState(Zeros(param), Zeros(param));

    public override TransformState? Restore(IReadOnlyDictionary<string, Tensor> b, Tensor param) =>
        b.TryGetValue("exp_avg", out var m) && b.TryGetValue("exp_inf", out var n) ? new AdamaxState(m, n) : null;

    public override StageOutput<T> Update<T>(in StepContext ctx, TransformState? state)
    {
        var s = (AdamaxState)(state ?? Init(ctx.Param))!;
        double b1 = ctx.Group.Beta1 ?? beta1;
        T tb1 = T.CreateTruncating(b1), tb1c = T.CreateTruncating(1 - b1), tb2 = T.CreateTruncating(beta2), te = T.CreateTruncating(eps);
        T[] mAll = (T[])s.ExpAvg.Storage.Data, nAll = (T[])s.ExpInf.Storage.Data;
        return new(s, (start, _, u, tmp) =>
        {
            var m = mAll.AsSpan(start, u.Length);
            var n = nAll.AsSpan(start, u.Length);
            TensorPrimitives.Multiply(m, tb1, m);
            TensorPrimitives.MultiplyAdd(u, tb1c, m, m);
            TensorPrimitives.Multiply(n, tb2, n);
            TensorPrimitives.Abs(u, tmp);
            TensorPrimitives.Add(tmp, te, tmp);
            TensorPrimitives.Max(n, tmp, n);
            TensorPrimitives.Divide(m, n, u);
        }, 1 - Math.Pow(b1, ctx.Step));
    }
}
