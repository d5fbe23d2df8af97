using System.Numerics;
using Kindling.Registry;

namespace Kindling.NN;

public static partial class Functional
{
    /// <summary>
    /// Log-cosh regression loss: ℓ = log(cosh(x − y)). About d²/2 for small d = x − y and |d| − log 2 for large ones:
    /// squared error near the target, absolute error for outliers, and smooth everywhere (its gradient is tanh d).
    /// Not a torch.nn loss; the parity cases compute it with torch ops in the same stable form.
    /// <para>Computed without overflow or cancellation: for |d| ≤ 1, log cosh d = log1p(m² / (2(1 + m))) with
    /// m = expm1(|d|) (cosh d − 1 = m²/(2eᵈ), no 1 − 1 cancellation near 0); above, |d| + log1p(e^(−2|d|)) − log 2
    /// (no cosh overflow: finite for any finite d). Both in float64, with accurate log1p/expm1, then rounded.</para>
    /// <para>Shapes: input and target identical (no broadcasting), any rank; Mean averages over all elements, Sum adds
    /// (a compensated float64 sum, so long float32 reductions do not drift), None keeps the input's shape. One fused
    /// autograd node; both arguments are differentiable (∂/∂x = tanh d, ∂/∂y = −tanh d).</para>
    /// </summary>
    /// <param name="input">Predictions.</param>
    /// <param name="target">Targets, same shape and dtype as the input.</param>
    /// <param name="reduction">None, Mean (default) or Sum.</param>
    [Loss("log_cosh_loss", "LogCoshLoss", "log(cosh(x − y)): squared error near the target, absolute error for outliers, smooth",
        ShortName = "log_cosh", Aliases = ["log_cosh", "logcosh"], Order = 125, PointwiseTasks = ["regression"])]
    public static Tensor LogCoshLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        const string L = "log_cosh_loss";
        LossCheck.ElementwisePair(L, reduction, input, target);
        LossCheck.SameDType(L, input, target, "target");
        return input.DType == DType.Float32 ? LogCosh<float>(input, target, reduction) : LogCosh<double>(input, target, reduction);
    }

    private static Tensor LogCosh<T>(Tensor input, Tensor target, Reduction reduction) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = input.DenseData<T>();
        var t = target.DenseData<T>();
        var each = GC.AllocateUninitializedArray<T>(x.Length); // every element is written below
        double sum = 0, c = 0; // Neumaier's compensated sum
        for (int i = 0; i < x.Length; i++)
        {
            T v = T.CreateTruncating(LogCoshOf(double.CreateTruncating(x[i]) - double.CreateTruncating(t[i])));
            each[i] = v;
            double vd = double.CreateTruncating(v), s = sum + vd;
            c += Math.Abs(sum) >= Math.Abs(vd) ? (sum - s) + vd : (vd - s) + sum;
            sum = s;
        }
        var y = ReduceEach(each, sum + c, input.Dims, reduction);
        var shape = input.Dims;
        return Autograd.Record(y, "LogCoshLossBackward", [input, target], g =>
        {
            var (gEach, scale) = Upstream<T>(g, reduction, x.Length);
            T[]? gx = input.RequiresGrad ? GC.AllocateUninitializedArray<T>(x.Length) : null, gt = target.RequiresGrad ? GC.AllocateUninitializedArray<T>(x.Length) : null;
            for (int i = 0; i < x.Length; i++)
            {
                T d = T.CreateTruncating(Math.Tanh(double.CreateTruncating(x[i]) - double.CreateTruncating(t[i])));
                T gi = (gEach == null ? scale : gEach[i] * scale) * d;
                if (gx != null) gx[i] = gi;
                if (gt != null) gt[i] = -gi;
            }
            return [gx == null ? null : Tensor.Wrap(gx, shape), gt == null ? null : Tensor.Wrap(gt, shape)];
        }, input, target);
    }

    /// <summary>log cosh d in float64, accurate to a few ulps for every d (see <see cref="LogCoshLoss"/>).</summary>
    private static double LogCoshOf(double d)
    {
        double a = Math.Abs(d);
        if (a <= 1)
        {
            double m = AccurateExpm1(a);
            return AccurateLog1p(m * m / (2 * (1 + m)));
        }
        return a + AccurateLog1p(Math.Exp(-2 * a)) - 0.69314718055994530942; // log 2
    }

    // .NET's double.ExpM1 and LogP1 are exp(x) − 1 and log(1 + x), which lose every digit near 0; these are Kahan's
    // corrections, exact to a few ulps: the rounding of 1 + x (or of eˣ) is undone by the ratio that carries it.
    private static double AccurateLog1p(double x)
    {
        double u = 1 + x;
        return u == 1 ? x : Math.Log(u) * x / (u - 1);
    }

    private static double AccurateExpm1(double x)
    {
        double u = Math.Exp(x);
        if (u == 1) return x;
        double um1 = u - 1;
        return um1 == -1 ? -1 : um1 * x / Math.Log(u);
    }
}
