using System.Numerics.Tensors;

namespace Kindling.Optim;

/// <summary>
/// Stochastic gradient descent with PyTorch 1.13's rule: d = ±g + λw; with momentum μ, b = μb + (1 − τ)d (b = d at the
/// first step) and d = b, or d = d + μb with Nesterov; w ← w − lr·d. Defaults: momentum 0, dampening τ 0, weight decay λ 0,
/// nesterov false, maximize false. lr is required.
/// </summary>
public sealed class SGD : Optimizer
{
    public double Momentum { get; }
    public double Dampening { get; }
    public bool Nesterov { get; }
    public bool Maximize { get; }

    public SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : this(One(parameters), lr, momentum, dampening, weightDecay, nesterov, maximize) { }

    public SGD(IEnumerable<ParamGroup> groups, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : base(groups, lr, weightDecay, "SGD")
    {
        if (!(momentum >= 0)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"SGD: momentum must be ≥ 0, got {momentum}.");
        if (nesterov && (momentum <= 0 || dampening != 0)) throw new ArgumentException("SGD: Nesterov momentum requires a momentum > 0 and zero dampening.");
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
