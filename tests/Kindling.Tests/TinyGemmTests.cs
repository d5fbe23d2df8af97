using Kindling.Kernels;

namespace Kindling.Tests;

/// <summary>
/// The unpacked small-product GEMM (Kernels/TinyGemm.cs) against a float64 reference, at every SIMD level: each
/// transposition it serves, widths around every register block (1, 5, 10, 15, 16, 17, 31, 33, 64, 65, 128, 130),
/// k from 1 to its limit, α and β (β = 0 must not read C: NaN there stays out), padded leading dimensions; and
/// Gemm.Sgemm routing a small model's shapes to it gives the same numbers.
/// </summary>
[Collection("Isa level")]
public class TinyGemmTests
{
    public static TheoryData<int> Levels() => new(0, 256, 512);

    private static float[] Rand(Random r, int n) => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();

    private static void Check(bool ta, bool tb, int m, int n, int k, float alpha, float beta, Random r, Action<float[], int, float[], int, float[], int> gemm)
    {
        int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
        var a = Rand(r, (ta ? k : m) * lda);
        var b = Rand(r, (tb ? n : k) * ldb);
        var c = Rand(r, m * ldc);
        if (beta == 0) for (int i = 0; i < c.Length; i++) c[i] = float.NaN;
        var c0 = (float[])c.Clone();
        gemm(a, lda, b, ldb, c, ldc);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0, sa = 0;
                for (int p = 0; p < k; p++)
                {
                    double v = (double)(ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
                    s += v; sa += Math.Abs(v);
                }
                double want = alpha * s + (beta == 0 ? 0 : beta * (double)c0[i * ldc + j]);
                double tol = 1e-6 * (Math.Abs(alpha) * sa + (beta == 0 ? 0 : Math.Abs(beta * c0[i * ldc + j]))) + 1e-7 * k;
                Assert.True(Math.Abs(c[i * ldc + j] - want) <= tol, $"ta={ta} tb={tb} {m}x{n}x{k} α={alpha} β={beta} C[{i},{j}] = {c[i * ldc + j]:R}, want {want:R} at {Isa.Level}");
            }
            // The padding column of each C row is never written.
            Assert.Equal(BitConverter.SingleToInt32Bits(c0[i * ldc + n]), BitConverter.SingleToInt32Bits(c[i * ldc + n]));
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void MatchesFloat64AtEveryWidthAndTransposition(int level)
    {
        var l = (IsaLevel)level;
        Skip.If(l > Isa.Supported, $"this CPU runs up to {Isa.Supported}, not {l}");
        using var _ = Isa.Force(l);
        var r = new Random(level + 5);
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true) })
            foreach (int n in new[] { 1, 5, 10, 15, 16, 17, 31, 33, 64, 65, 128, 130 })
                foreach (int k in new[] { 1, 7, 16, 33, 64, 128, TinyGemm.MaxK })
                    foreach (var (alpha, beta) in new[] { (1f, 0f), (1.25f, 1f), (-0.5f, 0.75f) })
                    {
                        int m = n == 1 ? 64 : 3;
                        Check(ta, tb, m, n, k, alpha, beta, r, (a, lda, b, ldb, c, ldc) => TinyGemm.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc));
                    }
    }

    [Fact]
    public void SgemmRoutesSmallModelShapesHere()
    {
        var r = new Random(9);
        // The 10-128-1 and 10-5-1 networks at batch 64: forward, weight gradient, input gradient.
        foreach (var (ta, tb, m, n, k) in new[] { (false, true, 64, 128, 10), (true, false, 128, 10, 64), (false, false, 64, 10, 128),
                     (false, true, 64, 1, 128), (true, false, 1, 128, 64), (false, true, 64, 5, 10), (true, false, 5, 10, 64) })
        {
            Assert.True(TinyGemm.Applies(ta, tb, m, n, k), $"{m}x{n}x{k} should take the small path");
            Check(ta, tb, m, n, k, 1f, 1f, r, (a, lda, b, ldb, c, ldc) => Gemm.Sgemm(ta, tb, m, n, k, 1f, a, lda, b, ldb, 1f, c, ldc));
        }
        Assert.False(TinyGemm.Applies(true, true, 4, 4, 4));
        Assert.False(TinyGemm.Applies(false, false, 8, 8, TinyGemm.MaxK + 1));
        Assert.False(TinyGemm.Applies(false, false, 256, 256, 256));
    }
}
