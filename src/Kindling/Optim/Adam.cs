using System.Numerics.Tensors;

namespace Kindling.Optim;

/// <summary>
/// Adam with PyTorch 1.13's rule (and AdamW's decoupled weight decay when <c>decoupled</c>): g = ±∇ (+ λw for Adam),
/// m = β₁m + (1 − β₁)g, v = β₂v + (1 − β₂)g², denom = √v̂ / √(1 − β₂ᵗ) + ε (v̂ = max of all v with amsgrad),
/// w ← w − lr/(1 − β₁ᵗ)·m/denom. AdamW first multiplies w by 1 − lr·λ. Defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8,
/// weight decay 0 (AdamW: 1e-2), amsgrad false, maximize false.
/// </summary>
public class Adam : Optimizer
{
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public bool Amsgrad { get; }
    public bool Maximize { get; }
    private readonly bool _decoupled;

    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this(One(parameters), lr, beta1, beta2, eps, weightDecay, amsgrad, maximize, false, "Adam") { }

    public Adam(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this(groups, lr, beta1, beta2, eps, weightDecay, amsgrad, maximize, false, "Adam") { }

    protected Adam(IEnumerable<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay, bool amsgrad, bool maximize, bool decoupled, string name)
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

/// <summary>Adam with decoupled weight decay (Loshchilov &amp; Hutter): w ← w·(1 − lr·λ) before the Adam step. Default λ = 1e-2.</summary>
public sealed class AdamW : Adam
{
    public AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : base(One(parameters), lr, beta1, beta2, eps, weightDecay, amsgrad, maximize, true, "AdamW") { }

    public AdamW(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : base(groups, lr, beta1, beta2, eps, weightDecay, amsgrad, maximize, true, "AdamW") { }
}
