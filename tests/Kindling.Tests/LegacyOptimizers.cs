// The optimizers as they were before the composed transforms (commit 963555c), kept as the reference the composed
// ones must match bit for bit (OptimizerChainTests). Only the update rules are here; validation is the library's.
using System.Numerics.Tensors;
using Kindling.Optim;

namespace Kindling.Tests.Legacy;



internal sealed class LegacySGD : Optimizer
{
    public double Momentum { get; }
    public double Dampening { get; }
    public bool Nesterov { get; }
    public bool Maximize { get; }

    public LegacySGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : this(One(parameters), lr, momentum, dampening, weightDecay, nesterov, maximize) { }

    public LegacySGD(IEnumerable<ParamGroup> groups, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : base(groups, lr, weightDecay, "SGD")
    {
        if (!(momentum >= 0)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"LegacySGD: momentum must be ≥ 0, got {momentum}.");
        if (nesterov && (momentum <= 0 || dampening != 0)) throw new ArgumentException("LegacySGD: Nesterov momentum requires a momentum > 0 and zero dampening.");
        Momentum = momentum; Dampening = dampening; Nesterov = nesterov; Maximize = maximize;
    }

    protected override void Update<T>(T[] w, int wOff, T[] g, int n, Dictionary<string, Tensor> state, long step, double lr, double wd, ParamGroup group, Tensor param)
    {
        double mu = group.Momentum ?? Momentum;
        T tLr = T.CreateTruncating(-lr), tMu = T.CreateTruncating(mu), tDamp = T.CreateTruncating(1 - Dampening);
        bool first = false;
        T[]? buf = mu != 0 ? Buffer<T>(state, "momentum_buffer", param, out first) : null;
        if (mu == 0 && wd == 0 && !Maximize) { TensorPrimitives.MultiplyAdd(g.AsSpan(0, n), tLr, w.AsSpan(wOff, n), w.AsSpan(wOff, n)); return; }
        Chunked<T>(w, wOff, g, n, wd, Maximize, true, (s, ww, d, _) =>
        {
            if (buf != null)
            {
                var b = buf.AsSpan(s, d.Length);
                if (first) d.CopyTo(b);
                else { TensorPrimitives.Multiply(b, tMu, b); TensorPrimitives.MultiplyAdd(d, tDamp, b, b); }
                if (Nesterov) TensorPrimitives.MultiplyAdd(b, tMu, d, d);
                else b.CopyTo(d);
            }
            TensorPrimitives.MultiplyAdd(d, tLr, ww, ww);
        });
    }
}



internal class LegacyAdam : Optimizer
{
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public bool Amsgrad { get; }
    public bool Maximize { get; }
    private readonly bool _decoupled;

    public LegacyAdam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this(One(parameters), lr, beta1, beta2, eps, weightDecay, amsgrad, maximize, false, "Adam") { }

    public LegacyAdam(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this(groups, lr, beta1, beta2, eps, weightDecay, amsgrad, maximize, false, "Adam") { }

    protected LegacyAdam(IEnumerable<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay, bool amsgrad, bool maximize, bool decoupled, string name)
        : base(groups, lr, weightDecay, name)
    {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
            throw new ArgumentOutOfRangeException(nameof(beta1), $"{name}: betas must be in [0, 1), got ({beta1}, {beta2}).");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, $"{name}: eps must be ≥ 0, got {eps}.");
        Beta1 = beta1; Beta2 = beta2; Eps = eps; Amsgrad = amsgrad; Maximize = maximize; _decoupled = decoupled;
    }

    protected override void Update<T>(T[] w, int wOff, T[] g, int n, Dictionary<string, Tensor> state, long step, double lr, double wd, ParamGroup group, Tensor param)
    {
        double b1 = group.Momentum ?? Beta1;
        var m = Buffer<T>(state, "exp_avg", param, out _);
        var v = Buffer<T>(state, "exp_avg_sq", param, out _);
        var vmax = Amsgrad ? Buffer<T>(state, "max_exp_avg_sq", param, out _) : null;
        double bc1 = 1 - Math.Pow(b1, step), bc2 = 1 - Math.Pow(Beta2, step);
        T stepSize = T.CreateTruncating(-(lr / bc1)), bc2Sqrt = T.CreateTruncating(Math.Sqrt(bc2));
        T tB1 = T.CreateTruncating(b1), tB1c = T.CreateTruncating(1 - b1), tB2 = T.CreateTruncating(Beta2), tB2c = T.CreateTruncating(1 - Beta2);
        T tEps = T.CreateTruncating(Eps), decay = T.CreateTruncating(1 - lr * wd);
        Chunked<T>(w, wOff, g, n, wd, Maximize, !_decoupled, (s, ww, gg, den) =>
        {
            int len = ww.Length;
            if (_decoupled && wd != 0) TensorPrimitives.Multiply(ww, decay, ww);
            var mm = m.AsSpan(s, len);
            var vv = v.AsSpan(s, len);
            TensorPrimitives.Multiply(mm, tB1, mm);
            TensorPrimitives.MultiplyAdd(gg, tB1c, mm, mm);
            DecayAddSquare(vv, tB2, tB2c, gg, den);
            if (vmax != null)
            {
                var vm = vmax.AsSpan(s, len);
                TensorPrimitives.Max(vm, vv, vm);
                TensorPrimitives.Sqrt(vm, den);
            }
            else TensorPrimitives.Sqrt(vv, den);
            TensorPrimitives.Divide(den, bc2Sqrt, den);
            TensorPrimitives.Add(den, tEps, den);
            TensorPrimitives.Divide(mm, den, den);
            TensorPrimitives.Multiply(den, stepSize, den); // addcdiv_: w + (−step)·(m/denom), unfused like PyTorch
            TensorPrimitives.Add(ww, den, ww);
        });
    }
}

internal sealed class LegacyAdamW : LegacyAdam
{
    public LegacyAdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : base(One(parameters), lr, beta1, beta2, eps, weightDecay, amsgrad, maximize, true, "AdamW") { }

    public LegacyAdamW(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : base(groups, lr, beta1, beta2, eps, weightDecay, amsgrad, maximize, true, "AdamW") { }
}



internal sealed class LegacyRMSprop : Optimizer
{
    public double Alpha { get; }
    public double Eps { get; }
    public double Momentum { get; }
    public bool Centered { get; }
    public bool Maximize { get; }

    public LegacyRMSprop(IEnumerable<Tensor> parameters, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : base(One(parameters), lr, weightDecay, "RMSprop")
    {
        if (!(alpha >= 0)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"LegacyRMSprop: alpha must be ≥ 0, got {alpha}.");
        if (!(momentum >= 0)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"LegacyRMSprop: momentum must be ≥ 0, got {momentum}.");
        Alpha = alpha; Eps = eps; Momentum = momentum; Centered = centered; Maximize = maximize;
    }

    protected override void Update<T>(T[] w, int wOff, T[] g, int n, Dictionary<string, Tensor> state, long step, double lr, double wd, ParamGroup group, Tensor param)
    {
        double mu = group.Momentum ?? Momentum;
        var sq = Buffer<T>(state, "square_avg", param, out _);
        var ga = Centered ? Buffer<T>(state, "grad_avg", param, out _) : null;
        var mb = mu > 0 ? Buffer<T>(state, "momentum_buffer", param, out _) : null;
        T tA = T.CreateTruncating(Alpha), tAc = T.CreateTruncating(1 - Alpha), tEps = T.CreateTruncating(Eps);
        T tMu = T.CreateTruncating(mu), tLr = T.CreateTruncating(-lr);
        Chunked<T>(w, wOff, g, n, wd, Maximize, true, (s, ww, gg, avg) =>
        {
            int len = ww.Length;
            var ss = sq.AsSpan(s, len);
            DecayAddSquare(ss, tA, tAc, gg, avg);
            if (ga != null)
            {
                var aa = ga.AsSpan(s, len);
                TensorPrimitives.Multiply(aa, tA, aa);
                TensorPrimitives.MultiplyAdd(gg, tAc, aa, aa);
                TensorPrimitives.Multiply(aa, aa, avg);
                TensorPrimitives.Subtract(ss, avg, avg);
                TensorPrimitives.Sqrt(avg, avg);
            }
            else TensorPrimitives.Sqrt(ss, avg);
            TensorPrimitives.Add(avg, tEps, avg);
            TensorPrimitives.Divide(gg, avg, avg);
            if (mb != null)
            {
                var bb = mb.AsSpan(s, len);
                TensorPrimitives.Multiply(bb, tMu, bb);
                TensorPrimitives.Add(bb, avg, bb);
                TensorPrimitives.MultiplyAdd(bb, tLr, ww, ww);
            }
            else
            {
                TensorPrimitives.Multiply(avg, tLr, avg); // addcdiv_: unfused, as PyTorch
                TensorPrimitives.Add(ww, avg, ww);
            }
        });
    }
}



internal sealed class LegacyAdagrad : Optimizer
{
    public double LrDecay { get; }
    public double InitialAccumulatorValue { get; }
    public double Eps { get; }
    public bool Maximize { get; }

    public LegacyAdagrad(IEnumerable<Tensor> parameters, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0, double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : base(One(parameters), lr, weightDecay, "Adagrad")
    {
        if (!(lrDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(lrDecay), lrDecay, $"LegacyAdagrad: lr_decay must be ≥ 0, got {lrDecay}.");
        if (!(initialAccumulatorValue >= 0)) throw new ArgumentOutOfRangeException(nameof(initialAccumulatorValue), initialAccumulatorValue, "LegacyAdagrad: initial_accumulator_value must be ≥ 0.");
        LrDecay = lrDecay; InitialAccumulatorValue = initialAccumulatorValue; Eps = eps; Maximize = maximize;
    }

    protected override void Update<T>(T[] w, int wOff, T[] g, int n, Dictionary<string, Tensor> state, long step, double lr, double wd, ParamGroup group, Tensor param)
    {
        var sum = Buffer<T>(state, "sum", param, out _, InitialAccumulatorValue);
        T clr = T.CreateTruncating(-(lr / (1 + (step - 1) * LrDecay))), tEps = T.CreateTruncating(Eps);
        Chunked<T>(w, wOff, g, n, wd, Maximize, true, (s, ww, gg, std) =>
        {
            var ss = sum.AsSpan(s, ww.Length);
            TensorPrimitives.Multiply(gg, gg, std); // addcmul_ order: s + g·g, unfused as PyTorch
            TensorPrimitives.Add(ss, std, ss);
            TensorPrimitives.Sqrt(ss, std);
            TensorPrimitives.Add(std, tEps, std);
            TensorPrimitives.Divide(gg, std, std);
            TensorPrimitives.Multiply(std, clr, std);
            TensorPrimitives.Add(ww, std, ww);
        });
    }
}
