using Kindling.Kernels;

namespace Kindling.Tests;

/// <summary>
/// Float32 reductions as accurate as PyTorch's cascade sums, at every SIMD level: Sum/Mean/Var/Std/Norm over 10⁷–4·10⁸
/// elements, whole and along dimensions, contiguous, strided and expanded (stride 0), within 1e-6 relative of the
/// float64 result computed here; the cascade's block and level boundaries exact on integer data (any lost or doubled
/// element shows); gradients through the expanded-view shortcuts equal those of the materialised copy.
/// </summary>
[Collection("Isa level")]
public class CascadeSumTests
{
    public static TheoryData<int> Levels() => new(0, 256, 512);

    private static IDisposable At(int level)
    {
        var l = (IsaLevel)level;
        Skip.If(l > Isa.Supported, $"this CPU runs up to {Isa.Supported}, not {l}");
        return Isa.Force(l);
    }

    private static void Rel(double want, double got, double tol, string what) =>
        Assert.True(Math.Abs(got - want) <= tol * Math.Abs(want), $"{what}: got {got:R}, float64 {want:R} (relative {Math.Abs(got - want) / Math.Abs(want):E2}, allowed {tol:E1}) at {Isa.Level}");

    private static float[] Uniform(int n, int seed, double lo = 0, double hi = 1)
    {
        var r = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(lo + (hi - lo) * r.NextDouble());
        return v;
    }

    private static double Sum64(ReadOnlySpan<float> v) { double s = 0; foreach (var x in v) s += x; return s; }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void MeanOfTenMillionTenthsIsATenth(int level)
    {
        using var _ = At(level);
        double tenth = (double)0.1f;
        Rel(tenth, Tensor.Full([10_000_000], 0.1).Mean().ItemDouble(), 1e-6, "mean of 1e7 × 0.1");
        Rel(3e7 * tenth, Tensor.Full([30_000_000], 0.1).Sum().ItemDouble(), 1e-6, "sum of 3e7 × 0.1");
        var m = Tensor.Full([4, 2_500_000], 0.1).Mean(1).ToDoubleArray();
        foreach (var v in m) Rel(tenth, v, 1e-6, "mean(1) of 2.5e6 × 0.1");
        var c = Tensor.Full([2_500_000, 4], 0.1).Mean(0).ToDoubleArray();
        foreach (var v in c) Rel(tenth, v, 1e-6, "mean(0) of 2.5e6 rows × 0.1");
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void ExpandedViewsSumWithoutSaturating(int level)
    {
        using var _ = At(level);
        var e = Tensor.Ones(1, 1).Expand(20000, 20000);
        Assert.Equal(4e8, e.Sum().ItemDouble());
        Assert.Equal(1.0, e.Mean().ItemDouble());
        Assert.All(e.Sum(0).ToDoubleArray(), v => Assert.Equal(20000.0, v));
        Assert.All(e.Mean(1, keepDim: true).ToDoubleArray(), v => Assert.Equal(1.0, v));
        Assert.Equal(new[] { 20000, 1 }, e.Mean(1, keepDim: true).Shape);
        // A row of distinct values repeated 20000 times: every reduction against the float64 of the row, k times.
        var row = Uniform(20000, 7, -1, 2);
        var x = Tensor.FromArray(row, 1, 20000).Expand(20000, 20000);
        double s = Sum64(row), n = 4e8, mean = s / 20000, m2 = 0, sq = 0, ab = 0;
        foreach (var v in row) { m2 += (v - mean) * (v - mean); sq += (double)v * v; ab += Math.Abs(v); }
        Rel(s * 20000, x.Sum().ItemDouble(), 1e-6, "sum of expanded rows");
        Rel(mean, x.Mean().ItemDouble(), 1e-6, "mean of expanded rows");
        Rel(m2 * 20000 / (n - 1), x.Var().ItemDouble(), 1e-6, "var of expanded rows");
        Rel(Math.Sqrt(m2 * 20000 / n), x.Std(correction: 0).ItemDouble(), 1e-6, "std of expanded rows");
        Rel(Math.Sqrt(sq * 20000), x.Norm().ItemDouble(), 1e-6, "2-norm of expanded rows");
        Rel(ab * 20000, x.Norm(1).ItemDouble(), 1e-6, "1-norm of expanded rows");
        var col = x.Sum(0).ToDoubleArray();
        for (int j = 0; j < 20000; j += 997) Rel(row[j] * 20000.0, col[j], 1e-6, $"sum(0) column {j}");
        Rel(s, x.Sum(1).ToDoubleArray()[12345], 1e-6, "sum(1) of one expanded row");
        // Integers: exact, and the types keep.
        Assert.Equal(4_000_000_000L, Tensor.Full([1], 10, DType.Int64).Expand(400_000_000).Sum().ToInt64Array()[0]);
        Assert.Equal(DType.Int64, Tensor.FromArray(new[] { true }).Expand(5, 7).Sum().DType);
        Assert.Equal(35L, Tensor.FromArray(new[] { true }).Expand(5, 7).Sum().ToInt64Array()[0]);
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void ContiguousAndStridedReductionsMatchFloat64(int level)
    {
        using var _ = At(level);
        const int r = 2000, c = 5000;
        var data = Uniform(r * c, 11, 0, 1);
        var x = Tensor.FromArray(data, r, c);
        double total = Sum64(data), mean = total / data.Length, m2 = 0, sq = 0;
        foreach (var v in data) { m2 += (v - mean) * (v - mean); sq += (double)v * v; }
        foreach (var (t, name) in new[] { (x, "contiguous"), (x.T.Contiguous().T, "transposed"), (x.T, "transposed view") })
        {
            Rel(total, t.Sum().ItemDouble(), 1e-6, $"{name} sum");
            Rel(mean, t.Mean().ItemDouble(), 1e-6, $"{name} mean");
            Rel(m2 / (data.Length - 1), t.Var().ItemDouble(), 1e-6, $"{name} var");
            Rel(Math.Sqrt(m2 / data.Length), t.Std(correction: 0).ItemDouble(), 1e-6, $"{name} std");
            Rel(Math.Sqrt(sq), t.Norm().ItemDouble(), 1e-6, $"{name} norm");
        }
        // Along each dimension: rows of 5000 and columns of 2000, against float64 per output.
        var rows = x.Sum(1).ToDoubleArray();
        var cols = x.Mean(0).ToDoubleArray();
        var colVar = x.Var(0).ToDoubleArray();
        for (int i = 0; i < r; i += 37) Rel(Sum64(data.AsSpan(i * c, c)), rows[i], 1e-6, $"sum(1) row {i}");
        for (int j = 0; j < c; j += 101)
        {
            double s = 0, q = 0;
            for (int i = 0; i < r; i++) s += data[i * c + j];
            double mj = s / r;
            for (int i = 0; i < r; i++) q += (data[i * c + j] - mj) * (data[i * c + j] - mj);
            Rel(mj, cols[j], 1e-6, $"mean(0) column {j}");
            Rel(q / (r - 1), colVar[j], 1e-6, $"var(0) column {j}");
        }
        // A strided slice (every other element of a long row) and a long column reduction (n = 10⁷ rows of 1).
        var every = Tensor.FromArray(data).Slice(0, 1, null, 2);
        double odd = 0;
        for (int i = 1; i < data.Length; i += 2) odd += data[i];
        Rel(odd, every.Sum().ItemDouble(), 1e-6, "sum of a step-2 slice");
        Rel(total, Tensor.FromArray(data, data.Length, 1).Sum(0).ToDoubleArray()[0], 1e-6, "sum(0) of 1e7 rows");
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void BlockAndLevelBoundariesLoseNoElement(int level)
    {
        using var _ = At(level);
        // Small integers sum exactly in float32 in any order, so any element dropped or counted twice shows.
        int[] lengths = [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 257, 511, 512, 513, 1023, 1024, 1025,
            4095, 4096, 4097, 32767, 32768, 32769, 262143, 262144, 262145, 2_097_153];
        foreach (int n in lengths)
        {
            var v = new float[n];
            for (int i = 0; i < n; i++) v[i] = i % 7 - 3 + (i % 3 == 0 ? 0.5f : 0);
            double want = Sum64(v);
            Assert.Equal(want, Cascade.Sum<float>(v));
            Assert.Equal(want, Cascade.Sum<double>(v.Select(f => (double)f).ToArray()));
        }
        foreach (int n in new[] { 1, 7, 8, 9, 63, 64, 65, 513, 4097 })
            foreach (int inner in new[] { 1, 3, 511, 512, 513, 1030 })
            {
                var v = new float[n * inner];
                for (int i = 0; i < v.Length; i++) v[i] = (i * 13 % 11) - 5;
                var dst = new float[inner];
                Cascade.Columns<float>(v, n, inner, dst);
                var acc = Enumerable.Repeat(1f, inner).ToArray();
                Cascade.Columns<float>(v, n, inner, acc, accumulate: true);
                for (int j = 0; j < inner; j++)
                {
                    double s = 0;
                    for (int i = 0; i < n; i++) s += v[i * inner + j];
                    Assert.True(s == dst[j], $"columns n={n} inner={inner} column {j}: {dst[j]} vs {s}");
                    Assert.True(s + 1 == acc[j], $"accumulating columns n={n} inner={inner} column {j}: {acc[j]} vs {s + 1}");
                }
            }
    }

    [Fact]
    public void GradientsThroughExpandedReductionsEqualTheMaterialisedOnes()
    {
        var g = new Generator(3);
        var src = Tensor.Randn([1, 6], g, DType.Float64);
        foreach (var (name, f) in new (string, Func<Tensor, Tensor>)[]
        {
            ("sum", t => t.Sum()), ("mean", t => t.Mean()), ("var", t => t.Var()), ("std", t => t.Std(correction: 0)),
            ("norm2", t => t.Norm()), ("norm3", t => t.Norm(3)), ("norm1", t => t.Norm(1)), ("sum(0)", t => (t.Sum(0) * t.Sum(0)).Sum()),
            ("mean(1)", t => (t.Mean(1) * Tensor.Arange(5, DType.Float64)).Sum()),
        })
        {
            var a = src.Clone().RequiresGrad_();
            var b = src.Clone().RequiresGrad_();
            var ya = f(a.Expand(5, 6));
            var yb = f(b.Expand(5, 6).Contiguous());
            Assert.Equal(yb.ItemDouble(), ya.ItemDouble(), 12);
            ya.Backward(); yb.Backward();
            var ga = a.Grad!.ToDoubleArray(); var gb = b.Grad!.ToDoubleArray();
            for (int i = 0; i < 6; i++) Assert.True(Math.Abs(ga[i] - gb[i]) <= 1e-12 * (1 + Math.Abs(gb[i])), $"{name}: grad {i} {ga[i]:R} vs {gb[i]:R}");
        }
    }
}
