using System.Numerics;
using System.Numerics.Tensors;

namespace Kindling;

/// <summary>
/// One reverse walk of the graph, and the only code that accumulates gradients: into leaves' <see cref="Tensor.Grad"/>
/// (in place when they have one, as PyTorch does) and into the pending gradient of every intermediate node.
/// </summary>
/// <remarks>
/// <para><b>Owned buffers.</b> Gradient buffers the engine rents from the <see cref="BufferPool"/> for a closure
/// (<see cref="GradSink.Into{T}"/>) are <i>owned</i>: the walk counts the live gradients that refer to each such
/// storage (a closure may pass its incoming gradient on, or a view of it, to several inputs). An owned buffer with a
/// single reference may be added into in place, or adopted as a leaf's <c>Grad</c> (then it is the user's and leaves
/// the count); when its count drops to zero it goes back to the pool. Gradients a closure computes with ordinary
/// tensor operations, and the gradient passed to <c>Backward</c>, are never owned: they are copied, never recycled.</para>
/// <para>One instance per thread is reused from pass to pass, so a training step's walk allocates nothing itself.</para>
/// </remarks>
internal sealed class BackwardPass
{
    private readonly Dictionary<GradNode, int> _pending = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<GradNode, Tensor> _grads = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Storage, int> _owned = new(ReferenceEqualityComparer.Instance);
    private readonly Stack<GradNode> _stack = new();
    /// <summary>The current closure's deliveries: (input, gradient), or (input, null) when it added into the pending gradient itself.</summary>
    internal readonly List<(int input, Tensor? grad)> Deferred = [];
    private readonly GradSink _sink;

    public BackwardPass() => _sink = new GradSink(this);

    public void Reset()
    {
        _pending.Clear(); _grads.Clear(); _owned.Clear(); _stack.Clear(); Deferred.Clear();
        _sink.Node = null!;
    }

    public void Run(Tensor root, Tensor grad, bool retainGraph)
    {
        if (root.GradFn == null)
        {
            AccumulateLeaf(root, grad);
            return;
        }
        // Count, for every node reachable from the root, how many of its consumers will send it a gradient.
        _pending[root.GradFn] = 0;
        _stack.Push(root.GradFn);
        while (_stack.Count > 0)
        {
            var n = _stack.Pop();
            foreach (var inp in n.Inputs)
            {
                var p = inp?.GradFn;
                if (p == null) continue;
                if (_pending.TryGetValue(p, out int c)) _pending[p] = c + 1;
                else { _pending[p] = 1; _stack.Push(p); }
            }
        }

        _grads[root.GradFn] = grad;
        _stack.Push(root.GradFn);
        while (_stack.Count > 0)
        {
            var node = _stack.Pop();
            _grads.Remove(node, out var g);
            if (node.RetainTarget != null) AccumulateLeaf(node.RetainTarget, g!, mayAdopt: false);
            var fn = node.BackwardFn ?? throw new InvalidOperationException(
                $"Backward: trying to backward through the graph a second time (at {node.Name}); its saved values were freed after the first Backward. Pass retainGraph: true to the first Backward if you need to call it twice.");
            foreach (var (t, v) in node.Saved)
                if (t.Storage.Version != v)
                    throw new InvalidOperationException(
                        $"Backward: a tensor of shape {t.ShapeString} saved by {node.Name} for the gradient was modified by an in-place operation after it was used (version {t.Storage.Version}, expected {v}). Use an out-of-place operation, or Clone() the tensor before modifying it.");
            _sink.Node = node;
            Deferred.Clear();
            fn(g!, _sink);
            if (!retainGraph)
            {
                node.BackwardFn = null;
                // Every node that saved this node's output has run (they are its consumers), so a buffer that only
                // the graph could reach is free now.
                if (node.ReleaseWhenFreed is Array buf) { node.ReleaseWhenFreed = null; BufferPool.Return(buf); }
                if (node.ScratchWhenFreed is Array[] scratch) { node.ScratchWhenFreed = null; foreach (var a in scratch) BufferPool.Return(a); }
            }
            // References first, then the incoming gradient's own is dropped: a closure that passed it on whole to a
            // single input lets that input adopt it.
            foreach (var (_, gi) in Deferred) if (gi != null) AddRef(gi.Storage);
            Release(g!);
            for (int k = 0; k < Deferred.Count; k++)
            {
                var (i, gi) = Deferred[k];
                Deliver(node, i, gi);
            }
            Deferred.Clear();
        }
    }

    /// <summary>Accumulates <paramref name="gi"/> into input <paramref name="i"/> of <paramref name="node"/>, consuming one reference.</summary>
    private void Deliver(GradNode node, int i, Tensor? gi)
    {
        var inp = node.Inputs[i]!;
        if (gi == null) { Arrived(inp.GradFn!); return; }
        if (!gi.Dims.AsSpan().SequenceEqual(inp.Dims))
            throw new InvalidOperationException($"Backward: internal error in {node.Name}: gradient of shape {gi.ShapeString} for an input of shape {inp.ShapeString}.");
        var p = inp.GradFn;
        if (p == null) { AccumulateLeaf(inp, gi); Release(gi); return; }
        if (!_grads.TryGetValue(p, out var acc)) _grads[p] = gi;
        else if (Exclusive(acc) && !ReferenceEquals(acc.Storage, gi.Storage) && gi.DType == acc.DType)
        {
            AddInto(acc, gi);
            Release(gi);
        }
        else
        {
            var sum = Own(Tensor.Add(acc, gi));
            AddRef(sum.Storage);
            Release(acc); Release(gi);
            _grads[p] = sum;
        }
        Arrived(p);
    }

    /// <summary>One more consumer of <paramref name="p"/> has delivered; when all have, p is ready to run.</summary>
    private void Arrived(GradNode p)
    {
        if (--_pending[p] == 0) _stack.Push(p);
    }

    /// <summary>
    /// Adds <paramref name="g"/> into a leaf's gradient: in place when it already has one (PyTorch's accumulation),
    /// else by adopting <paramref name="g"/> itself when the engine owns it and nothing else refers to it, else by a copy.
    /// </summary>
    private void AccumulateLeaf(Tensor leaf, Tensor g, bool mayAdopt = true)
    {
        if (!leaf.RequiresGrad) return;
        if (g.DType != leaf.DType) { g = g.To(leaf.DType); mayAdopt = false; }
        if (leaf.Grad != null) { AddInto(leaf.Grad, g); return; }
        if (mayAdopt && Exclusive(g) && g.IsContiguous && g.OwnsWholeBuffer)
        {
            _owned.Remove(g.Storage); // the user's from now on: never recycled
            leaf.Grad = g;
            return;
        }
        leaf.Grad = g.Clone();
    }

    /// <summary>dst += src in place (dst is a leaf's gradient or an exclusive pending gradient), bumping its version.</summary>
    private static void AddInto(Tensor dst, Tensor src)
    {
        if (dst.IsContiguous && src.IsContiguous && dst.DType == src.DType && dst.NumEl == src.NumEl)
        {
            dst.Storage.Version++;
            if (dst.DType == DType.Float32) TensorPrimitives.Add(dst.F32Span, src.F32Span, dst.F32Span);
            else if (dst.DType == DType.Float64) TensorPrimitives.Add(dst.F64Span, src.F64Span, dst.F64Span);
            else dst.AddInPlace(src);
            return;
        }
        dst.AddInPlace(src);
    }

    /// <summary>See <see cref="GradSink.Into{T}"/>.</summary>
    internal T[] Into<T>(GradNode node, int i, Tensor inp, bool overwriteOnly, out bool accumulate) where T : unmanaged, INumberBase<T>
    {
        int n = inp.NumEl;
        var p = inp.GradFn;
        if (p == null)
        {
            var lg = inp.Grad;
            if (lg == null)
            {
                // A new leaf gradient: the user's as soon as it exists, so it is never owned.
                var arr = BufferPool.Rent<T>(n);
                inp.Grad = Tensor.Wrap(arr, (int[])inp.Dims.Clone());
                accumulate = false;
                return arr;
            }
            if (!overwriteOnly && Dense<T>(lg, inp) is T[] existing) { lg.Storage.Version++; accumulate = true; return existing; }
        }
        else if (!overwriteOnly && _grads.TryGetValue(p, out var pend) && Exclusive(pend) && Dense<T>(pend, inp) is T[] mine)
        {
            Deferred.Add((i, null));
            accumulate = true;
            return mine;
        }
        // Otherwise a fresh owned buffer, delivered (and summed with what is there) after the closure returns.
        var buf = BufferPool.Rent<T>(n);
        Deferred.Add((i, Own(Tensor.Wrap(buf, inp.Dims))));
        accumulate = false;
        return buf;
    }

    private static T[]? Dense<T>(Tensor g, Tensor like) where T : unmanaged =>
        g.Storage.Data is T[] arr && g.Offset == 0 && arr.Length == g.NumEl && g.IsContiguous && g.Dims.AsSpan().SequenceEqual(like.Dims) ? arr : null;

    /// <summary>See <see cref="GradSink.AddOwned"/>.</summary>
    internal Tensor TakeOwnership(Tensor t) => Own(t);

    private Tensor Own(Tensor t)
    {
        if (t.OwnsWholeBuffer) _owned.TryAdd(t.Storage, 0);
        return t;
    }

    private bool Exclusive(Tensor t) => _owned.TryGetValue(t.Storage, out int c) && c == 1;

    private void AddRef(Storage s)
    {
        if (_owned.TryGetValue(s, out int c)) _owned[s] = c + 1;
    }

    private void Release(Tensor t)
    {
        var s = t.Storage;
        if (!_owned.TryGetValue(s, out int c)) return;
        if (c > 1) { _owned[s] = c - 1; return; }
        _owned.Remove(s);
        BufferPool.Return(s.Data);
    }
}
