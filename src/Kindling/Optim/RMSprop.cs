namespace Kindling.Optim;

/// <summary>
/// RMSprop with PyTorch 1.13's rule: g = ±∇ + λw; s = αs + (1 − α)g²; centered: a = αa + (1 − α)g, avg = √(s − a²) + ε,
/// else avg = √s + ε; with momentum μ: b = μb + g/avg, w ← w − lr·b; else w ← w − lr·g/avg.
/// Defaults: lr 1e-2, α 0.99, ε 1e-8, weight decay 0, momentum 0, centered false.
/// </summary>
/// <remarks>
/// The chain: <see cref="Optim.Maximize"/> → <see cref="AddDecayedWeights"/> → <see cref="ScaleByRms"/> → <see cref="Trace"/>
/// (no dampening, zero-initialised) → <see cref="ScaleByLearningRate"/>.
/// </remarks>
public sealed class RMSprop : ChainedOptimizer
{
    public double Alpha { get; }
    public double Eps { get; }
    public double Momentum { get; }
    public bool Centered { get; }
    public bool Maximize { get; }

    public RMSprop(IEnumerable<Tensor> parameters, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : base(One(parameters), lr, weightDecay, "RMSprop",
            new Optim.Maximize(maximize), new AddDecayedWeights(), new ScaleByRms(alpha, eps, centered), new Trace(momentum, copyFirst: false), new ScaleByLearningRate())
    {
        if (!(alpha >= 0)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"RMSprop: alpha must be ≥ 0, got {alpha}.");
        if (!(momentum >= 0)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"RMSprop: momentum must be ≥ 0, got {momentum}.");
        Alpha = alpha; Eps = eps; Momentum = momentum; Centered = centered; Maximize = maximize;
    }
}
