using Kindling.Registry;

namespace Kindling.Optim;

/// <summary>
/// Adam with PyTorch 1.13's rule (and AdamW's decoupled weight decay when <c>decoupled</c>): g = ±∇ (+ λw for Adam),
/// m = β₁m + (1 − β₁)g, v = β₂v + (1 − β₂)g², denom = √v̂ / √(1 − β₂ᵗ) + ε (v̂ = max of all v with amsgrad),
/// w ← w − lr/(1 − β₁ᵗ)·m/denom. AdamW first multiplies w by 1 − lr·λ. Defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8,
/// weight decay 0 (AdamW: 1e-2), amsgrad false, maximize false.
/// </summary>
/// <remarks>
/// The chain: <see cref="Optim.Maximize"/> → <see cref="AddDecayedWeights"/> (Adam) or <see cref="DecoupledWeightDecay"/>
/// (AdamW) → <see cref="ScaleByAdam"/> → <see cref="ScaleByLearningRate"/>.
/// </remarks>
public class Adam : ChainedOptimizer
{
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public bool Amsgrad { get; }
    public bool Maximize { get; }

    [Optimizer("adam", "Adam: adaptive moments (Kingma & Ba)", Order = 20)]
    public Adam(IEnumerable<Tensor> parameters, [Option("learning rate", Min = 0, Flag = "--lr")] double lr = 1e-3, [Option("decay of the first moment β₁", Min = 0, Max = 1, MaxExclusive = true)] double beta1 = 0.9, [Option("decay of the second moment β₂", Min = 0, Max = 1, MaxExclusive = true)] double beta2 = 0.999,
        [Option("added to the denominator", Min = 0)] double eps = 1e-8, [Option("L2 penalty λ added to the gradient (λ·w)", Min = 0, Flag = "--weight-decay")] double weightDecay = 0, [Option("use the maximum of past second moments")] bool amsgrad = false, [Option("maximize the objective instead of minimizing")] bool maximize = false)
        : this(One(parameters), lr, beta1, beta2, eps, weightDecay, amsgrad, maximize, false, "Adam") { }

    public Adam(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this(groups, lr, beta1, beta2, eps, weightDecay, amsgrad, maximize, false, "Adam") { }

    protected Adam(IEnumerable<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay, bool amsgrad, bool maximize, bool decoupled, string name)
        : base(groups, lr, weightDecay, name,
            new Optim.Maximize(maximize), decoupled ? new DecoupledWeightDecay() : new AddDecayedWeights(), new ScaleByAdam(beta1, beta2, eps, amsgrad), new ScaleByLearningRate())
    {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
            throw new ArgumentOutOfRangeException(nameof(beta1), $"{name}: betas must be in [0, 1), got ({beta1}, {beta2}).");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, $"{name}: eps must be ≥ 0, got {eps}.");
        Beta1 = beta1; Beta2 = beta2; Eps = eps; Amsgrad = amsgrad; Maximize = maximize;
    }

    protected internal override bool HasBetas => true;
}

/// <summary>Adam with decoupled weight decay (Loshchilov &amp; Hutter): w ← w·(1 − lr·λ) before the Adam step. Default λ = 1e-2.</summary>
public sealed class AdamW : Adam
{
    [Optimizer("adamw", "Adam with decoupled weight decay (Loshchilov & Hutter)", Order = 30)]
    public AdamW(IEnumerable<Tensor> parameters, [Option("learning rate", Min = 0, Flag = "--lr")] double lr = 1e-3, [Option("decay of the first moment β₁", Min = 0, Max = 1, MaxExclusive = true)] double beta1 = 0.9, [Option("decay of the second moment β₂", Min = 0, Max = 1, MaxExclusive = true)] double beta2 = 0.999,
        [Option("added to the denominator", Min = 0)] double eps = 1e-8, [Option("decoupled weight decay: w ← w·(1 − lr·λ)", Min = 0, Flag = "--weight-decay")] double weightDecay = 1e-2, [Option("use the maximum of past second moments")] bool amsgrad = false, [Option("maximize the objective instead of minimizing")] bool maximize = false)
        : base(One(parameters), lr, beta1, beta2, eps, weightDecay, amsgrad, maximize, true, "AdamW") { }

    public AdamW(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : base(groups, lr, beta1, beta2, eps, weightDecay, amsgrad, maximize, true, "AdamW") { }
}
