using System.Numerics.Tensors;

namespace Kindling.Optim;

/// <summary>
/// RMSprop with PyTorch 1.13's rule: g = ±∇ + λw; s = αs + (1 − α)g²; centered: a = αa + (1 − α)g, avg = √(s − a²) + ε,
/// else avg = √s + ε; with momentum μ: b = μb + g/avg, w ← w − lr·b; else w ← w − lr·g/avg.
/// Defaults: lr 1e-2, α 0.99, ε 1e-8, weight decay 0, momentum 0, centered false.
/// </summary>
public sealed class RMSprop : Optimizer
{
    public double Alpha { get; }
    public double Eps { get; }
    public double Momentum { get; }
    public bool Centered { get; }
    public bool Maximize { get; }

    public RMSprop(IEnumerable<Tensor> parameters, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : base(One(parameters), lr, weightDecay, "RMSprop")
    {
        if (!(alpha >= 0)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"RMSprop: alpha must be ≥ 0, got {alpha}.");
        if (!(momentum >= 0)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"RMSprop: momentum must be ≥ 0, got {momentum}.");
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
