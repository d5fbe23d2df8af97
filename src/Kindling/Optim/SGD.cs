using Kindling.Registry;

namespace Kindling.Optim;

/// <summary>
/// Stochastic gradient descent with PyTorch 1.13's rule: d = ±g + λw; with momentum μ, b = μb + (1 − τ)d (b = d at the
/// first step) and d = b, or d = d + μb with Nesterov; w ← w − lr·d. Defaults: momentum 0, dampening τ 0, weight decay λ 0,
/// nesterov false, maximize false. lr is required.
/// </summary>
/// <remarks>The chain: <see cref="Optim.Maximize"/> → <see cref="AddDecayedWeights"/> → <see cref="Trace"/> → <see cref="ScaleByLearningRate"/>.</remarks>
public sealed class SGD : ChainedOptimizer
{
    public double Momentum { get; }
    public double Dampening { get; }
    public bool Nesterov { get; }
    public bool Maximize { get; }

    [Optimizer("sgd", "stochastic gradient descent, with momentum and Nesterov momentum", SuggestedLr = 0.05, Order = 10)]
    public SGD(IEnumerable<Tensor> parameters, [Option("learning rate", Min = 0, Flag = "--lr")] double lr, [Option("momentum factor μ", Min = 0, Flag = "--momentum")] double momentum = 0,
        [Option("dampening τ of the momentum")] double dampening = 0, [Option("L2 penalty λ added to the gradient (λ·w)", Min = 0, Flag = "--weight-decay")] double weightDecay = 0, [Option("Nesterov momentum")] bool nesterov = false, [Option("maximize the objective instead of minimizing")] bool maximize = false)
        : this(One(parameters), lr, momentum, dampening, weightDecay, nesterov, maximize) { }

    public SGD(IEnumerable<ParamGroup> groups, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : base(groups, lr, weightDecay, "SGD",
            new Optim.Maximize(maximize), new AddDecayedWeights(), new Trace(momentum, dampening, nesterov), new ScaleByLearningRate())
    {
        if (!(momentum >= 0)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"SGD: momentum must be ≥ 0, got {momentum}.");
        if (nesterov && (momentum <= 0 || dampening != 0)) throw new ArgumentException("SGD: Nesterov momentum requires a momentum > 0 and zero dampening.");
        Momentum = momentum; Dampening = dampening; Nesterov = nesterov; Maximize = maximize;
    }
}
