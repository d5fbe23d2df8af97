using System.Numerics;
using Kindling.Registry;

namespace Kindling.NN;

public static partial class Functional
{
    /// <summary>
    /// Softplus (PyTorch's <c>F.softplus</c>): y = log(1 + e^(βx)) / β, and y = x where βx &gt; threshold (the curve equals
    /// x there to within e^(−threshold)). Defaults β = 1, threshold = 20. Any shape. Gradient σ(βx), and 1 above the
    /// threshold. Computed in float64 as max(βx, 0) + log1p(e^(−|βx|)) with an accurate log1p (the tail e^(−|βx|) is
    /// below 1e-13 at |βx| = 30: the usual log(1 + ·) would keep none of its digits), then rounded.
    /// </summary>
    /// <param name="input">Any tensor (float32 or float64).</param>
    /// <param name="beta">β &gt; 0, the sharpness (default 1).</param>
    /// <param name="threshold">Above βx = threshold the output is x (default 20).</param>
    [Activation("softplus", "Softplus", "log(1 + e^(βx))/β, x above the threshold: a smooth ReLU", Order = 80)]
    public static Tensor Softplus(Tensor input, [Option("β, the sharpness", Min = 0, MinExclusive = true)] double beta = 1,
        [Option("βx above which the output is x")] double threshold = 20)
    {
        if (!(beta > 0)) throw new ArgumentOutOfRangeException(nameof(beta), beta, $"softplus: beta must be positive, got {beta}.");
        if (double.IsNaN(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "softplus: threshold must be a number, got NaN.");
        LossCheck.Float("softplus", "input", input);
        return input.DType == DType.Float32 ? Softplus<float>(input, beta, threshold) : Softplus<double>(input, beta, threshold);
    }

    private static Tensor Softplus<T>(Tensor input, double beta, double threshold) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = input.Contiguous().DenseData<T>();
        var y = GC.AllocateUninitializedArray<T>(x.Length); // every element is written below
        for (int i = 0; i < x.Length; i++)
        {
            double bx = beta * double.CreateTruncating(x[i]);
            y[i] = bx > threshold ? x[i] : T.CreateTruncating((Math.Max(bx, 0) + AccurateLog1p(Math.Exp(-Math.Abs(bx)))) / beta);
        }
        var shape = input.Dims;
        return Autograd.Record(Tensor.Wrap(y, shape), "SoftplusBackward", [input], g =>
        {
            var gg = g.Contiguous().DenseData<T>();
            var gx = GC.AllocateUninitializedArray<T>(x.Length);
            for (int i = 0; i < x.Length; i++)
            {
                double bx = beta * double.CreateTruncating(x[i]);
                gx[i] = bx > threshold ? gg[i] : T.CreateTruncating(double.CreateTruncating(gg[i]) / (1 + Math.Exp(-bx)));
            }
            return [Tensor.Wrap(gx, shape)];
        }, input);
    }
}
