using System.Numerics;

namespace Kindling.Optim;

/// <summary>
/// What a transform sees of one parameter's update: its state buffers, the step count, the group's hyper-parameters, and
/// the divisor of the learning rate that a transform may set (Adam's bias correction 1 − β₁ᵗ, Adagrad's lr decay), which
/// <see cref="ScaleByLearningRate"/> applies as lr / divisor, PyTorch's step size.
/// </summary>
public sealed class UpdateContext
{
    /// <summary>The parameter's state buffers by PyTorch's names ("exp_avg", "momentum_buffer", ...).</summary>
    public Dictionary<string, Tensor> State { get; internal set; } = null!;
    public Tensor Param { get; internal set; } = null!;
    /// <summary>The step count, from 1.</summary>
    public long Step { get; internal set; }
    public double Lr { get; internal set; }
    public double WeightDecay { get; internal set; }
    public ParamGroup Group { get; internal set; } = null!;
    /// <summary>The learning rate is divided by this (1 unless a transform sets it).</summary>
    public double LrDivisor { get; set; } = 1;

    /// <summary>A state buffer shaped like the parameter, created filled with <paramref name="init"/> on first use.</summary>
    public T[] Buffer<T>(string name, out bool created, double init = 0) where T : unmanaged
    {
        created = !State.TryGetValue(name, out var b);
        if (created) State[name] = b = Tensor.Full(Param.Shape, init, Param.DType);
        return (T[])b!.Storage.Data;
    }
}

/// <summary>
/// One stage of an optimizer's update (optax's GradientTransformation): it rewrites the update direction u in place,
/// block by block, and may update the parameter itself (decoupled weight decay, the final learning-rate step).
/// An optimizer is a chain of them (<see cref="ChainedOptimizer"/>): u starts as the gradient and each stage runs on a
/// block before the next, so the floating-point operations happen in exactly the order of the stages (PyTorch's).
/// </summary>
public abstract class GradientTransform
{
    /// <summary>
    /// Called once per parameter and step before its blocks: fetch state buffers and compute scalars. Returns false when
    /// the stage does nothing this step (momentum 0, weight decay 0, ...), so it is skipped.
    /// </summary>
    public abstract bool Begin<T>(UpdateContext ctx) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// One block: <paramref name="w"/> is the parameter's elements from index <paramref name="start"/>, <paramref name="u"/>
    /// the update direction there, <paramref name="scratch"/> free space of the same length.
    /// </summary>
    public abstract void Apply<T>(int start, Span<T> w, Span<T> u, Span<T> scratch) where T : unmanaged, IFloatingPointIeee754<T>;
}
