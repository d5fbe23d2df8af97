using System.Numerics;

namespace Kindling.Optim;

/// <summary>
/// A set of parameters with its own hyper-parameters (PyTorch's param_groups). Unset values take the optimizer's defaults;
/// schedulers change <see cref="Lr"/>.
/// </summary>
public sealed class ParamGroup
{
    public IReadOnlyList<Tensor> Params { get; }
    public double? Lr { get; set; }
    public double? WeightDecay { get; set; }
    /// <summary>SGD/RMSprop momentum (what OneCycleLR cycles for them).</summary>
    public double? Momentum { get; set; }
    /// <summary>β₁ of Adam-like optimizers (PyTorch's <c>betas[0]</c>; what OneCycleLR cycles for them).</summary>
    public double? Beta1 { get; set; }
    /// <summary>The learning rate when a scheduler first saw this group.</summary>
    public double InitialLr { get; internal set; } = double.NaN;

    public ParamGroup(IEnumerable<Tensor> parameters, double? lr = null, double? weightDecay = null, double? momentum = null, double? beta1 = null)
    {
        Params = parameters.ToList();
        Lr = lr; WeightDecay = weightDecay; Momentum = momentum; Beta1 = beta1;
    }
}

/// <summary>
/// Base of the optimizers: holds parameter groups and per-parameter state, and implements the PyTorch 1.13 update rule
/// of each subclass in <see cref="Update{T}"/>. Step() skips parameters without a gradient, as PyTorch does.
/// </summary>
public abstract class Optimizer
{
    private readonly List<ParamGroup> _groups = [];
    /// <summary>Per-parameter state buffers (momentum, moments, ...) by buffer name, and the step count.</summary>
    protected readonly Dictionary<Tensor, Dictionary<string, Tensor>> State = new(ReferenceEqualityComparer.Instance);
    protected readonly Dictionary<Tensor, long> Steps = new(ReferenceEqualityComparer.Instance);

    /// <summary>The parameter groups.</summary>
    public IReadOnlyList<ParamGroup> ParamGroups => _groups;

    /// <summary>Default learning rate for groups that set none.</summary>
    public double Lr { get; }
    /// <summary>Default weight decay.</summary>
    public double WeightDecay { get; }

    protected Optimizer(IEnumerable<ParamGroup> groups, double lr, double weightDecay, string name)
    {
        CheckLr(name, lr);
        if (!(weightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, $"{name}: weight_decay must be ≥ 0, got {weightDecay}.");
        Lr = lr; WeightDecay = weightDecay;
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var g in groups)
        {
            if (g.Lr is double glr) CheckLr(name, glr);
            // Like PyTorch's param_groups, every group carries its effective values once built.
            g.Lr ??= lr;
            g.WeightDecay ??= weightDecay;
            foreach (var p in g.Params)
            {
                if (!p.IsContiguous) throw new ArgumentException($"{name}: parameters must be contiguous tensors; got a view of shape {p.ShapeString}.");
                if (!p.IsLeaf || !p.IsFloatingPoint) throw new ArgumentException($"{name}: can only optimize floating-point leaf tensors; got one of shape {p.ShapeString} produced by {p.GradFn?.Name}.");
                if (!seen.Add(p)) throw new ArgumentException($"{name}: a parameter of shape {p.ShapeString} appears in more than one group.");
            }
            _groups.Add(g);
        }
        if (seen.Count == 0) throw new ArgumentException($"{name}: the optimizer got an empty parameter list. Pass model.Parameters() after building the model (a model with no registered parameters has nothing to train).");
    }

    protected static IEnumerable<ParamGroup> One(IEnumerable<Tensor> p) => [new ParamGroup(p)];

    private static void CheckLr(string name, double lr)
    {
        if (!(lr >= 0) || double.IsInfinity(lr)) throw new ArgumentOutOfRangeException(nameof(lr), lr, $"{name}: learning rate must be a finite number ≥ 0, got {lr}.");
    }

    /// <summary>Clears the gradients of every parameter (to zeros in place by default; see <see cref="NN.Module.ZeroGrad"/>).</summary>
    public void ZeroGrad(bool setToNone = false)
    {
        foreach (var g in _groups)
            foreach (var p in g.Params)
            {
                if (setToNone || p.Grad == null) p.Grad = null;
                else using (Autograd.NoGrad()) p.Grad.Zero_();
            }
    }

    /// <summary>
    /// True for optimizers with PyTorch's <c>betas</c> (Adam, AdamW, Adamax, NAdam): a schedule that cycles momentum
    /// (OneCycleLR) sets their groups' <see cref="ParamGroup.Beta1"/> instead of <see cref="ParamGroup.Momentum"/>.
    /// </summary>
    protected internal virtual bool HasBetas => false;

    /// <summary>Whether the per-parameter state buffer <paramref name="name"/> is a scalar rather than shaped like its parameter.</summary>
    protected virtual bool IsScalarState(string name) => false;

    /// <summary>Called after <see cref="LoadStateDict"/> replaced the state buffers, so a subclass can drop what it derived from the old ones.</summary>
    protected virtual void StateLoaded() { }

    /// <summary>Applies one update to every parameter that has a gradient.</summary>
    public void Step()
    {
        using var _ = Autograd.NoGrad();
        foreach (var g in _groups)
        {
            double lr = g.Lr ?? Lr, wd = g.WeightDecay ?? WeightDecay;
            CheckLr(GetType().Name, lr);
            foreach (var p in g.Params)
            {
                if (p.Grad == null) continue;
                if (!State.TryGetValue(p, out var st)) State[p] = st = [];
                long step = Steps.TryGetValue(p, out var s) ? s + 1 : 1;
                Steps[p] = step;
                var grad = p.Grad.DType == p.DType ? p.Grad : p.Grad.To(p.DType);
                if (!grad.Dims.AsSpan().SequenceEqual(p.Dims)) throw new InvalidOperationException($"{GetType().Name}.Step: the gradient of a parameter has shape {grad.ShapeString} but the parameter has {p.ShapeString}.");
                p.Storage.Version++;
                if (p.DType == DType.Float32) Update((float[])p.Storage.Data, p.Offset, grad.DenseData<float>(), p.NumEl, st, step, lr, wd, g, p);
                else Update((double[])p.Storage.Data, p.Offset, grad.DenseData<double>(), p.NumEl, st, step, lr, wd, g, p);
            }
        }
    }

    /// <summary>
    /// The update of one parameter: its n elements start at <paramref name="w"/>[<paramref name="wOff"/>]; <paramref name="g"/>
    /// is its dense gradient; <paramref name="step"/> counts from 1.
    /// </summary>
    protected abstract void Update<T>(T[] w, int wOff, T[] g, int n, Dictionary<string, Tensor> state, long step, double lr, double weightDecay, ParamGroup group, Tensor param)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>A state buffer shaped like <paramref name="p"/> (dense, from index 0), created filled with <paramref name="init"/> on first use.</summary>
    protected static T[] Buffer<T>(Dictionary<string, Tensor> state, string name, Tensor p, out bool created, double init = 0) where T : unmanaged
    {
        created = !state.TryGetValue(name, out var b);
        if (created) state[name] = b = Tensor.Full(p.Shape, init, p.DType);
        return (T[])b!.Storage.Data;
    }

    /// <summary>Size of the blocks updates run in, so that their several vectorised passes reuse data while it is in L1.</summary>
    protected const int Chunk = 4096;

    /// <summary>
    /// s ← decay·s + (scale·g)·g, in the operation order of PyTorch's <c>mul_</c> then <c>addcmul_</c> (no fused
    /// multiply-add), so the rounding matches and adaptive optimizers do not amplify a different rounding noise.
    /// <paramref name="tmp"/> is scratch of the same length.
    /// </summary>
    protected internal static void DecayAddSquare<T>(Span<T> s, T decay, T scale, ReadOnlySpan<T> g, Span<T> tmp) where T : unmanaged, IFloatingPointIeee754<T>
    {
        System.Numerics.Tensors.TensorPrimitives.Multiply(s, decay, s);
        System.Numerics.Tensors.TensorPrimitives.Multiply(g, scale, tmp);
        System.Numerics.Tensors.TensorPrimitives.Multiply(tmp, g, tmp);
        System.Numerics.Tensors.TensorPrimitives.Add(s, tmp, s);
    }

    /// <summary>One block of an update: the parameter slice, the prepared gradient slice and scratch of the same length.</summary>
    protected delegate void ChunkBody<T>(int start, Span<T> w, Span<T> g, Span<T> scratch);

    /// <summary>
    /// Runs <paramref name="body"/> over blocks of the parameter with the gradient already prepared as PyTorch does
    /// first: negated when maximizing, plus λ·w (fused, as its add with alpha) when <paramref name="couple"/>d weight decay is on.
    /// </summary>
    protected static void Chunked<T>(T[] w, int wOff, T[] g, int n, double weightDecay, bool maximize, bool couple, ChunkBody<T> body)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T tWd = T.CreateTruncating(weightDecay);
        var t1 = System.Buffers.ArrayPool<T>.Shared.Rent(Chunk);
        var t2 = System.Buffers.ArrayPool<T>.Shared.Rent(Chunk);
        for (int s = 0; s < n; s += Chunk)
        {
            int len = Math.Min(Chunk, n - s);
            var ww = w.AsSpan(wOff + s, len);
            var gg = t1.AsSpan(0, len);
            if (maximize) System.Numerics.Tensors.TensorPrimitives.Negate(g.AsSpan(s, len), gg); else g.AsSpan(s, len).CopyTo(gg);
            if (couple && weightDecay != 0) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(ww, tWd, gg, gg);
            body(s, ww, gg, t2.AsSpan(0, len));
        }
        System.Buffers.ArrayPool<T>.Shared.Return(t1);
        System.Buffers.ArrayPool<T>.Shared.Return(t2);
    }

    /// <summary>
    /// The optimizer's state as named tensors ("state.{i}.{buffer}", "state.{i}.step", "group.{g}.lr"), where i is the
    /// parameter's position across groups: what a checkpoint needs to resume exactly.
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var d = new Dictionary<string, Tensor>();
        int i = 0;
        for (int gi = 0; gi < _groups.Count; gi++)
        {
            var g = _groups[gi];
            d[$"group.{gi}.lr"] = Tensor.Scalar(g.Lr ?? Lr, DType.Float64);
            if (g.Momentum is double m) d[$"group.{gi}.momentum"] = Tensor.Scalar(m, DType.Float64);
            if (g.Beta1 is double b1) d[$"group.{gi}.beta1"] = Tensor.Scalar(b1, DType.Float64);
            if (!double.IsNaN(g.InitialLr)) d[$"group.{gi}.initial_lr"] = Tensor.Scalar(g.InitialLr, DType.Float64);
            foreach (var p in g.Params)
            {
                if (State.TryGetValue(p, out var st))
                    foreach (var (k, v) in st) d[$"state.{i}.{k}"] = v.Clone();
                if (Steps.TryGetValue(p, out var s)) d[$"state.{i}.step"] = Tensor.Scalar(s, DType.Int64);
                i++;
            }
        }
        return d;
    }

    /// <summary>Restores <see cref="StateDict"/>; shapes are checked before anything changes.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        var all = _groups.SelectMany(g => g.Params).ToList();
        foreach (var (k, v) in state)
        {
            var parts = k.Split('.');
            if (parts.Length != 3 || (parts[0] != "state" && parts[0] != "group") || !int.TryParse(parts[1], out int idx))
                throw new ArgumentException($"{GetType().Name}.LoadStateDict: unexpected key '{k}'.");
            if (parts[0] == "state")
            {
                if (idx < 0 || idx >= all.Count) throw new ArgumentException($"{GetType().Name}.LoadStateDict: '{k}' refers to parameter {idx}, but the optimizer has {all.Count}.");
                if (parts[2] != "step" && !(IsScalarState(parts[2]) ? v.NumEl == 1 : v.Shape.SequenceEqual(all[idx].Shape)))
                    throw new ArgumentException($"{GetType().Name}.LoadStateDict: '{k}' has shape {v.ShapeString}, parameter {idx} has {all[idx].ShapeString}.");
            }
            else if (idx < 0 || idx >= _groups.Count) throw new ArgumentException($"{GetType().Name}.LoadStateDict: '{k}' refers to group {idx}, but there are {_groups.Count}.");
        }
        State.Clear(); Steps.Clear();
        foreach (var (k, v) in state)
        {
            var parts = k.Split('.');
            int idx = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            if (parts[0] == "group")
            {
                double val = v.ItemDouble();
                if (parts[2] == "lr") _groups[idx].Lr = val;
                // Before β₁ had its own slot, Adam's was saved as the group's momentum: such checkpoints still load.
                else if (parts[2] == "momentum" && HasBetas) _groups[idx].Beta1 = val;
                else if (parts[2] == "momentum") _groups[idx].Momentum = val;
                else if (parts[2] == "beta1") _groups[idx].Beta1 = val;
                else if (parts[2] == "initial_lr") _groups[idx].InitialLr = val;
                continue;
            }
            var p = all[idx];
            if (parts[2] == "step") { Steps[p] = v.ToInt64Array()[0]; continue; }
            if (!State.TryGetValue(p, out var st)) State[p] = st = [];
            st[parts[2]] = v.To(p.DType).Clone().Detach();
        }
        StateLoaded();
    }
}
