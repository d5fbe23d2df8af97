using Kindling.Optim;

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
    /// <summary>The optimizers of torch.optim that Kindling has, with PyTorch 1.13's update rules, generated from each one's [Optimizer] constructor.</summary>
    public static ComponentTable<OptimizerEntry> Optimizers { get; } = new("optimizer", GeneratedOptimizers());
}
