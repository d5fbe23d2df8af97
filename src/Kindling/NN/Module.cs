using System.Text;

namespace Kindling.NN;

/// <summary>
/// Base class of layers, models and losses (PyTorch's <c>nn.Module</c>). Parameters, buffers and children are
/// registered explicitly in the constructor (<see cref="RegisterParameter"/>, <see cref="RegisterBuffer"/>,
/// <see cref="RegisterModule{T}"/>) — no reflection, so it works under NativeAOT. A parameter or child used in
/// <see cref="Call"/> without being registered is reported loudly the first time it happens.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Tensor Value)> _parameters = [];
    private readonly List<(string Name, Tensor Value)> _buffers = [];
    private readonly List<(string Name, Module Value)> _children = [];
    private bool _checked;

    [ThreadStatic] private static Stack<Module>? _callStack;

    /// <summary>True in training mode (the default); Dropout and BatchNorm behave differently in evaluation mode.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Registers a trainable tensor under <paramref name="name"/> (it is made to require grad) and returns it.</summary>
    protected Tensor RegisterParameter(string name, Tensor value)
    {
        CheckName(name);
        if (!value.IsFloatingPoint) throw new ArgumentException($"{GetType().Name}.RegisterParameter: '{name}' must be a floating-point tensor.");
        if (!value.IsLeaf) value = value.Detach();
        value.RequiresGrad = true;
        _parameters.Add((name, value));
        return value;
    }

    /// <summary>Registers a non-trainable state tensor (running statistics) saved in the state dict.</summary>
    protected Tensor RegisterBuffer(string name, Tensor value)
    {
        CheckName(name);
        _buffers.Add((name, value));
        return value;
    }

    /// <summary>Registers a child module; its parameters appear under "<paramref name="name"/>.".</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        if (ReferenceEquals(module, this)) throw new ArgumentException($"{GetType().Name}.RegisterModule: a module cannot contain itself.");
        _children.Add((name, module));
        return module;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"{GetType().Name}: invalid name '{name}' (non-empty, without dots).");
        if (_parameters.Any(p => p.Name == name) || _buffers.Any(p => p.Name == name) || _children.Any(p => p.Name == name))
            throw new ArgumentException($"{GetType().Name}: '{name}' is already registered.");
    }

    /// <summary>Replaces a registered parameter's tensor (used by initialisers and state loading).</summary>
    protected void SetParameter(string name, Tensor value)
    {
        int i = _parameters.FindIndex(p => p.Name == name);
        if (i < 0) throw new ArgumentException($"{GetType().Name}: no parameter named '{name}'.");
        value.RequiresGrad = true;
        _parameters[i] = (name, value);
    }

    /// <summary>The direct children, in registration order.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren() => _children;

    /// <summary>
    /// All parameters with their state-dict names (<c>fc1.weight</c>, <c>0.bias</c>), children depth first. A parameter
    /// reached twice (a module or tensor registered in two places) is listed once, under its first name, as in PyTorch's
    /// <c>named_parameters()</c>, so an optimizer never steps it twice. <see cref="StateDict"/> still has every name.
    /// </summary>
    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters(string prefix = "")
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var x in AllNamedParameters(prefix))
            if (seen.Add(x.Parameter)) yield return x;
    }

    private IEnumerable<(string Name, Tensor Parameter)> AllNamedParameters(string prefix)
    {
        foreach (var (n, p) in _parameters) yield return (prefix + n, p);
        foreach (var (n, m) in _children)
            foreach (var x in m.AllNamedParameters(prefix + n + ".")) yield return x;
    }

    /// <summary>All parameters (what an optimizer takes).</summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>All buffers with their state-dict names.</summary>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(string prefix = "")
    {
        foreach (var (n, b) in _buffers) yield return (prefix + n, b);
        foreach (var (n, m) in _children)
            foreach (var x in m.NamedBuffers(prefix + n + ".")) yield return x;
    }

    /// <summary>
    /// Clears the gradients of all parameters: to zeros in place by default (PyTorch 1.13's default), which keeps each
    /// gradient buffer so the next backward accumulates into it without allocating; or to null when
    /// <paramref name="setToNone"/> (PyTorch 2's default), which frees the buffers between steps.
    /// </summary>
    public void ZeroGrad(bool setToNone = false)
    {
        foreach (var p in Parameters())
        {
            if (setToNone || p.Grad == null) p.Grad = null;
            else using (Autograd.NoGrad()) p.Grad.Zero_();
        }
    }

    /// <summary>Sets training mode on this module and every descendant.</summary>
    public Module Train(bool mode = true)
    {
        Training = mode;
        foreach (var (_, m) in _children) m.Train(mode);
        return this;
    }

    /// <summary>Sets evaluation mode (<c>Train(false)</c>).</summary>
    public Module Eval() => Train(false);

    /// <summary>The computation on one input. Call modules through <see cref="Call"/>, which also checks registration.</summary>
    public virtual Tensor Forward(Tensor input) =>
        throw new InvalidOperationException($"{GetType().Name} does not take a single input tensor; see its own Forward overloads.");

    /// <summary>Runs <see cref="Forward(Tensor)"/> (PyTorch's <c>module(x)</c>); the first call checks that every parameter and child used was registered.</summary>
    public Tensor Call(Tensor input)
    {
        var stack = _callStack ??= new Stack<Module>();
        if (stack.Count > 0 && !stack.Peek()._checked && !stack.Peek().HasChild(this))
            throw new InvalidOperationException($"{stack.Peek().GetType().Name}.Forward calls a {GetType().Name} that was not registered: add RegisterModule(\"name\", ...) in the constructor, or its parameters will not be trained or saved.");
        stack.Push(this);
        try
        {
            var y = Forward(input);
            // The check needs a recorded graph; a first call under NoGrad (evaluation) leaves it for the next one.
            if (!_checked && y.GradFn != null) { CheckLeaves(y, input); _checked = true; }
            return y;
        }
        finally { stack.Pop(); }
    }

    /// <summary>
    /// Runs a forward that takes several inputs (attention's query, key, value and masks) the way <see cref="Call"/> runs
    /// <see cref="Forward(Tensor)"/>: the caller must have registered this module, and this module is the one whose
    /// children are checked while <paramref name="forward"/> runs.
    /// </summary>
    protected TResult CallWith<TResult>(Func<TResult> forward)
    {
        var stack = _callStack ??= new Stack<Module>();
        if (stack.Count > 0 && !ReferenceEquals(stack.Peek(), this) && !stack.Peek()._checked && !stack.Peek().HasDescendant(this))
            throw new InvalidOperationException($"{stack.Peek().GetType().Name}.Forward calls a {GetType().Name} that was not registered: add RegisterModule(\"name\", ...) in the constructor, or its parameters will not be trained or saved.");
        stack.Push(this);
        try { return forward(); }
        finally { stack.Pop(); }
    }

    // A stack's layers sit in a ModuleList below it, as in PyTorch.
    private bool HasDescendant(Module m) => HasChild(m) || _children.Any(c => c.Value.HasDescendant(m));

    private bool HasChild(Module m)
    {
        foreach (var c in _children) if (ReferenceEquals(c.Value, m)) return true;
        return false;
    }

    /// <summary>Walks the output's graph once: every leaf that requires grad must be a registered parameter (or the input).</summary>
    private void CheckLeaves(Tensor y, Tensor input)
    {
        if (ReferenceEquals(y, input) || y.GradFn == null) return;
        var known = new HashSet<Tensor>(Parameters(), ReferenceEqualityComparer.Instance) { input };
        var seen = new HashSet<GradNode>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<GradNode>();
        stack.Push(y.GradFn);
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            if (!seen.Add(n)) continue;
            foreach (var t in n.Inputs)
            {
                // The walk stops at the input: whatever produced it belongs to the caller.
                if (t == null || ReferenceEquals(t, input)) continue;
                if (t.GradFn != null) { stack.Push(t.GradFn); continue; }
                if (t.RequiresGrad && !known.Contains(t) && !ReferenceEquals(t.Storage, input.Storage))
                    throw new InvalidOperationException($"{GetType().Name}.Forward used a tensor of shape {t.ShapeString} that requires grad but is not a registered parameter: create it with RegisterParameter(\"name\", tensor) in the constructor so optimizers and StateDict see it.");
            }
        }
    }

    /// <summary>Parameters and buffers by name (copies, detached): what <see cref="LoadStateDict"/> and safetensors take.</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var d = new Dictionary<string, Tensor>();
        foreach (var (n, p) in AllNamedParameters("")) d[n] = p.Detach().Clone();
        foreach (var (n, b) in NamedBuffers()) d[n] = b.Detach().Clone();
        return d;
    }

    /// <summary>
    /// Copies tensors into the parameters and buffers with the same names. Everything is checked before anything is
    /// copied, so a failed load leaves the module untouched. With <paramref name="strict"/> (default), missing and
    /// unexpected keys are errors; mis-shaped tensors always are. Values are converted to each parameter's type.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var targets = AllNamedParameters("").Concat(NamedBuffers()).ToDictionary(p => p.Item1, p => p.Item2);
        var missing = targets.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !targets.ContainsKey(k)).ToList();
        var misshaped = targets.Where(t => state.TryGetValue(t.Key, out var v) && !v.Shape.SequenceEqual(t.Value.Shape))
            .Select(t => $"{t.Key}: expected {t.Value.ShapeString}, got {state[t.Key].ShapeString}").ToList();
        var problems = new List<string>();
        if (strict && missing.Count > 0) problems.Add("missing keys: " + string.Join(", ", missing));
        if (strict && unexpected.Count > 0) problems.Add("unexpected keys: " + string.Join(", ", unexpected));
        if (misshaped.Count > 0) problems.Add("shape mismatches: " + string.Join("; ", misshaped));
        if (problems.Count > 0)
            throw new ArgumentException($"{GetType().Name}.LoadStateDict: " + string.Join(". ", problems) + ". Nothing was loaded.");
        using (Autograd.NoGrad())
            foreach (var (k, t) in targets)
                if (state.TryGetValue(k, out var v)) t.CopyFrom(v);
    }

    /// <summary>Extra text inside this module's line of <see cref="ToString"/>, e.g. <c>in_features=3, out_features=2</c>.</summary>
    protected virtual string ExtraRepr() => "";

    /// <summary>A tree like PyTorch's repr: <c>Sequential(\n  (0): Linear(in_features=3, out_features=2, bias=True)\n)</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(GetType().Name).Append('(').Append(ExtraRepr());
        if (_children.Count > 0)
        {
            sb.Append('\n');
            foreach (var (n, m) in _children)
                sb.Append("  (").Append(n).Append("): ").Append(m.ToString().Replace("\n", "\n  ")).Append('\n');
        }
        return sb.Append(')').ToString();
    }
}
