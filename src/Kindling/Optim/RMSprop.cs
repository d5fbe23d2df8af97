using Kindling.Registry;

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

    [Optimizer("rmsprop", "RMSprop: divides by a running root mean square of the gradient", Order = 40)]
    public RMSprop(IEnumerable<Tensor> parameters, [Option("learning rate", Min = 0, Flag = "--lr")] double lr = 1e-2, [Option("smoothing constant α", Min = 0)] double alpha = 0.99, [Option("added to the denominator", Min = 0)] double eps = 1e-8, [Option("L2 penalty λ added to the gradient (λ·w)", Min = 0, Flag = "--weight-decay")] double weightDecay = 0,
        [Option("momentum factor μ", Min = 0)] double momentum = 0, [Option("divide by the centered (variance) estimate")] bool centered = false, [Option("maximize the objective instead of minimizing")] bool maximize = false)
        : base(One(parameters), lr, weightDecay, "RMSprop",
            new Optim.Maximize(maximize), new AddDecayedWeights(), new ScaleByRms(alpha, eps, centered), new Trace(momentum, copyFirst: false), new ScaleByLearningRate())
    {
        if (!(alpha >= 0)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"RMSprop: alpha must be ≥ 0, got {alpha}.");
        if (!(momentum >= 0)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"RMSprop: momentum must be ≥ 0, got {momentum}.");
        Alpha = alpha; Eps = eps; Momentum = momentum; Centered = centered; Maximize = maximize;
    }
}
