namespace Kindling.Optim;

/// <summary>
/// lr = base·λ(epoch) for a function λ of the step count (PyTorch's <c>LambdaLR</c>; one λ for every group). nanoGPT's
/// schedule is one: <c>new LambdaLR(opt, it =&gt; it &lt; warmup ? (it + 1.0) / (warmup + 1) : …)</c>, or use
/// <see cref="WarmupCosine"/>.
/// </summary>
public sealed class LambdaLR(Optimizer optimizer, Func<int, double> lrLambda) : LRScheduler(optimizer)
{
    protected override double Rate(double baseLr, int epoch) => baseLr * lrLambda(epoch);

    /// <summary>
    /// nanoGPT's <c>get_lr</c> as a factor of the base rate: linear warm-up (it + 1)/(warmup + 1) for it &lt; warmup,
    /// then cosine decay from 1 to minRatio until decayIters, minRatio afterwards.
    /// </summary>
    public static Func<int, double> WarmupCosine(int warmupIters, int decayIters, double minRatio = 0.1)
    {
        if (warmupIters < 0 || decayIters <= warmupIters) throw new ArgumentException($"WarmupCosine: need 0 ≤ warmup_iters < lr_decay_iters, got {warmupIters} and {decayIters}.");
        return it =>
        {
            if (it < warmupIters) return (it + 1.0) / (warmupIters + 1);
            if (it > decayIters) return minRatio;
            double ratio = (double)(it - warmupIters) / (decayIters - warmupIters);
            return minRatio + 0.5 * (1 + Math.Cos(Math.PI * ratio)) * (1 - minRatio);
        };
    }
}
