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

    public SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
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
