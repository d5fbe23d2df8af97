using System.Numerics;

namespace Kindling;

/// <summary>
/// The backward of one recorded operation: reads the gradient of its output and delivers the gradient of each input
/// through <paramref name="sink"/>. The formulas live in <see cref="Derivatives"/>; accumulation is the engine's.
/// </summary>
internal delegate void BackwardFn(Tensor grad, GradSink sink);

/// <summary>
/// Where a backward closure delivers its inputs' gradients (micrograd's <c>+=</c>, owned by the engine). Two ways:
/// <list type="bullet">
/// <item><see cref="Add"/>: hand over a finished gradient; the engine adds it to whatever the input already has.</item>
/// <item><see cref="Into{T}"/>: ask for the input's gradient buffer and write into it directly (what a fused kernel
/// such as a GEMM wants): if the input has no gradient yet the engine hands out a buffer to overwrite
/// (<c>accumulate = false</c>, a β = 0 GEMM), else the existing one to add into (<c>accumulate = true</c>, β = 1). A
/// weight's gradient thus accumulates in place with no temporary of its size, and an intermediate gradient lands in a
/// pooled buffer the engine recycles once its consumer has run.</item>
/// </list>
/// Rules for closures: write a buffer from <see cref="Into{T}"/> completely before asking for the next one (two inputs
/// may be the same tensor, and then the second call returns the first buffer with <c>accumulate = true</c>); never keep
/// the incoming gradient or a buffer beyond the call.
/// </summary>
internal sealed class GradSink
{
    private readonly BackwardPass _pass;
    internal GradNode Node = null!;

    internal GradSink(BackwardPass pass) => _pass = pass;

    /// <summary>Whether input <paramref name="i"/> wants a gradient (it requires grad).</summary>
    public bool Needs(int i) => i < Node.Inputs.Length && Node.Inputs[i] != null;

    /// <summary>Adds <paramref name="grad"/> (the input's shape) to input <paramref name="i"/>'s gradient; ignored if not needed.</summary>
    public void Add(int i, Tensor? grad)
    {
        if (grad == null || Node.Inputs[i] == null) return;
        _pass.Deferred.Add((i, grad));
    }

    /// <summary>
    /// Hands over <paramref name="grad"/>, a dense gradient (input <paramref name="i"/>'s shape) whose buffer the closure
    /// rented from the <see cref="BufferPool"/> and that nothing else refers to (e.g. a fused loss's gradient computed in
    /// its forward): the engine owns it from now on — adopts it as the input's gradient when there is none, or adds it
    /// and recycles it. Never pass a tensor the user can reach.
    /// </summary>
    public void AddOwned(int i, Tensor grad)
    {
        if (Node.Inputs[i] == null) { BufferPool.Return(grad.Storage.Data); return; }
        _pass.Deferred.Add((i, _pass.TakeOwnership(grad)));
    }

    /// <summary>
    /// The dense buffer (row-major, input <paramref name="i"/>'s shape) to write its gradient into: overwrite every
    /// element when <paramref name="accumulate"/> is false, add into it when true.
    /// </summary>
    public T[] Into<T>(int i, out bool accumulate) where T : unmanaged, INumberBase<T>
    {
        var inp = Node.Inputs[i] ?? throw new InvalidOperationException($"{Node.Name}: input {i} does not need a gradient.");
        return _pass.Into<T>(Node, i, inp, false, out accumulate);
    }

    /// <summary>
    /// For a kernel that can only overwrite: a dense buffer (input <paramref name="i"/>'s shape) to write its whole
    /// gradient into. It is the input's new gradient when it has none yet, else a pooled buffer that the engine adds to
    /// the existing gradient and recycles.
    /// </summary>
    public T[] Overwrite<T>(int i) where T : unmanaged, INumberBase<T>
    {
        var inp = Node.Inputs[i] ?? throw new InvalidOperationException($"{Node.Name}: input {i} does not need a gradient.");
        return _pass.Into<T>(Node, i, inp, true, out _);
    }
}
