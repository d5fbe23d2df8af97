namespace Kindling.Optim;

/// <summary>
/// Runs <c>schedulers[i]</c> from milestone i − 1 to milestone i (PyTorch's <c>SequentialLR</c>): at global step t the
/// rate is schedulers[k]'s rate at local step t − milestones[k − 1], where k is the number of milestones ≤ t; each
/// scheduler restarts from its base rate at its milestone (PyTorch's <c>step(0)</c>). Warm-up then cosine:
/// <c>new SequentialLR(opt, [new LinearLR(opt, 0.01, 1, w), new CosineAnnealingLR(opt, total − w)], [w])</c>.
/// The schedulers must drive the same optimizer; there must be one milestone fewer than schedulers, increasing.
/// </summary>
public sealed class SequentialLR : LRScheduler
{
    private readonly LRScheduler[] _schedulers;
    private readonly int[] _milestones;

    public SequentialLR(Optimizer optimizer, IReadOnlyList<LRScheduler> schedulers, IReadOnlyList<int> milestones) : base(Check(optimizer, schedulers, milestones))
    {
        _schedulers = [.. schedulers];
        _milestones = [.. milestones];
        Apply(); // the base constructor ran before the fields were set
    }

    private static Optimizer Check(Optimizer o, IReadOnlyList<LRScheduler> s, IReadOnlyList<int> m)
    {
        if (s.Count == 0) throw new ArgumentException("SequentialLR: needs at least one scheduler.", nameof(s));
        if (m.Count != s.Count - 1) throw new ArgumentException($"SequentialLR: expects one milestone fewer than schedulers, got {s.Count} schedulers and {m.Count} milestones.", "milestones");
        for (int i = 0; i < s.Count; i++)
            if (!ReferenceEquals(s[i].OptimizerOf, o)) throw new ArgumentException($"SequentialLR: scheduler {i} drives a different optimizer than the one passed in.", "schedulers");
        for (int i = 0; i < m.Count; i++)
            if (m[i] <= 0 || (i > 0 && m[i] <= m[i - 1])) throw new ArgumentException($"SequentialLR: milestones must be positive and increasing, got [{string.Join(", ", m)}].", "milestones");
        return o;
    }

    protected override double Rate(double baseLr, int epoch)
    {
        if (_schedulers == null) return baseLr;
        int k = 0;
        while (k < _milestones.Length && _milestones[k] <= epoch) k++;
        return _schedulers[k].RateAt(baseLr, epoch - (k > 0 ? _milestones[k - 1] : 0));
    }
}
