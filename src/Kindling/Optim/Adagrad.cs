using Kindling.Registry;

namespace Kindling.Optim;

/// <summary>
/// Adagrad with PyTorch 1.13's rule: g = ±∇ + λw; clr = lr / (1 + (t − 1)·lr_decay); s = s + g²; w ← w − clr·g/(√s + ε).
/// Defaults: lr 1e-2, lr_decay 0, weight decay 0, initial accumulator 0, ε 1e-10.
/// </summary>
/// <remarks>
/// The chain: <see cref="Optim.Maximize"/> → <see cref="AddDecayedWeights"/> → <see cref="InverseTimeDecay"/> →
/// <see cref="ScaleByRss"/> → <see cref="ScaleByLearningRate"/>.
/// </remarks>
public sealed class Adagrad : ChainedOptimizer
{
    public double LrDecay { get; }
    public double InitialAccumulatorValue { get; }
    public double Eps { get; }
    public bool Maximize { get; }

    [Optimizer("adagrad", "Adagrad: divides by the root of the sum of squared gradients", Order = 50)]
    public Adagrad(IEnumerable<Tensor> parameters, [Option("learning rate", Min = 0, Flag = "--lr")] double lr = 1e-2, [Option("learning-rate decay per step", Min = 0)] double lrDecay = 0, [Option("L2 penalty λ added to the gradient (λ·w)", Min = 0, Flag = "--weight-decay")] double weightDecay = 0,
        [Option("initial value of the sum", Min = 0)] double initialAccumulatorValue = 0, [Option("added to the denominator", Min = 0)] double eps = 1e-10, [Option("maximize the objective instead of minimizing")] bool maximize = false)
        : base(One(parameters), lr, weightDecay, "Adagrad",
            new Optim.Maximize(maximize), new AddDecayedWeights(), new InverseTimeDecay(lrDecay), new ScaleByRss(initialAccumulatorValue, eps), new ScaleByLearningRate())
    {
        if (!(lrDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(lrDecay), lrDecay, $"Adagrad: lr_decay must be ≥ 0, got {lrDecay}.");
        if (!(initialAccumulatorValue >= 0)) throw new ArgumentOutOfRangeException(nameof(initialAccumulatorValue), initialAccumulatorValue, "Adagrad: initial_accumulator_value must be ≥ 0.");
        LrDecay = lrDecay; InitialAccumulatorValue = initialAccumulatorValue; Eps = eps; Maximize = maximize;
    }
}
