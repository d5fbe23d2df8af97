using System.Buffers;
using System.Numerics;

namespace Kindling.Optim;

/// <summary>
/// An optimizer as a chain of <see cref="GradientTransform"/>s (optax's <c>chain</c>): for each block of a parameter the
/// update direction starts as the gradient and passes through the stages in order. SGD, Adam, AdamW, RMSprop and Adagrad
/// are chains of the transforms in this folder; a new optimizer is usually a new chain of them.
/// </summary>
/// <example><code>
/// // Adam with decoupled weight decay 1e-2, i.e. AdamW:
/// var opt = new ChainedOptimizer(model.Parameters(), 1e-3, "MyAdamW",
///     new DecoupledWeightDecay(1e-2), new ScaleByAdam(0.9, 0.999, 1e-8), new ScaleByLearningRate());
/// </code></example>
public class ChainedOptimizer : Optimizer
{
    private readonly GradientTransform[] _chain;
    private readonly bool[] _active;
    private readonly UpdateContext _ctx = new();

    /// <summary>The stages, in order.</summary>
    public IReadOnlyList<GradientTransform> Transforms => _chain;

    public ChainedOptimizer(IEnumerable<Tensor> parameters, double lr, string name, params GradientTransform[] chain)
        : this(One(parameters), lr, 0, name, chain) { }

    public ChainedOptimizer(IEnumerable<ParamGroup> groups, double lr, double weightDecay, string name, params GradientTransform[] chain)
        : base(groups, lr, weightDecay, name)
    {
        _chain = chain;
        _active = new bool[chain.Length];
    }

    protected override void Update<T>(T[] w, int wOff, T[] g, int n, Dictionary<string, Tensor> state, long step, double lr, double weightDecay, ParamGroup group, Tensor param)
    {
        _ctx.State = state; _ctx.Param = param; _ctx.Step = step; _ctx.Lr = lr; _ctx.WeightDecay = weightDecay; _ctx.Group = group; _ctx.LrDivisor = 1;
        for (int i = 0; i < _chain.Length; i++) _active[i] = _chain[i].Begin<T>(_ctx);
        var u = ArrayPool<T>.Shared.Rent(Math.Min(Chunk, n));
        var scratch = ArrayPool<T>.Shared.Rent(Math.Min(Chunk, n));
        // Blocks small enough that the several passes of the stages reuse data while it is in L1.
        for (int s = 0; s < n; s += Chunk)
        {
            int len = Math.Min(Chunk, n - s);
            var ww = w.AsSpan(wOff + s, len);
            var uu = u.AsSpan(0, len);
            g.AsSpan(s, len).CopyTo(uu);
            for (int i = 0; i < _chain.Length; i++)
                if (_active[i]) _chain[i].Apply(s, ww, uu, scratch.AsSpan(0, len));
        }
        ArrayPool<T>.Shared.Return(u);
        ArrayPool<T>.Shared.Return(scratch);
    }
}
