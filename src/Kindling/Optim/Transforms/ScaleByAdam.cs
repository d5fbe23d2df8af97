using System.Numerics.Tensors;

namespace Kindling.Optim;

/// <summary>
/// Adam's scaling: m ← β₁m + (1 − β₁)u, v ← β₂v + (1 − β₂)u² (state "exp_avg", "exp_avg_sq"; with amsgrad v̂ = max of
/// all v in "max_exp_avg_sq"), u ← m / (√v̂ / √(1 − β₂ᵗ) + ε), and the learning rate divided by 1 − β₁ᵗ — PyTorch 1.13's
/// operation order (the bias correction of m is folded into the step size). β₁ is the group's
/// <see cref="ParamGroup.Momentum"/> when set (what OneCycleLR cycles).
/// </summary>
public sealed class ScaleByAdam(double beta1, double beta2, double eps, bool amsgrad = false) : GradientTransform
{
    private Array? _m, _v, _vmax;
    private double _b1, _b1c, _b2, _b2c, _eps, _bc2Sqrt;

    public override bool Begin<T>(UpdateContext ctx)
    {
        double b1 = ctx.Group.Momentum ?? beta1;
        _m = ctx.Buffer<T>("exp_avg", out _);
        _v = ctx.Buffer<T>("exp_avg_sq", out _);
        _vmax = amsgrad ? ctx.Buffer<T>("max_exp_avg_sq", out _) : null;
        ctx.LrDivisor = 1 - Math.Pow(b1, ctx.Step);
        _bc2Sqrt = Math.Sqrt(1 - Math.Pow(beta2, ctx.Step));
        _b1 = b1; _b1c = 1 - b1; _b2 = beta2; _b2c = 1 - beta2;
        _eps = eps;
        return true;
    }

    public override void Apply<T>(int start, Span<T> w, Span<T> u, Span<T> den)
    {
        int len = u.Length;
        var m = ((T[])_m!).AsSpan(start, len);
        var v = ((T[])_v!).AsSpan(start, len);
        TensorPrimitives.Multiply(m, T.CreateTruncating(_b1), m);
        TensorPrimitives.MultiplyAdd(u, T.CreateTruncating(_b1c), m, m);
        Optimizer.DecayAddSquare(v, T.CreateTruncating(_b2), T.CreateTruncating(_b2c), u, den);
        if (_vmax != null)
        {
            var vm = ((T[])_vmax).AsSpan(start, len);
            TensorPrimitives.Max(vm, v, vm);
            TensorPrimitives.Sqrt(vm, den);
        }
        else TensorPrimitives.Sqrt(v, den);
        TensorPrimitives.Divide(den, T.CreateTruncating(_bc2Sqrt), den);
        TensorPrimitives.Add(den, T.CreateTruncating(_eps), den);
        TensorPrimitives.Divide(m, den, u);
    }
}
