using System.Numerics.Tensors;

namespace Kindling.Optim;

/// <summary>
/// RMSprop's scaling: s ← αs + (1 − α)u² (state "square_avg"); centered: a ← αa + (1 − α)u ("grad_avg") and
/// u ← u / (√(s − a²) + ε), else u ← u / (√s + ε) — PyTorch 1.13's operation order.
/// </summary>
public sealed class ScaleByRms(double alpha, double eps, bool centered = false) : GradientTransform
{
    private Array? _sq, _ga;
    private double _a, _ac, _eps;

    public override bool Begin<T>(UpdateContext ctx)
    {
        _sq = ctx.Buffer<T>("square_avg", out _);
        _ga = centered ? ctx.Buffer<T>("grad_avg", out _) : null;
        _a = alpha; _ac = 1 - alpha; _eps = eps;
        return true;
    }

    public override void Apply<T>(int start, Span<T> w, Span<T> u, Span<T> avg)
    {
        int len = u.Length;
        T a = T.CreateTruncating(_a), ac = T.CreateTruncating(_ac);
        var ss = ((T[])_sq!).AsSpan(start, len);
        Optimizer.DecayAddSquare(ss, a, ac, u, avg);
        if (_ga != null)
        {
            var aa = ((T[])_ga).AsSpan(start, len);
            TensorPrimitives.Multiply(aa, a, aa);
            TensorPrimitives.MultiplyAdd(u, ac, aa, aa);
            TensorPrimitives.Multiply(aa, aa, avg);
            TensorPrimitives.Subtract(ss, avg, avg);
            TensorPrimitives.Sqrt(avg, avg);
        }
        else TensorPrimitives.Sqrt(ss, avg);
        TensorPrimitives.Add(avg, T.CreateTruncating(_eps), avg);
        TensorPrimitives.Divide(u, avg, u);
    }
}
