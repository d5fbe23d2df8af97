namespace Kindling.NN;

/// <summary>
/// Base of the loss modules: each holds its options and forwards to its <see cref="Functional"/> twin, which has all
/// the logic, validation and documentation.
/// </summary>
public abstract class Loss(Reduction reduction) : Module
{
    /// <summary>The reduction applied (default Mean).</summary>
    public Reduction Reduction { get; } = reduction;

    /// <summary>The loss of <paramref name="input"/> against <paramref name="target"/>.</summary>
    public abstract Tensor Forward(Tensor input, Tensor target);

    /// <summary>Same as <see cref="Forward(Tensor, Tensor)"/> (PyTorch's <c>criterion(input, target)</c>).</summary>
    public Tensor Call(Tensor input, Tensor target) => Forward(input, target);

    protected override string ExtraRepr() => Reduction == Reduction.Mean ? "" : $"reduction='{Reduction.ToString().ToLowerInvariant()}'";
}
