namespace Kindling;

/// <summary>
/// The define-by-run autograd: operations record <see cref="GradNode"/>s while gradients are enabled, and
/// <see cref="Tensor.Backward"/> walks them in reverse topological order (iteratively, so graphs of any depth work).
/// </summary>
public static class Autograd
{
    [ThreadStatic] private static int _noGradDepth;
    [ThreadStatic] internal static bool InBackward;

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

    /// <summary>
    /// Attaches a backward closure to <paramref name="output"/> when recording is on and an input needs a gradient.
    /// <paramref name="saved"/> lists tensors the closure will read, so an in-place change to them is caught.
    /// </summary>
    internal static Tensor Record(Tensor output, string name, Tensor[] inputs, Func<Tensor, Tensor?[]> backward, params Tensor[] saved)
    {
        if (!IsGradEnabled) return output;
        bool any = false;
        foreach (var t in inputs) if (t.RequiresGrad) { any = true; break; }
        if (!any) return output;
        var ins = new Tensor?[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) ins[i] = inputs[i].RequiresGrad ? inputs[i] : null;
        output.GradFn = new GradNode(name, ins, backward, saved, output);
        output.RequiresGradFlag = true;
        return output;
    }

    internal static void RunBackward(Tensor root, Tensor grad, bool retainGraph)
    {
        if (root.GradFn == null)
        {
            AccumulateLeaf(root, grad);
            return;
        }
        // Count, for every node reachable from the root, how many of its consumers will send it a gradient.
        var pending = new Dictionary<GradNode, int>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<GradNode>();
        pending[root.GradFn] = 0;
        stack.Push(root.GradFn);
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            foreach (var inp in n.Inputs)
            {
                var p = inp?.GradFn;
                if (p == null) continue;
                if (pending.TryGetValue(p, out int c)) pending[p] = c + 1;
                else { pending[p] = 1; stack.Push(p); }
            }
        }

        var grads = new Dictionary<GradNode, Tensor>(ReferenceEqualityComparer.Instance) { [root.GradFn] = grad };
        var ready = new Stack<GradNode>();
        ready.Push(root.GradFn);
        using var _ = NoGrad();
        bool wasInBackward = InBackward;
        InBackward = true;
        try { Walk(grads, ready, pending, retainGraph); }
        finally { InBackward = wasInBackward; }
    }

    private static void Walk(Dictionary<GradNode, Tensor> grads, Stack<GradNode> ready, Dictionary<GradNode, int> pending, bool retainGraph)
    {
        while (ready.Count > 0)
        {
            var node = ready.Pop();
            var g = grads[node];
            grads.Remove(node);
            if (node.RetainTarget != null) AccumulateLeaf(node.RetainTarget, g);
            var fn = node.BackwardFn ?? throw new InvalidOperationException(
                $"Backward: trying to backward through the graph a second time (at {node.Name}); its saved values were freed after the first Backward. Pass retainGraph: true to the first Backward if you need to call it twice.");
            foreach (var (t, v) in node.Saved)
                if (t.Storage.Version != v)
                    throw new InvalidOperationException(
                        $"Backward: a tensor of shape {t.ShapeString} saved by {node.Name} for the gradient was modified by an in-place operation after it was used (version {t.Storage.Version}, expected {v}). Use an out-of-place operation, or Clone() the tensor before modifying it.");
            var ins = fn(g);
            if (!retainGraph) node.BackwardFn = null;
            // Gradients passed on to other nodes stay shared with them, so no leaf may adopt (and later mutate) those.
            for (int i = 0; i < node.Inputs.Length; i++)
                if (node.Inputs[i]?.GradFn != null && ins[i] != null) ins[i]!.Storage.Fresh = false;
            for (int i = 0; i < node.Inputs.Length; i++)
            {
                var inp = node.Inputs[i];
                var gi = ins[i];
                if (inp == null || gi == null) continue;
                if (!gi.Dims.AsSpan().SequenceEqual(inp.Dims))
                    throw new InvalidOperationException($"Backward: internal error in {node.Name}: gradient of shape {gi.ShapeString} for an input of shape {inp.ShapeString}.");
                if (inp.GradFn == null) { AccumulateLeaf(inp, gi); continue; }
                var p = inp.GradFn;
                grads[p] = grads.TryGetValue(p, out var acc) ? acc + gi : gi;
                if (--pending[p] == 0) ready.Push(p);
            }
        }
    }

    /// <summary>
    /// Adds <paramref name="g"/> into a leaf's gradient: in place when it already has one (PyTorch's accumulation), else
    /// by adopting <paramref name="g"/> itself when a backward closure just allocated it for this leaf alone (saving a copy
    /// of every weight gradient per step), else by a copy.
    /// </summary>
    private static void AccumulateLeaf(Tensor leaf, Tensor g)
    {
        if (!leaf.RequiresGrad) return;
        if (g.DType != leaf.DType) g = g.To(leaf.DType);
        if (leaf.Grad != null) { leaf.Grad.AddInPlace(g); return; }
        var s = g.Storage;
        if (s.Fresh && g.Offset == 0 && g.IsContiguous && s.Data.Length == g.NumEl && g.GradFn == null)
        {
            s.Fresh = false;
            leaf.Grad = g;
            return;
        }
        leaf.Grad = g.Clone();
    }
}
