namespace Kindling.Optim;

/// <summary>
/// Base of the learning-rate schedulers (PyTorch's <c>lr_scheduler</c>): call <see cref="Step"/> once per epoch (or per
/// batch for OneCycleLR) after <c>optimizer.Step()</c>. Each subclass gives the rate of every group in closed form from
/// its initial rate and the step count, so a resumed run continues exactly.
/// </summary>
public abstract class LRScheduler
{
    protected Optimizer Optimizer { get; }
    /// <summary>Number of Step() calls so far (PyTorch's last_epoch).</summary>
    public int LastEpoch { get; protected set; }

    protected LRScheduler(Optimizer optimizer)
    {
        Optimizer = optimizer;
        foreach (var g in optimizer.ParamGroups)
            if (double.IsNaN(g.InitialLr)) g.InitialLr = g.Lr ?? optimizer.Lr;
        Apply();
    }

    /// <summary>Advances one epoch and sets the new learning rates.</summary>
    public virtual void Step()
    {
        LastEpoch++;
        Apply();
    }

    protected void Apply()
    {
        foreach (var g in Optimizer.ParamGroups) g.Lr = Rate(g.InitialLr, LastEpoch);
    }

    /// <summary>The learning rate at <paramref name="epoch"/> for a group that started at <paramref name="baseLr"/>.</summary>
    protected abstract double Rate(double baseLr, int epoch);

    /// <summary><see cref="Rate"/> for a scheduler that composes others (<see cref="SequentialLR"/>).</summary>
    internal double RateAt(double baseLr, int epoch) => Rate(baseLr, epoch);
    internal Optimizer OptimizerOf => Optimizer;

    /// <summary>The current learning rate of each group.</summary>
    public double[] GetLastLr() => Optimizer.ParamGroups.Select(g => g.Lr ?? Optimizer.Lr).ToArray();

    /// <summary>Sets the step count (for resuming) and the matching rates.</summary>
    public void SetEpoch(int epoch) { LastEpoch = epoch; Apply(); }
}

/// <summary>lr = base·γ^⌊epoch / stepSize⌋ (default γ 0.1).</summary>
public sealed class StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1) : LRScheduler(Check(optimizer, stepSize))
{
    private static Optimizer Check(Optimizer o, int s) => s > 0 ? o : throw new ArgumentOutOfRangeException(nameof(stepSize), s, $"StepLR: step_size must be positive, got {s}.");
    protected override double Rate(double baseLr, int epoch) => baseLr * Math.Pow(gamma, epoch / stepSize);
}

/// <summary>lr = base·γ^(number of milestones ≤ epoch).</summary>
public sealed class MultiStepLR(Optimizer optimizer, int[] milestones, double gamma = 0.1) : LRScheduler(optimizer)
{
    protected override double Rate(double baseLr, int epoch) => baseLr * Math.Pow(gamma, milestones.Count(m => m <= epoch));
}

/// <summary>lr = base·γ^epoch.</summary>
public sealed class ExponentialLR(Optimizer optimizer, double gamma) : LRScheduler(optimizer)
{
    protected override double Rate(double baseLr, int epoch) => baseLr * Math.Pow(gamma, epoch);
}

/// <summary>lr = η_min + (base − η_min)·(1 + cos(π·epoch / T_max)) / 2 (closed form; default η_min 0).</summary>
public sealed class CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin = 0) : LRScheduler(Check(optimizer, tMax))
{
    private static Optimizer Check(Optimizer o, int t) => t > 0 ? o : throw new ArgumentOutOfRangeException(nameof(tMax), t, $"CosineAnnealingLR: T_max must be positive, got {t}.");
    protected override double Rate(double baseLr, int epoch) => etaMin + (baseLr - etaMin) * (1 + Math.Cos(Math.PI * epoch / tMax)) / 2;
}

/// <summary>Linear warm-up: lr = base·(start + (end − start)·min(epoch, total) / total). Defaults: start 1/3, end 1, total 5.</summary>
public sealed class LinearLR(Optimizer optimizer, double startFactor = 1.0 / 3, double endFactor = 1.0, int totalIters = 5) : LRScheduler(Check(optimizer, startFactor, totalIters))
{
    private static Optimizer Check(Optimizer o, double s, int t)
    {
        if (!(s > 0 && s <= 1)) throw new ArgumentOutOfRangeException(nameof(startFactor), s, $"LinearLR: start_factor must be in (0, 1], got {s}.");
        if (t <= 0) throw new ArgumentOutOfRangeException(nameof(totalIters), t, $"LinearLR: total_iters must be positive, got {t}.");
        return o;
    }
    protected override double Rate(double baseLr, int epoch) => baseLr * (startFactor + (endFactor - startFactor) * Math.Min(epoch, totalIters) / totalIters);
}

/// <summary>
/// One-cycle policy (Smith &amp; Topin), stepped once per batch: warm up from max_lr/div_factor to max_lr over pct_start of
/// total_steps, then anneal (cosine or linear) to initial_lr/final_div_factor; when cycleMomentum, the group momentum
/// (SGD momentum, Adam β₁) moves inversely between maxMomentum and baseMomentum. PyTorch's defaults.
/// </summary>
public sealed class OneCycleLR : LRScheduler
{
    private readonly double _maxLr, _initial, _min, _pct, _baseMom, _maxMom;
    private readonly int _total;
    private readonly bool _cos, _cycleMomentum;

    public OneCycleLR(Optimizer optimizer, double maxLr, int totalSteps, double pctStart = 0.3, string annealStrategy = "cos",
        bool cycleMomentum = true, double baseMomentum = 0.85, double maxMomentum = 0.95, double divFactor = 25, double finalDivFactor = 1e4)
        : base(optimizer)
    {
        if (totalSteps <= 0) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, $"OneCycleLR: total_steps must be positive, got {totalSteps}.");
        if (!(pctStart > 0 && pctStart < 1)) throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, "OneCycleLR: pct_start must be in (0, 1).");
        if (annealStrategy is not ("cos" or "linear")) throw new ArgumentException($"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got '{annealStrategy}'.");
        _maxLr = maxLr; _total = totalSteps; _pct = pctStart; _cos = annealStrategy == "cos";
        _initial = maxLr / divFactor; _min = _initial / finalDivFactor;
        _cycleMomentum = cycleMomentum; _baseMom = baseMomentum; _maxMom = maxMomentum;
        foreach (var g in optimizer.ParamGroups) g.InitialLr = _initial;
        Apply();
        SetMomentum();
    }

    private double Anneal(double start, double end, double pct) =>
        _cos ? end + (start - end) / 2 * (Math.Cos(Math.PI * pct) + 1) : (end - start) * pct + start;

    protected override double Rate(double baseLr, int epoch) => Phase(epoch, _initial, _maxLr, _min);

    private double Phase(int step, double start, double peak, double end)
    {
        if (_maxLr == 0 && _total == 0) return start;
        double warmEnd = _pct * _total - 1, last = _total - 1;
        if (step <= warmEnd) return Anneal(start, peak, warmEnd <= 0 ? 1 : step / warmEnd);
        return Anneal(peak, end, (step - warmEnd) / (last - warmEnd));
    }

    public override void Step()
    {
        if (LastEpoch + 1 >= _total) throw new InvalidOperationException($"OneCycleLR: tried to step {LastEpoch + 2} times, but total_steps is {_total}.");
        base.Step();
        SetMomentum();
    }

    private void SetMomentum()
    {
        if (!_cycleMomentum) return;
        double m = Phase(LastEpoch, _maxMom, _baseMom, _maxMom);
        foreach (var g in Optimizer.ParamGroups) g.Momentum = m;
    }
}

/// <summary>
/// Reduces the learning rate by <c>factor</c> when a metric has stopped improving for <c>patience</c> epochs (PyTorch's
/// <c>ReduceLROnPlateau</c>): mode min/max, relative or absolute threshold, cooldown, min_lr. Call Step(metric).
/// </summary>
public sealed class ReduceLROnPlateau
{
    private readonly Optimizer _opt;
    private readonly bool _min, _rel;
    private readonly double _factor, _threshold, _minLr, _eps;
    private readonly int _patience, _cooldown;
    private int _bad, _cooldownLeft;
    /// <summary>The best metric seen.</summary>
    public double Best { get; private set; }

    public ReduceLROnPlateau(Optimizer optimizer, string mode = "min", double factor = 0.1, int patience = 10, double threshold = 1e-4,
        string thresholdMode = "rel", int cooldown = 0, double minLr = 0, double eps = 1e-8)
    {
        if (!(factor < 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "ReduceLROnPlateau: factor must be < 1.");
        if (mode is not ("min" or "max")) throw new ArgumentException($"ReduceLROnPlateau: mode must be 'min' or 'max', got '{mode}'.");
        if (thresholdMode is not ("rel" or "abs")) throw new ArgumentException($"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got '{thresholdMode}'.");
        _opt = optimizer; _min = mode == "min"; _rel = thresholdMode == "rel"; _factor = factor; _patience = patience;
        _threshold = threshold; _cooldown = cooldown; _minLr = minLr; _eps = eps;
        Best = _min ? double.PositiveInfinity : double.NegativeInfinity;
    }

    private bool Better(double a) => _min
        ? a < (_rel ? Best * (1 - _threshold) : Best - _threshold)
        : a > (_rel ? Best * (1 + _threshold) : Best + _threshold);

    /// <summary>Epochs since the best metric (PyTorch's <c>num_bad_epochs</c>).</summary>
    public int NumBadEpochs => _bad;

    /// <summary>
    /// The counters that decide the next reduction (PyTorch's <c>best</c>, <c>num_bad_epochs</c>, <c>cooldown_counter</c>),
    /// so a resumed run reduces the learning rate at exactly the epoch an uninterrupted one would. The learning rates
    /// themselves live in the optimizer's state dict.
    /// </summary>
    public Dictionary<string, double> StateDict() => new()
    {
        ["best"] = Best, ["num_bad_epochs"] = _bad, ["cooldown_counter"] = _cooldownLeft,
    };

    /// <summary>Restores <see cref="StateDict"/>; every key must be present, counters must be whole and ≥ 0.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, double> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (var k in new[] { "best", "num_bad_epochs", "cooldown_counter" })
            if (!state.ContainsKey(k)) throw new ArgumentException($"ReduceLROnPlateau.LoadStateDict: missing \"{k}\" (got {string.Join(", ", state.Keys)}).", nameof(state));
        double bad = state["num_bad_epochs"], cool = state["cooldown_counter"];
        if (!(bad >= 0 && bad == Math.Floor(bad) && bad < int.MaxValue) || !(cool >= 0 && cool == Math.Floor(cool) && cool < int.MaxValue) || double.IsNaN(state["best"]))
            throw new ArgumentException($"ReduceLROnPlateau.LoadStateDict: counters must be whole numbers ≥ 0 and best a number, got best {state["best"]}, num_bad_epochs {bad}, cooldown_counter {cool}.", nameof(state));
        Best = state["best"]; _bad = (int)bad; _cooldownLeft = (int)cool;
    }

    /// <summary>Records this epoch's metric and lowers the rates after <c>patience</c> epochs without improvement.</summary>
    public void Step(double metric)
    {
        if (Better(metric)) { Best = metric; _bad = 0; } else _bad++;
        if (_cooldownLeft > 0) { _cooldownLeft--; _bad = 0; }
        if (_bad > _patience)
        {
            foreach (var g in _opt.ParamGroups)
            {
                double old = g.Lr ?? _opt.Lr, nw = Math.Max(old * _factor, _minLr);
                if (old - nw > _eps) g.Lr = nw;
            }
            _cooldownLeft = _cooldown;
            _bad = 0;
        }
    }
}
