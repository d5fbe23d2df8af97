using Kindling.Optim;
using static Kindling.Registry.OptionSpec;

namespace Kindling.Registry;

/// <summary>A registered optimizer: its options with PyTorch 1.13's defaults and a factory over the parameters.</summary>
public sealed class OptimizerEntry : ComponentEntry
{
    /// <summary>Builds the optimizer over <c>parameters</c> with the options.</summary>
    public required Func<IEnumerable<Tensor>, OptionValues, Optimizer> Create { get; init; }
    /// <summary>A learning rate to use when the optimizer has no default (PyTorch's SGD requires one): what the command line uses.</summary>
    public double? SuggestedLr { get; init; }

    /// <summary>The learning rate used when none is given: PyTorch's default, else <see cref="SuggestedLr"/>.</summary>
    public double DefaultLr => Option("lr")?.Default as double? ?? SuggestedLr ?? throw new InvalidOperationException($"{Name}: no default learning rate.");

    /// <summary>Builds the optimizer from named options (PyTorch's keywords; unset ones take their defaults).</summary>
    public Optimizer Build(IEnumerable<Tensor> parameters, IReadOnlyDictionary<string, object?>? options = null) => Create(parameters, Values(options));
}

public static partial class Components
{
    private static OptionSpec Lr(double? @default) => Number("lr", @default, "learning rate", 0, flag: "--lr");
    private static OptionSpec WeightDecay(double @default = 0, string help = "L2 penalty λ added to the gradient (λ·w)") => Number("weight_decay", @default, help, 0, flag: "--weight-decay");
    private static OptionSpec Maximize() => Bool("maximize", false, "maximize the objective instead of minimizing");

    /// <summary>The optimizers of torch.optim that Kindling has, with PyTorch 1.13's update rules.</summary>
    public static ComponentTable<OptimizerEntry> Optimizers { get; } = new("optimizer",
    [
        new()
        {
            Name = "sgd", Help = "stochastic gradient descent, with momentum and Nesterov momentum", SuggestedLr = 0.05,
            Options = [Lr(null), Number("momentum", 0.0, "momentum factor μ", 0, flag: "--momentum"), Number("dampening", 0.0, "dampening τ of the momentum"),
                       WeightDecay(), Bool("nesterov", false, "Nesterov momentum"), Maximize()],
            Create = (p, o) => new SGD(p, o.Number("lr"), o.Number("momentum"), o.Number("dampening"), o.Number("weight_decay"), o.Bool("nesterov"), o.Bool("maximize")),
        },
        new()
        {
            Name = "adam", Help = "Adam: adaptive moments (Kingma & Ba)",
            Options = [Lr(1e-3), Number("beta1", 0.9, "decay of the first moment β₁", 0, 1, maxExclusive: true), Number("beta2", 0.999, "decay of the second moment β₂", 0, 1, maxExclusive: true),
                       Number("eps", 1e-8, "added to the denominator", 0), WeightDecay(), Bool("amsgrad", false, "use the maximum of past second moments"), Maximize()],
            Create = (p, o) => new Adam(p, o.Number("lr"), o.Number("beta1"), o.Number("beta2"), o.Number("eps"), o.Number("weight_decay"), o.Bool("amsgrad"), o.Bool("maximize")),
        },
        new()
        {
            Name = "adamw", Help = "Adam with decoupled weight decay (Loshchilov & Hutter)",
            Options = [Lr(1e-3), Number("beta1", 0.9, "decay of the first moment β₁", 0, 1, maxExclusive: true), Number("beta2", 0.999, "decay of the second moment β₂", 0, 1, maxExclusive: true),
                       Number("eps", 1e-8, "added to the denominator", 0), WeightDecay(1e-2, "decoupled weight decay: w ← w·(1 − lr·λ)"), Bool("amsgrad", false, "use the maximum of past second moments"), Maximize()],
            Create = (p, o) => new AdamW(p, o.Number("lr"), o.Number("beta1"), o.Number("beta2"), o.Number("eps"), o.Number("weight_decay"), o.Bool("amsgrad"), o.Bool("maximize")),
        },
        new()
        {
            Name = "rmsprop", Help = "RMSprop: divides by a running root mean square of the gradient",
            Options = [Lr(1e-2), Number("alpha", 0.99, "smoothing constant α", 0), Number("eps", 1e-8, "added to the denominator", 0), WeightDecay(),
                       Number("momentum", 0.0, "momentum factor μ", 0), Bool("centered", false, "divide by the centered (variance) estimate"), Maximize()],
            Create = (p, o) => new RMSprop(p, o.Number("lr"), o.Number("alpha"), o.Number("eps"), o.Number("weight_decay"), o.Number("momentum"), o.Bool("centered"), o.Bool("maximize")),
        },
        new()
        {
            Name = "adagrad", Help = "Adagrad: divides by the root of the sum of squared gradients",
            Options = [Lr(1e-2), Number("lr_decay", 0.0, "learning-rate decay per step", 0), WeightDecay(), Number("initial_accumulator_value", 0.0, "initial value of the sum", 0),
                       Number("eps", 1e-10, "added to the denominator", 0), Maximize()],
            Create = (p, o) => new Adagrad(p, o.Number("lr"), o.Number("lr_decay"), o.Number("weight_decay"), o.Number("initial_accumulator_value"), o.Number("eps"), o.Bool("maximize")),
        },
    ]);
}
