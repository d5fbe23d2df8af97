namespace Kindling;

/// <summary>
/// The define-by-run autograd: operations record <see cref="GradNode"/>s while gradients are enabled, and
/// <see cref="Tensor.Backward"/> walks them in reverse topological order (iteratively, so graphs of any depth work).
/// The derivative of every tensor operation is in <see cref="Derivatives"/>; the one place that accumulates gradients
/// (into leaves' <see cref="Tensor.Grad"/> and between nodes) is <see cref="BackwardPass"/>.
/// </summary>
public static class Autograd
{
    [ThreadStatic] private static int _noGradDepth;
    [ThreadStatic] private static BackwardPass? _idlePass;

    /// <summary>True unless inside a <see cref="NoGrad"/> scope on this thread.</summary>
    public static bool IsGradEnabled => _noGradDepth == 0;

    /// <summary>
    /// Disables graph recording on this thread until disposed (PyTorch's <c>torch.no_grad()</c>):
    /// <c>using (Autograd.NoGrad()) { ... }</c>. Scopes nest.
    /// </summary>
    public static NoGradScope NoGrad()
    {
        _noGradDepth++;
        return new NoGradScope(true);
    }

    /// <summary>Scope returned by <see cref="NoGrad"/>.</summary>
    public readonly struct NoGradScope : IDisposable
    {
        private readonly bool _active;
        internal NoGradScope(bool active) => _active = active;
        /// <summary>Re-enables recording.</summary>
        public void Dispose() { if (_active) _noGradDepth--; }
    }

    private static bool AnyRequiresGrad(Tensor[] inputs)
    {
        if (!IsGradEnabled) return false;
        foreach (var t in inputs) if (t.RequiresGrad) return true;
        return false;
    }

    /// <summary>
    /// Attaches a backward closure to <paramref name="output"/> when recording is on and an input needs a gradient.
    /// <paramref name="saved"/> lists tensors the closure will read, so an in-place change to them is caught.
    /// </summary>
    internal static Tensor Record(Tensor output, string name, Tensor[] inputs, BackwardFn backward, params Tensor[] saved)
    {
        if (!AnyRequiresGrad(inputs)) return output;
        var ins = new Tensor?[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) ins[i] = inputs[i].RequiresGrad ? inputs[i] : null;
        output.GradFn = new GradNode(name, ins, backward, saved, output);
        output.RequiresGradFlag = true;
        return output;
    }

    /// <summary>
    /// <see cref="Record(Tensor, string, Tensor[], BackwardFn, Tensor[])"/> for a closure that returns one gradient
    /// per input (null where none); the engine adds each into its input's gradient.
    /// </summary>
    internal static Tensor Record(Tensor output, string name, Tensor[] inputs, Func<Tensor, Tensor?[]> backward, params Tensor[] saved)
    {
        if (!AnyRequiresGrad(inputs)) return output;
        return Record(output, name, inputs, (g, sink) =>
        {
            var r = backward(g);
            for (int i = 0; i < r.Length; i++) sink.Add(i, r[i]);
        }, saved);
    }

    /// <summary>
    /// Declares that <paramref name="value"/>'s buffer is dead once <paramref name="consumer"/> (the output of the one
    /// operation that read it) exists: a value <c>Sequential</c> passes between two built-in layers that neither keep
    /// it nor return a view of it. With a graph, the buffer goes back to the <see cref="BufferPool"/> when backward
    /// frees the node that produced it (every node that saved it is a consumer, so has already run and been freed);
    /// with no graph on either side (evaluation under <see cref="NoGrad"/>), at once. Ignored when the value does not
    /// own its whole buffer, or when only the consumer recorded a node (that node may have saved the value).
    /// </summary>
    internal static void ReleaseAfterUse(Tensor value, Tensor consumer)
    {
        if (!value.OwnsWholeBuffer || ReferenceEquals(value.Storage, consumer.Storage)) return;
        if (value.GradFn is GradNode node) { node.ReleaseWhenFreed ??= value.Storage.Data; return; }
        if (consumer.GradFn == null) BufferPool.Return(value.Storage.Data);
    }

    /// <summary>
    /// Hands the engine scratch arrays that only <paramref name="output"/>'s backward closure reads (rented from the
    /// <see cref="BufferPool"/> by a fused op): they go back to the pool when backward frees the node, or at once when
    /// nothing was recorded (the closure was dropped).
    /// </summary>
    internal static Tensor ReleaseScratchWithGraph(Tensor output, params Array[] scratch)
    {
        if (output.GradFn is GradNode node && node.ScratchWhenFreed == null) node.ScratchWhenFreed = scratch;
        else if (output.GradFn == null) foreach (var a in scratch) BufferPool.Return(a);
        return output;
    }

    internal static void RunBackward(Tensor root, Tensor grad, bool retainGraph)
    {
        var pass = _idlePass ?? new BackwardPass();
        _idlePass = null; // a backward inside a backward (a hook, a test) gets its own
        try
        {
            using var _ = NoGrad();
            pass.Run(root, grad, retainGraph);
        }
        finally
        {
            pass.Reset();
            _idlePass = pass;
        }
    }
}
