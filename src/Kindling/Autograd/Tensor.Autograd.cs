namespace Kindling;

public sealed partial class Tensor
{
    internal bool RequiresGradFlag;

    /// <summary>
    /// Whether operations on this tensor are recorded for differentiation. Settable on leaves only
    /// (a tensor produced by a recorded operation requires grad because its inputs do). Only float tensors can.
    /// </summary>
    public bool RequiresGrad
    {
        get => RequiresGradFlag;
        set
        {
            if (GradFn != null && !value)
                throw new InvalidOperationException($"RequiresGrad: cannot turn off gradient tracking on a non-leaf tensor (produced by {GradFn.Name}); use Detach() instead.");
            if (value && !IsFloatingPoint)
                throw new InvalidOperationException($"RequiresGrad: only floating-point tensors can require gradients, this one is {DTypeName(DType)}.");
            RequiresGradFlag = value;
            if (GradFn == null) Storage.GradLeaf = value ? this : null;
        }
    }

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this tensor, for chaining (PyTorch's <c>requires_grad_()</c>).</summary>
    public Tensor RequiresGrad_(bool value = true) { RequiresGrad = value; return this; }

    /// <summary>
    /// The accumulated gradient. Filled on leaves by <see cref="Backward"/>; on non-leaves only after <see cref="RetainGrad"/>.
    /// Gradients accumulate across Backward calls until reset (see <c>Module.ZeroGrad</c>).
    /// </summary>
    public Tensor? Grad { get; set; }

    /// <summary>The operation that produced this tensor, or null for a leaf.</summary>
    public GradNode? GradFn { get; internal set; }

    /// <summary>True for tensors created by the user (not by a recorded operation).</summary>
    public bool IsLeaf => GradFn == null;

    /// <summary>Asks Backward to also fill <see cref="Grad"/> on this non-leaf tensor.</summary>
    public void RetainGrad()
    {
        if (!RequiresGrad) throw new InvalidOperationException("RetainGrad: the tensor does not require grad.");
        if (GradFn != null) GradFn.RetainTarget = this;
    }

    /// <summary>
    /// Computes the gradient of this tensor with respect to every leaf that requires grad and accumulates it into their
    /// <see cref="Grad"/>. A scalar needs no <paramref name="gradient"/> (it is 1); any other tensor needs one of its shape.
    /// The graph is freed afterwards unless <paramref name="retainGraph"/> is true.
    /// </summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false)
    {
        if (!RequiresGrad)
            throw new InvalidOperationException($"Backward: this tensor (shape {ShapeString}) does not require grad and has no grad_fn. Set RequiresGrad = true on the inputs you want gradients for, and do not compute it under Autograd.NoGrad().");
        if (gradient == null)
        {
            if (NumEl != 1)
                throw new InvalidOperationException($"Backward: grad can be implicitly created only for scalar outputs, but this tensor has shape {ShapeString}. Pass a gradient of that shape, or reduce first (for example loss.Sum() or loss.Mean()).");
            gradient = OnesLike(this);
        }
        else if (!gradient.Dims.AsSpan().SequenceEqual(Dims))
            throw new ArgumentException($"Backward: gradient has shape {gradient.ShapeString} but the tensor has shape {ShapeString}.");
        Autograd.RunBackward(this, gradient.DType == DType ? gradient : gradient.To(DType), retainGraph);
    }

    /// <summary>A tensor sharing this one's data but cut from the graph (PyTorch's <c>detach()</c>).</summary>
    public Tensor Detach() => new(Storage, Offset, Dims, Strides_, DType);
}
