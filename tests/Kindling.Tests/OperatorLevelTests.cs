using System.Numerics.Tensors;
using Kindling.Kernels;

namespace Kindling.Tests;

/// <summary>
/// Every operator struct (Kernels/Operators) at every SIMD level this CPU runs (scalar, 128, 256, 512 bits): the float32
/// forward and derivative against the operator's float64 form (for exp, log, sin, … that is Math.*), the same bits at
/// every level as at the scalar level, and the binary ops with either side broadcast. Lengths cover every driver's main
/// loop, single vectors and tails. A level the CPU lacks reports itself skipped.
/// </summary>
[Collection("Isa level")]
public class OperatorLevelTests
{
    public static TheoryData<int> Levels() => new(0, 128, 256, 512);

    private static IDisposable At(int level)
    {
        var l = (IsaLevel)level;
        Skip.If(l > Isa.Supported, $"this CPU runs up to {Isa.Supported}, not {l}");
        return Isa.Force(l);
    }

    private static readonly int[] Lengths = [1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 100, 1001];

    private static readonly float[] Specials = [0f, -0f, 1e-7f, -1e-7f, 1e-30f, -1e-30f, 0.5f, -0.5f, 1f, -1f, 2.9999998f, 3f, 3.0000002f, -3f, -3.0000002f,
        -2.9999998f, 6f, 20f, -20f, 88f, -87f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon];

    private static float[] Inputs(int n, int seed, double lo, double hi)
    {
        var r = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = i < Specials.Length && n > 40 ? Specials[i] : (float)(lo + (hi - lo) * r.NextDouble());
        return x;
    }

    private static bool SameBits(float a, float b) => BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b) || (float.IsNaN(a) && float.IsNaN(b));

    private static void Close(double want, float got, double rel, double abs, string what)
    {
        if (double.IsNaN(want)) { Assert.True(float.IsNaN(got), $"{what}: got {got:R}, want NaN"); return; }
        if (double.IsInfinity(want) || Math.Abs(want) > float.MaxValue) { Assert.True((float)want == got, $"{what}: got {got:R}, want {want:R}"); return; }
        Assert.True(Math.Abs(want - got) <= rel * Math.Abs(want) + abs, $"{what}: got {got:R}, want {want:R} (rel {rel:G2}, abs {abs:G2})");
    }

    /// <summary>
    /// Forward and derivative of <typeparamref name="TOp"/> at <paramref name="level"/>: bits equal to the scalar level,
    /// values within <paramref name="rel"/> of the float64 form (the derivative also within <paramref name="gradAbs"/>·|g|·(1 + |x|),
    /// for the cancellation some derivatives have by nature, e.g. 1 − y² near |y| = 1).
    /// </summary>
    private static void Check<TOp>(int level, double lo, double hi, double rel, double gradRel, double gradAbs, double abs = 1e-45) where TOp : IPointwiseOp
    {
        foreach (int n in Lengths)
        {
            var x = Inputs(n, n * 7 + 1, lo, hi);
            var g = Inputs(n, n * 7 + 2, -2, 2).Select((v, i) => float.IsFinite(v) ? v : 0.5f).ToArray();
            float[] y = new float[n], gx = new float[n], ys = new float[n], gxs = new float[n];
            using (At(level))
            {
                Simd.Map<TOp>(x, y);
                Simd.Grad<TOp>(x, y, g, gx);
                var inPlace = (float[])x.Clone();
                Simd.Map<TOp>(inPlace, inPlace);
                for (int i = 0; i < n; i++) Assert.True(SameBits(y[i], inPlace[i]), $"{TOp.Name} in place differs at {i}");
            }
            using (Isa.Force(IsaLevel.Scalar))
            {
                Simd.Map<TOp>(x, ys);
                Simd.Grad<TOp>(x, ys, g, gxs);
            }
            for (int i = 0; i < n; i++)
            {
                string at = $"{TOp.Name}({x[i]:R}) n={n} at {(IsaLevel)level}";
                Assert.True(SameBits(ys[i], y[i]), $"{at} = {y[i]:R} at {(IsaLevel)level}, {ys[i]:R} scalar");
                Assert.True(SameBits(gxs[i], gx[i]), $"{at}' = {gx[i]:R} at {(IsaLevel)level}, {gxs[i]:R} scalar");
                Close(TOp.Invoke((double)x[i]), y[i], rel, abs, at);
                if (float.IsFinite(x[i]) && float.IsFinite(y[i]))
                {
                    // The derivative's reference reads the same float output y the kernel read.
                    double want = TOp.Grad((double)x[i], (double)y[i], (double)g[i]);
                    Close(want, gx[i], gradRel, gradAbs * Math.Abs(g[i]) * (1 + Math.Abs(x[i])) + 1e-37, at + "'");
                }
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void ExactOperators(int level)
    {
        Check<NegOperator>(level, -50, 50, 0, 0, 0);
        Check<AbsOperator>(level, -50, 50, 0, 0, 0);
        Check<SignOperator>(level, -2, 2, 0, 0, 0);
        Check<SqrtOperator>(level, 0, 100, 6e-8, 6e-8, 0);
        Check<RsqrtOperator>(level, 0, 100, 1.2e-7, 2.4e-7, 0);
        Check<SquareOperator>(level, -1e3, 1e3, 6e-8, 6e-8, 0);
        Check<ReciprocalOperator>(level, -10, 10, 6e-8, 1.2e-7, 0);
        Check<ReluOperator>(level, -10, 10, 0, 0, 0);
        // x/3 + ½ cancels near x = −1.5 (PyTorch's own formula, kept for its bits): absolute error ~6e-8·|g|.
        Check<HardswishOperator>(level, -5, 5, 2.4e-7, 1.8e-7, 6e-8, 1e-38);
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void TranscendentalOperators(int level)
    {
        Check<ExpOperator>(level, -100, 88, 2.5e-7, 6e-8, 0);
        Check<LogOperator>(level, 0, 1e4, 1.5e-7, 6e-8, 0);
        Check<Log1pOperator>(level, -1, 10, 2.5e-7, 1.2e-7, 0);
        Check<Expm1Operator>(level, -20, 20, 4e-7, 1.2e-7, 0);
        Check<SigmoidOperator>(level, -30, 30, 3e-7, 1.8e-7, 1.2e-7, 1e-38);
        Check<TanhOperator>(level, -12, 12, 2.5e-7, 1.2e-7, 1.2e-7);
        Check<SoftplusOperator>(level, -30, 30, 3e-7, 4e-7, 1e-7, 1e-38);
        Check<GeluOperator>(level, -8, 8, 6e-8, 6e-8, 0, 1e-38);
        Check<ErfOperator>(level, -5, 5, 6e-8, 6e-8, 0);
        Check<SinOperator>(level, -20, 20, 1.2e-7, 1.2e-7, 0, 1e-38);
        Check<CosOperator>(level, -20, 20, 1.2e-7, 1.2e-7, 0, 1e-38);
        Check<SiluOperator>(level, -30, 30, 4e-7, 6e-7, 3e-7, 1e-38);
        Check<MishOperator>(level, -30, 30, 6e-7, 6e-7, 4e-7, 1e-38);
    }

    /// <summary>The ops that used TensorPrimitives (whose vector paths ignored KINDLING_ISA) are at least as accurate now.</summary>
    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void FormerTensorPrimitivesOpsAreAtLeastAsAccurate(int level)
    {
        var x = Inputs(20_000, 5, 1e-6, 50).Where(float.IsFinite).Where(v => v > 0).ToArray();
        var xs = Inputs(20_000, 6, -40, 40).Where(float.IsFinite).ToArray();
        using var _ = At(level);
        Compare<LogOperator>(x, (a, b) => TensorPrimitives.Log(a, b), Math.Log);
        Compare<SinOperator>(xs, (a, b) => TensorPrimitives.Sin(a, b), Math.Sin);
        Compare<CosOperator>(xs, (a, b) => TensorPrimitives.Cos(a, b), Math.Cos);
        // log1p and expm1 were float.LogP1 = log(x + 1) and float.ExpM1 = exp(x) − 1: every digit below 1e-7 was lost.
        var tiny = new[] { 1e-10f, -3e-9f, 2e-8f, 1e-6f, -1e-5f };
        var l1p = new float[tiny.Length]; Simd.Map<Log1pOperator>(tiny, l1p);
        var em1 = new float[tiny.Length]; Simd.Map<Expm1Operator>(tiny, em1);
        for (int i = 0; i < tiny.Length; i++)
        {
            double u = tiny[i];
            Close(u - u * u / 2 + u * u * u / 3, l1p[i], 2.5e-7, 0, $"log1p({u:R})");
            Close(u + u * u / 2 + u * u * u / 6, em1[i], 4e-7, 0, $"expm1({u:R})");
        }

        static void Compare<TOp>(float[] x, Action<float[], float[]> tp, Func<double, double> exact) where TOp : IUnaryOperator
        {
            var mine = new float[x.Length]; var theirs = new float[x.Length];
            Simd.Map<TOp>(x, mine);
            tp(x, theirs);
            double worstMine = 0, worstTheirs = 0;
            for (int i = 0; i < x.Length; i++)
            {
                double want = exact(x[i]), ulp = Math.Max(Math.Abs(want), 1e-30) * 5.96e-8;
                worstMine = Math.Max(worstMine, Math.Abs(mine[i] - want) / ulp);
                worstTheirs = Math.Max(worstTheirs, Math.Abs(theirs[i] - want) / ulp);
            }
            Assert.True(worstMine <= Math.Max(worstTheirs, 1.0) + 0.5, $"{typeof(TOp).Name}: worst {worstMine:F2} ulp, TensorPrimitives {worstTheirs:F2}");
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void BinaryOperatorsWithEitherSideBroadcast(int level)
    {
        Binary<AddOperator>(level, (a, b) => a + b);
        Binary<SubOperator>(level, (a, b) => a - b);
        Binary<MulOperator>(level, (a, b) => a * b);
        Binary<DivOperator>(level, (a, b) => a / b);
        Binary<MaximumOperator>(level, (a, b) => double.IsNaN(a) ? a : double.IsNaN(b) ? b : Math.Max(a, b));
        Binary<MinimumOperator>(level, (a, b) => double.IsNaN(a) ? a : double.IsNaN(b) ? b : Math.Min(a, b));
        Binary<PowOperator>(level, Math.Pow, 1.2e-7, positive: true);
    }

    private static void Binary<TOp>(int level, Func<double, double, double> exact, double rel = 6e-8, bool positive = false) where TOp : IBinaryOperator
    {
        foreach (int n in Lengths)
        {
            var a = Inputs(n, n + 11, positive ? 0 : -10, 10);
            var b = Inputs(n, n + 12, positive ? -3 : -10, positive ? 3 : 10);
            var one = new[] { positive ? 1.7f : -2.5f };
            foreach (var (x, y, what) in new[] { (a, b, "both"), (one, b, "scalar left"), (a, one, "scalar right") })
            {
                float[] z = new float[n], zs = new float[n];
                using (At(level)) Simd.Map<TOp>(x, y, z);
                using (Isa.Force(IsaLevel.Scalar)) Simd.Map<TOp>(x, y, zs);
                for (int i = 0; i < n; i++)
                {
                    double u = x[x.Length == 1 ? 0 : i], v = y[y.Length == 1 ? 0 : i];
                    string at = $"{typeof(TOp).Name}({u:R}, {v:R}) {what} n={n} at {(IsaLevel)level}";
                    Assert.True(SameBits(zs[i], z[i]), $"{at} = {z[i]:R} at {(IsaLevel)level}, {zs[i]:R} scalar");
                    Close(exact(u, v), z[i], rel, 1e-45, at);
                }
            }
        }
    }
}
