namespace Kindling.NN;

/// <summary>
/// Base of the loss modules: each holds its options and forwards to its <see cref="Functional"/> twin, which has all
/// the logic, validation and documentation. The modules are generated from the functional's <c>[Loss]</c> definition
/// (src/Kindling.Generators) and typed by their number of inputs: <see cref="Loss"/> (input, target),
/// <see cref="ThreeInputLoss"/> and <see cref="FourInputLoss"/>, so a call with the wrong number of tensors does not compile.
/// </summary>
public abstract class LossModule : Module
{
    private protected LossModule(Reduction reduction) => Reduction = reduction;

    /// <summary>The reduction applied (default Mean).</summary>
    public Reduction Reduction { get; }

    /// <summary>The number of tensors the loss takes.</summary>
    public abstract int Arity { get; }

    /// <summary>The loss of <paramref name="inputs"/> (exactly <see cref="Arity"/> tensors, in the functional's order): what the registry calls.</summary>
    internal abstract Tensor ForwardInputs(ReadOnlySpan<Tensor> inputs);

    protected override string ExtraRepr() => Reduction == Reduction.Mean ? "" : $"reduction='{Reduction.ToString().ToLowerInvariant()}'";
}

/// <summary>A loss of (input, target).</summary>
public abstract class Loss(Reduction reduction) : LossModule(reduction)
{
    public sealed override int Arity => 2;

    /// <summary>The loss of <paramref name="input"/> against <paramref name="target"/>.</summary>
    public abstract Tensor Forward(Tensor input, Tensor target);

    /// <summary>Same as <see cref="Forward(Tensor, Tensor)"/> (PyTorch's <c>criterion(input, target)</c>).</summary>
    public Tensor Call(Tensor input, Tensor target) => Forward(input, target);

    internal sealed override Tensor ForwardInputs(ReadOnlySpan<Tensor> x) => Forward(x[0], x[1]);
}

/// <summary>A loss of three tensors: (input1, input2, target), (anchor, positive, negative) or (input, target, var).</summary>
public abstract class ThreeInputLoss(Reduction reduction) : LossModule(reduction)
{
    public sealed override int Arity => 3;

    /// <summary>The loss of the three tensors, in the order of the functional form.</summary>
    public abstract Tensor Forward(Tensor input1, Tensor input2, Tensor input3);

    /// <summary>Same as Forward (PyTorch's <c>criterion(a, b, c)</c>).</summary>
    public Tensor Call(Tensor input1, Tensor input2, Tensor input3) => Forward(input1, input2, input3);

    internal sealed override Tensor ForwardInputs(ReadOnlySpan<Tensor> x) => Forward(x[0], x[1], x[2]);
}

/// <summary>A loss of four tensors (CTC: log_probs, targets, input_lengths, target_lengths).</summary>
public abstract class FourInputLoss(Reduction reduction) : LossModule(reduction)
{
    public sealed override int Arity => 4;

    /// <summary>The loss of the four tensors, in the order of the functional form.</summary>
    public abstract Tensor Forward(Tensor input1, Tensor input2, Tensor input3, Tensor input4);

    /// <summary>Same as Forward (PyTorch's <c>criterion(a, b, c, d)</c>).</summary>
    public Tensor Call(Tensor input1, Tensor input2, Tensor input3, Tensor input4) => Forward(input1, input2, input3, input4);

    internal sealed override Tensor ForwardInputs(ReadOnlySpan<Tensor> x) => Forward(x[0], x[1], x[2], x[3]);
}
