using Kindling.Kernels;

namespace Kindling.Tests;

// Gemm.Path and Gemm.MaxThreads are process-wide knobs; keep these tests from racing each other over them.
[CollectionDefinition("Gemm knobs", DisableParallelization = true)]
public sealed class GemmKnobsCollection;

[Collection("Gemm knobs")]
public class GemmTests
{
    private const float Alpha = 1.25f, Beta = -0.75f;

    private static GemmPath[] Paths() =>
        new[] { GemmPath.Vector512, GemmPath.Vector256, GemmPath.Portable }.Where(p => Resolve(p) == p).ToArray();

    // Every path is a case; one this CPU cannot run reports itself skipped with the reason, rather than vanishing.
    public static TheoryData<GemmPath> AllPaths() => new(GemmPath.Vector512, GemmPath.Vector256, GemmPath.Portable);

    private static void SkipUnlessSupported(GemmPath path) =>
        Skip.If(Resolve(path) != path, $"this CPU cannot run the {path} GEMM path (it falls back to {Resolve(path)})");

    private static GemmPath Resolve(GemmPath p)
    {
        var saved = Gemm.Path;
        try
        {
            Gemm.Path = p;
            return Gemm.EffectivePath;
        }
        finally
        {
            Gemm.Path = saved;
        }
    }

    private static T WithKnobs<T>(GemmPath path, int threads, Func<T> body)
    {
        var (savedPath, savedThreads) = (Gemm.Path, Gemm.MaxThreads);
        try
        {
            Gemm.Path = path;
            Gemm.MaxThreads = threads;
            return body();
        }
        finally
        {
            Gemm.Path = savedPath;
            Gemm.MaxThreads = savedThreads;
        }
    }

    /// <summary>Operands for one case, stored with row strides 3 wider than needed.</summary>
    private sealed class Case
    {
        public required bool TA, TB;
        public required int M, N, K, Lda, Ldb, Ldc;
        public required float[] A, B, C;

        public static Case Make(bool ta, bool tb, int m, int n, int k, int seed, float cFill = float.NaN)
        {
            var rng = new Random(seed);
            int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 3, ldc = n + 3;
            var c = new Case
            {
                TA = ta, TB = tb, M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc,
                A = Random(rng, (ta ? k : m) * lda),
                B = Random(rng, (tb ? n : k) * ldb),
                C = Random(rng, m * ldc),
            };
            // Padding past each row must never be read into the result nor written.
            for (int i = 0; i < m; i++)
                for (int j = n; j < ldc; j++)
                    c.C[i * ldc + j] = cFill;
            return c;
        }

        private static float[] Random(Random rng, int count)
        {
            var x = new float[count];
            for (int i = 0; i < count; i++)
                x[i] = (float)(rng.NextDouble() * 2 - 1);
            return x;
        }

        public float OpA(int i, int p) => TA ? A[p * Lda + i] : A[i * Lda + p];
        public float OpB(int p, int j) => TB ? B[j * Ldb + p] : B[p * Ldb + j];

        public float[] Run(float alpha, float beta)
        {
            var c = (float[])C.Clone();
            Gemm.Sgemm(TA, TB, M, N, K, alpha, A, Lda, B, Ldb, beta, c, Ldc);
            return c;
        }

        /// <summary>Checks <paramref name="got"/> against a double-precision triple loop, with a bound from the fp32 error analysis of a length-K dot product.</summary>
        public void Verify(float[] got, float alpha, float beta, float[] cBefore)
        {
            for (int i = 0; i < M; i++)
            {
                for (int j = 0; j < N; j++)
                {
                    double s = 0, abs = 0;
                    for (int p = 0; p < K; p++)
                    {
                        double t = (double)OpA(i, p) * OpB(p, j);
                        s += t;
                        abs += Math.Abs(t);
                    }
                    double c0 = beta == 0 ? 0 : cBefore[i * Ldc + j];
                    double want = alpha * s + beta * c0;
                    double tol = 2 * (K + 4) * 6e-8 * (Math.Abs(alpha) * abs + Math.Abs(beta * c0)) + 1e-30;
                    double g = got[i * Ldc + j];
                    if (!(Math.Abs(g - want) <= tol))
                        Assert.Fail($"{M}x{N}x{K} tA={TA} tB={TB}: C[{i},{j}] = {g}, want {want} (tol {tol:G3}) under {Gemm.EffectivePath}");
                }
                for (int j = N; j < Ldc; j++)
                    Assert.True(BitConverter.SingleToInt32Bits(got[i * Ldc + j]) == BitConverter.SingleToInt32Bits(cBefore[i * Ldc + j]),
                        $"{M}x{N}x{K}: padding C[{i},{j}] was written");
            }
        }
    }

    private static IEnumerable<(bool, bool)> Transposes() => [(false, false), (true, false), (false, true), (true, true)];

    [SkippableTheory]
    [MemberData(nameof(AllPaths))]
    public void EverySquareSizeUpTo67MatchesNaive(GemmPath path)
    {
        SkipUnlessSupported(path);
        WithKnobs(path, 2, () =>
        {
            for (int s = 1; s <= 67; s++)
                foreach (var (ta, tb) in Transposes())
                {
                    var c = Case.Make(ta, tb, s, s, s, seed: s);
                    c.Verify(c.Run(Alpha, Beta), Alpha, Beta, c.C);
                }
            return 0;
        });
    }

    public static TheoryData<GemmPath, int, int, int> OddShapes()
    {
        var d = new TheoryData<GemmPath, int, int, int>();
        foreach (var path in new[] { GemmPath.Vector512, GemmPath.Vector256, GemmPath.Portable })
            foreach (var (m, n, k) in new[] { (13, 37, 71), (100, 1, 5), (1, 300, 7), (129, 257, 65), (15, 33, 600), (300, 31, 17),
                (128, 256, 784), (128, 784, 256), (784, 256, 128), (2, 2, 1100) })
                d.Add(path, m, n, k);
        return d;
    }

    [SkippableTheory]
    [MemberData(nameof(OddShapes))]
    public void NonTileMultipleShapesMatchNaiveOnEveryPathAndThreadCount(GemmPath path, int m, int n, int k)
    {
        SkipUnlessSupported(path);
            foreach (int threads in new[] { 1, 2 })
                WithKnobs(path, threads, () =>
                {
                    foreach (var (ta, tb) in Transposes())
                    {
                        var c = Case.Make(ta, tb, m, n, k, seed: m * 7 + n * 3 + k);
                        c.Verify(c.Run(Alpha, Beta), Alpha, Beta, c.C);
                    }
                    return 0;
                });
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 9, 11)]
    [InlineData(129, 257, 65)]
    public void BetaZeroOverwritesNaNWithoutReadingIt(int m, int n, int k)
    {
        foreach (var (ta, tb) in Transposes())
        {
            var c = Case.Make(ta, tb, m, n, k, seed: 5);
            Array.Fill(c.C, float.NaN);
            float[] got = c.Run(Alpha, 0f);
            c.Verify(got, Alpha, 0f, c.C);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    Assert.False(float.IsNaN(got[i * c.Ldc + j]));
        }
    }

    [Fact]
    public void KZeroScalesCByBeta()
    {
        var c = Case.Make(false, false, 5, 6, 0, seed: 3, cFill: 42f);
        float[] got = c.Run(Alpha, Beta);
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 6; j++)
                Assert.Equal(Beta * c.C[i * c.Ldc + j], got[i * c.Ldc + j]);
        Array.Fill(c.C, float.NaN);
        got = c.Run(Alpha, 0f);
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 6; j++)
                Assert.Equal(0f, got[i * c.Ldc + j]);
    }

    [Fact]
    public void AlphaZeroDoesNotTouchAOrB()
    {
        var c = Case.Make(false, true, 40, 50, 60, seed: 4);
        Array.Fill(c.A, float.NaN);
        Array.Fill(c.B, float.NaN);
        float[] got = c.Run(0f, 2f);
        for (int i = 0; i < 40; i++)
            for (int j = 0; j < 50; j++)
                Assert.Equal(2f * c.C[i * c.Ldc + j], got[i * c.Ldc + j]);
    }

    [Fact]
    public void ResultsAreBitIdenticalRunToRunAndAcrossThreadCounts()
    {
        foreach (var (ta, tb) in Transposes())
        {
            var c = Case.Make(ta, tb, 301, 517, 1029, seed: 9);
            float[] first = WithKnobs(Gemm.Path, 2, () => c.Run(Alpha, Beta));
            float[] second = WithKnobs(Gemm.Path, 2, () => c.Run(Alpha, Beta));
            float[] single = WithKnobs(Gemm.Path, 1, () => c.Run(Alpha, Beta));
            Assert.True(first.AsSpan().SequenceEqual(second), "two runs at 2 threads differ");
            Assert.True(first.AsSpan().SequenceEqual(single), "1 and 2 threads differ");
        }
    }

    [Fact]
    public void ConcurrentCallersGetCorrectResults()
    {
        var c = Case.Make(false, false, 200, 200, 200, seed: 11);
        float[] expected = c.Run(Alpha, Beta);
        var results = new float[4][];
        Parallel.For(0, 4, i => results[i] = c.Run(Alpha, Beta));
        foreach (var r in results)
            Assert.True(expected.AsSpan().SequenceEqual(r));
    }

    [Fact]
    public void InvalidArgumentsThrowNamingSgemmAndTheValue()
    {
        float[] a = new float[12], b = new float[12], c = new float[16];
        void Expect(string fragment, Action call)
        {
            var e = Assert.Throws<ArgumentException>(call);
            Assert.Contains("Sgemm", e.Message);
            Assert.Contains(fragment, e.Message);
        }
        Expect("-1", () => Gemm.Sgemm(false, false, -1, 4, 3, 1f, a, 3, b, 4, 0f, c, 4));
        Expect("-2", () => Gemm.Sgemm(false, false, 4, -2, 3, 1f, a, 3, b, 4, 0f, c, 4));
        Expect("-3", () => Gemm.Sgemm(false, false, 4, 4, -3, 1f, a, 3, b, 4, 0f, c, 4));
        Expect("lda", () => Gemm.Sgemm(false, false, 4, 4, 3, 1f, a, 2, b, 4, 0f, c, 4));
        Expect("lda", () => Gemm.Sgemm(true, false, 4, 4, 3, 1f, a, 3, b, 4, 0f, c, 4));
        Expect("ldb", () => Gemm.Sgemm(false, true, 4, 4, 3, 1f, a, 3, b, 2, 0f, c, 4));
        Expect("ldc", () => Gemm.Sgemm(false, false, 4, 4, 3, 1f, a, 3, b, 4, 0f, c, 3));
        Expect("12", () => Gemm.Sgemm(false, false, 5, 4, 3, 1f, a, 3, b, 4, 0f, new float[20], 4));
        Expect("12", () => Gemm.Sgemm(false, false, 4, 4, 4, 1f, new float[16], 4, b, 4, 0f, c, 4));
        Expect("16", () => Gemm.Sgemm(false, false, 4, 4, 3, 1f, a, 3, b, 4, 0f, c, 5));
        var d = Assert.Throws<ArgumentException>(() => Gemm.Dgemm(false, false, 4, 4, 3, 1.0, new double[12], 3, new double[12], 4, 0.0, new double[15], 4));
        Assert.Contains("Dgemm", d.Message);
        Assert.Throws<ArgumentException>(() => Gemm.MaxThreads = 0);
    }

    [Fact]
    public void EmptyShapesAreNoOps()
    {
        // m = 0 or n = 0: nothing to compute, and C (here with spare sentinel values past the empty matrix) is not
        // touched even with beta = 0, which would otherwise overwrite it.
        var c0 = new[] { 7f, 8f, 9f };
        Gemm.Sgemm(false, false, 0, 5, 3, 1f, [], 3, new float[15], 5, 0f, c0, 5);
        Assert.Equal(new[] { 7f, 8f, 9f }, c0);
        var c1 = Enumerable.Range(1, 5).Select(i => (float)i).ToArray();
        Gemm.Sgemm(false, false, 5, 0, 3, 1f, Enumerable.Repeat(1f, 15).ToArray(), 3, [], 1, 0f, c1, 1);
        Assert.Equal(new[] { 1f, 2f, 3f, 4f, 5f }, c1);
        var d1 = new[] { 3.0, 4.0 };
        Gemm.Dgemm(false, false, 2, 0, 4, 1.0, new double[8], 4, [], 1, 0.0, d1, 1);
        Assert.Equal(new[] { 3.0, 4.0 }, d1);
    }

    [Fact]
    public void DgemmMatchesNaiveOnAllTransposes()
    {
        foreach (var (m, n, k) in new[] { (1, 1, 1), (13, 37, 71), (100, 1, 5), (1, 300, 7), (33, 17, 64) })
            foreach (var (ta, tb) in Transposes())
            {
                var rng = new Random(m + n + k);
                int lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 2, ldc = n + 2;
                double[] a = Enumerable.Range(0, (ta ? k : m) * lda).Select(_ => rng.NextDouble() - 0.5).ToArray();
                double[] b = Enumerable.Range(0, (tb ? n : k) * ldb).Select(_ => rng.NextDouble() - 0.5).ToArray();
                double[] c = Enumerable.Range(0, m * ldc).Select(_ => rng.NextDouble() - 0.5).ToArray();
                double[] got = (double[])c.Clone();
                Gemm.Dgemm(ta, tb, m, n, k, 1.5, a, lda, b, ldb, -0.5, got, ldc);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                    {
                        double s = 0;
                        for (int p = 0; p < k; p++)
                            s += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
                        Assert.Equal(1.5 * s - 0.5 * c[i * ldc + j], got[i * ldc + j], 1e-12);
                    }
                double[] nan = Enumerable.Repeat(double.NaN, m * ldc).ToArray();
                Gemm.Dgemm(ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, nan, ldc);
                Assert.DoesNotContain(nan.Where((_, idx) => idx % ldc < n), double.IsNaN);
            }
    }
}
