using Kindling.NN;

namespace Kindling.Tests;

/// <summary>
/// Dropout (PyTorch's <c>nn.Dropout</c>): in training each element is zeroed with probability p, independently, and the
/// kept ones are scaled by 1/(1 − p); in evaluation it is the identity; the gradient is the same mask times the scale.
/// The mask is random, so the checks are statistical with bounds that a correct mask fails with probability below 1e-6.
/// </summary>
public class DropoutTests
{
    private const int N = 1 << 20;

    /// <summary>|observed − p| within 5.5 standard deviations of a Binomial(n, p) fraction (two-sided probability &lt; 4e-8).</summary>
    private static void FractionNear(double observed, double p, int n, string what)
    {
        double bound = 5.5 * Math.Sqrt(p * (1 - p) / n);
        Assert.True(Math.Abs(observed - p) <= bound, $"{what}: zeroed fraction {observed:F5}, expected {p} ± {bound:F5}");
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.8)]
    public void ZeroesAFractionPAndScalesTheRestByOneOverOneMinusP(double p)
    {
        var x = Tensor.Ones(N);
        var y = new Dropout(p, new Generator(3)).Call(x).ToArray();
        float scale = (float)(1 / (1 - p));
        Assert.All(y, v => Assert.True(v == 0 || v == scale, $"an output of {v} is neither 0 nor 1/(1 − p) = {scale}"));
        FractionNear(y.Count(v => v == 0) / (double)N, p, N, "all elements");
        // Independent of position: the even and odd elements and both halves each drop a fraction p.
        FractionNear(y.Where((_, i) => i % 2 == 0).Count(v => v == 0) / (N / 2.0), p, N / 2, "even elements");
        FractionNear(y.Where((_, i) => i % 2 == 1).Count(v => v == 0) / (N / 2.0), p, N / 2, "odd elements");
        FractionNear(y.Take(N / 2).Count(v => v == 0) / (N / 2.0), p, N / 2, "first half");
        FractionNear(y.Skip(N / 2).Count(v => v == 0) / (N / 2.0), p, N / 2, "second half");
        // Independent of the neighbour: after a zero the next element is zero with probability p as well.
        int afterZero = 0, bothZero = 0;
        for (int i = 0; i + 1 < N; i++) if (y[i] == 0) { afterZero++; if (y[i + 1] == 0) bothZero++; }
        FractionNear(bothZero / (double)afterZero, p, afterZero, "elements after a zeroed one");
        // The expectation is preserved: mean of the output ≈ 1.
        Assert.True(Math.Abs(y.Average(v => (double)v) - 1) <= 5.5 * Math.Sqrt(p / (1 - p) / N), $"mean {y.Average(v => (double)v)}");
    }

    [Fact]
    public void GradientIsTheMaskTimesTheScale()
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var x = Tensor.Randn([1000], new Generator(4), dtype).RequiresGrad_();
            var y = Functional.Dropout(x, 0.3, true, new Generator(5));
            var w = Tensor.Randn([1000], new Generator(6), dtype);
            (y * w).Sum().Backward();
            var (xs, ys, ws, gs) = (x.ToDoubleArray(), y.ToDoubleArray(), w.ToDoubleArray(), x.Grad!.ToDoubleArray());
            double scale = dtype == DType.Float32 ? (float)(1 / 0.7) : 1 / 0.7;
            for (int i = 0; i < xs.Length; i++)
            {
                bool kept = ys[i] != 0;
                Assert.Equal(kept ? xs[i] * scale : 0, ys[i], dtype == DType.Float32 ? 1e-6 : 1e-15);
                Assert.Equal(kept ? ws[i] * scale : 0, gs[i], dtype == DType.Float32 ? 1e-6 : 1e-15);
            }
        }
        // And against finite differences, with the same mask drawn at every evaluation (a fresh generator of one seed).
        GradCheck.Check(a => Functional.Dropout(a[0], 0.4, true, new Generator(7)), [Tensor.Randn([50], new Generator(8), DType.Float64).RequiresGrad_()]);
    }

    [Fact]
    public void EvaluationIsTheIdentityAndP0AndP1AreExact()
    {
        var x = Tensor.Randn([4096], new Generator(9)).RequiresGrad_();
        var d = new Dropout(0.5, new Generator(1));
        d.Eval();
        Assert.Equal(x.ToArray(), d.Call(x).ToArray());
        d.Train();
        Assert.NotEqual(x.ToArray(), d.Call(x).ToArray());
        // p = 0: the input unchanged, gradient ones.
        var y0 = new Dropout(0, new Generator(1)).Call(x);
        Assert.Equal(x.ToArray(), y0.ToArray());
        y0.Sum().Backward();
        Assert.All(x.Grad!.ToArray(), g => Assert.Equal(1f, g));
        // p = 1: everything dropped, gradient zeros (PyTorch multiplies by zero, so a NaN input stays NaN).
        x.Grad = null;
        var y1 = new Dropout(1, new Generator(1)).Call(x);
        Assert.All(y1.ToArray(), v => Assert.Equal(0f, v));
        y1.Sum().Backward();
        Assert.All(x.Grad!.ToArray(), g => Assert.Equal(0f, g));
        Assert.True(float.IsNaN(Functional.Dropout(Tensor.FromArray(new[] { float.NaN }), 1.0).Item()));
    }

    [Fact]
    public void MasksAreReproducibleFromTheSeedAndDifferBetweenCalls()
    {
        var x = Tensor.Ones(10_000);
        var a = new Dropout(0.5, new Generator(11));
        var b = new Dropout(0.5, new Generator(11));
        var (a1, b1) = (a.Call(x).ToArray(), b.Call(x).ToArray());
        Assert.Equal(a1, b1);
        var a2 = a.Call(x).ToArray();
        Assert.NotEqual(a1, a2);
        // Two masks drawn in turn agree on about half of the elements, as independent ones do.
        FractionNear(a1.Zip(a2).Count(t => t.First == t.Second) / 10_000.0, 0.5, 10_000, "agreement of successive masks");
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void AProbabilityOutsideZeroOneIsRefused(double p)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => new Dropout(p).Call(Tensor.Ones(3)));
        Assert.Contains("probability must be in [0, 1]", e.Message);
    }
}
