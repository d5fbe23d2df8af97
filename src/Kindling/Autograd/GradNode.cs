namespace Kindling;

/// <summary>
/// One recorded operation of the autograd graph (PyTorch's <c>grad_fn</c>): the inputs it read and a closure that
/// maps the gradient of its output to the gradients of those inputs (the formulas are in <see cref="Derivatives"/>).
/// Closures only compute and deliver through a <see cref="GradSink"/>; the engine accumulates.
/// </summary>
public sealed class GradNode
{
    /// <summary>The operation's name, as shown by <c>ToString</c> (for example <c>MulBackward</c>).</summary>
    public string Name { get; }

    internal readonly Tensor?[] Inputs;
    internal BackwardFn? BackwardFn;
    internal readonly (Tensor tensor, int version)[] Saved;
    internal int[] OutputShape;
    internal DType OutputDType;
    /// <summary>Set by <see cref="Tensor.RetainGrad"/>: the non-leaf tensor whose <c>Grad</c> the engine fills.</summary>
    internal Tensor? RetainTarget;
    /// <summary>The output's buffer, when only the graph can reach it: returned to the pool once backward frees this node (see <see cref="Autograd.ReleaseAfterUse"/>).</summary>
    internal Array? ReleaseWhenFreed;
    /// <summary>Scratch arrays only this node's closure reads (a fused loss's row statistics): returned to the pool when backward frees it.</summary>
    internal Array[]? ScratchWhenFreed;

    internal GradNode(string name, Tensor?[] inputs, BackwardFn backward, Tensor[] saved, Tensor output)
    {
        Name = name;
        Inputs = inputs;
        BackwardFn = backward;
        Saved = new (Tensor, int)[saved.Length];
        for (int i = 0; i < saved.Length; i++) Saved[i] = (saved[i], saved[i].Storage.Version);
        OutputShape = output.Dims;
        OutputDType = output.DType;
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
