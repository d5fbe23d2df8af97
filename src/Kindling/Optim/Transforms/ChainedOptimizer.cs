using System.Buffers;

namespace Kindling.Optim;

/// <summary>
/// An optimizer as a chain of <see cref="GradientTransform"/>s (optax's <c>chain</c>): for each parameter and step every
/// stage's <see cref="GradientTransform.Update{T}"/> gives its new state, its block work and a learning-rate divisor;
/// then for each block of the parameter the update direction starts as the gradient and passes through the stages'
/// work in order. SGD, Adam, AdamW, RMSprop, Adagrad and Adamax are chains of the transforms in this folder; a new
/// optimizer is usually a new chain of them.
/// </summary>
/// <example><code>
/// // Adam with decoupled weight decay 1e-2, i.e. AdamW:
/// var opt = new ChainedOptimizer(model.Parameters(), 1e-3, "MyAdamW",
///     new DecoupledWeightDecay(1e-2), new ScaleByAdam(0.9, 0.999, 1e-8), new ScaleByLearningRate());
/// </code></example>
public class ChainedOptimizer : Optimizer
{
    private readonly GradientTransform[] _chain;
    /// <summary>Each parameter's state: one record (or null) per stage, as the stages last returned them.</summary>
    private readonly Dictionary<Tensor, TransformState?[]> _states = new(ReferenceEqualityComparer.Instance);

    /// <summary>The stages, in order.</summary>
    public IReadOnlyList<GradientTransform> Transforms => _chain;

    public ChainedOptimizer(IEnumerable<Tensor> parameters, double lr, string name, params GradientTransform[] chain)
        : this(One(parameters), lr, 0, name, chain) { }

    public ChainedOptimizer(IEnumerable<ParamGroup> groups, double lr, double weightDecay, string name, params GradientTransform[] chain)
        : base(groups, lr, weightDecay, name)
    {
        _chain = chain;
    }

    /// <summary>The state records of <paramref name="param"/>, one per stage (null before its first step).</summary>
    public IReadOnlyList<TransformState?>? StateOf(Tensor param) => _states.TryGetValue(param, out var s) ? s : null;

    protected override bool IsScalarState(string name) => _chain.Any(t => t.ScalarBuffers.Contains(name));

    protected override void StateLoaded() => _states.Clear();

    protected override void Update<T>(T[] w, int wOff, T[] g, int n, Dictionary<string, Tensor> state, long step, double lr, double weightDecay, ParamGroup group, Tensor param)
    {
        if (!_states.TryGetValue(param, out var states))
        {
            // First step (init), or the first after LoadStateDict (the records are rebuilt from the loaded buffers).
            states = new TransformState?[_chain.Length];
            for (int i = 0; i < _chain.Length; i++) states[i] = state.Count > 0 ? _chain[i].Restore(state, param) : _chain[i].Init(param);
            _states[param] = states;
        }
        var work = new BlockUpdate<T>?[_chain.Length];
        double divisor = 1;
        for (int i = 0; i < _chain.Length; i++)
        {
            var o = _chain[i].Update<T>(new StepContext(param, step, lr, weightDecay, group, divisor), states[i]);
            states[i] = o.State;
            work[i] = o.Update;
            divisor *= o.LrDivisor;
        }
        // The state dict's view of the records: the same tensors under PyTorch's names.
        foreach (var s in states)
            if (s != null)
                foreach (var (k, v) in s.Buffers) state[k] = v;

        var u = ArrayPool<T>.Shared.Rent(Math.Min(Chunk, n));
        var scratch = ArrayPool<T>.Shared.Rent(Math.Min(Chunk, n));
        // Blocks small enough that the several passes of the stages reuse data while it is in L1.
        for (int s = 0; s < n; s += Chunk)
        {
            int len = Math.Min(Chunk, n - s);
            var ww = w.AsSpan(wOff + s, len);
            var uu = u.AsSpan(0, len);
            g.AsSpan(s, len).CopyTo(uu);
            foreach (var f in work) f?.Invoke(s, ww, uu, scratch.AsSpan(0, len));
        }
        ArrayPool<T>.Shared.Return(u);
        ArrayPool<T>.Shared.Return(scratch);
    }
}
