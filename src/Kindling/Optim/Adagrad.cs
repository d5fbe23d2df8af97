using System.Numerics.Tensors;

namespace Kindling.Optim;

/// <summary>
/// Adagrad with PyTorch 1.13's rule: g = ±∇ + λw; clr = lr / (1 + (t − 1)·lr_decay); s = s + g²; w ← w − clr·g/(√s + ε).
/// Defaults: lr 1e-2, lr_decay 0, weight decay 0, initial accumulator 0, ε 1e-10.
/// </summary>
public sealed class Adagrad : Optimizer
{
    public double LrDecay { get; }
    public double InitialAccumulatorValue { get; }
    public double Eps { get; }
    public bool Maximize { get; }

    public Adagrad(IEnumerable<Tensor> parameters, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0, double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : base(One(parameters), lr, weightDecay, "Adagrad")
    {
        if (!(lrDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(lrDecay), lrDecay, $"Adagrad: lr_decay must be ≥ 0, got {lrDecay}.");
        if (!(initialAccumulatorValue >= 0)) throw new ArgumentOutOfRangeException(nameof(initialAccumulatorValue), initialAccumulatorValue, "Adagrad: initial_accumulator_value must be ≥ 0.");
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
