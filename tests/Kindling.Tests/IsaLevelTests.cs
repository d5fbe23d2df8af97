using System.Text.Json.Nodes;
using Kindling.Kernels;
using Kindling.NN;
using Kindling.Parity;

namespace Kindling.Tests;

// Isa.Force changes the SIMD level for the whole process: these tests must not run beside any other test class.
[CollectionDefinition("Isa level", DisableParallelization = true)]
public sealed class IsaLevelCollection;

/// <summary>
/// Every kernel family at every SIMD level this CPU has (scalar, 128-bit, 256-bit, 512-bit), each checked against a float64
/// reference computed here, and the elementwise operators checked to give the same bits at every level. A level the
/// CPU lacks reports itself skipped.
/// </summary>
[Collection("Isa level")]
public class IsaLevelTests
{
    public static TheoryData<int> Levels() => new(0, 128, 256, 512);

    private static IDisposable At(int level)
    {
        var l = (IsaLevel)level;
        Skip.If(l > Isa.Supported, $"this CPU runs up to {Isa.Supported}, not {l}");
        return Isa.Force(l);
    }

    // Lengths around every vector width and unroll, so each driver's main loop, single vectors and tail all run.
    private static readonly int[] Lengths = [0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 100, 1000, 4099];

    private static float[] Rand(Random r, int n, double lo, double hi) =>
        Enumerable.Range(0, n).Select(_ => (float)(lo + (hi - lo) * r.NextDouble())).ToArray();

    private static void Close(double want, double got, double rel, double abs, string what)
    {
        if (double.IsNaN(want)) { Assert.True(double.IsNaN(got), $"{what}: got {got:R}, want NaN"); return; }
        if (double.IsInfinity(want)) { Assert.True(want == got, $"{what}: got {got:R}, want {want:R}"); return; }
        Assert.True(Math.Abs(want - got) <= rel * Math.Abs(want) + abs, $"{what}: got {got:R}, want {want:R} (rel {rel:G2}, abs {abs:G2}) at {Isa.Level}");
    }

    private static float[] Specials => [0f, -0f, 1f, -1f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.Epsilon, 1e-40f,
        float.MaxValue, -float.MaxValue, 88.7f, 88.8f, -103.9f, -104.1f, 0.70710677f, 1.4142135f, 1.4142137f];

    [Fact]
    public void LevelDefaultsToTheCpuAndForceRestoresIt()
    {
        Assert.Equal(Isa.Default, Isa.Level);
        if (Environment.GetEnvironmentVariable(Isa.Variable) is null or "") Assert.Equal(Isa.Supported, Isa.Default);
        Assert.Contains(IsaLevel.Scalar, Isa.Available());
        using (Isa.Force(IsaLevel.Scalar)) Assert.Equal(IsaLevel.Scalar, Isa.Level);
        Assert.Equal(Isa.Default, Isa.Level);
        if (Isa.Supported < IsaLevel.Vector512)
            Assert.Throws<ArgumentException>(() => Isa.Force(IsaLevel.Vector512));
        Assert.Equal(IsaLevel.Vector256, Isa.Parse(" V256 "));
        Assert.Equal(IsaLevel.Vector128, Isa.Parse("v128"));
        Assert.Contains(IsaLevel.Vector128, Isa.Available()); // every x86-64 and ARM64 CPU has 128-bit SIMD
        Assert.Null(Isa.Parse(""));
        var e = Assert.Throws<ArgumentException>(() => Isa.Parse("sse9"));
        Assert.Contains("KINDLING_ISA='sse9'", e.Message);
        Assert.Contains("scalar, v128, v256 or v512", e.Message);
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void ExpLogLog1pMatchFloat64AndGiveTheSameBitsAtEveryLevel(int level)
    {
        var r = new Random(level + 1);
        foreach (int n in Lengths)
        {
            var xe = Rand(r, n, -110, 95).Concat(Specials).ToArray();
            var xl = Rand(r, n, 0, 50).Select((v, i) => i % 3 == 0 ? MathF.Pow(2, v * 5 - 150) : v).Concat(Specials).ToArray();
            var xp = Rand(r, n, -1, 3).Select((v, i) => i % 4 == 0 ? v * 1e-6f : v).Concat(Specials).ToArray();
            float[] ye, yl, yp, se, sl, sp;
            using (At(level))
            {
                ye = new float[xe.Length]; FastExp.Exp(xe, ye);
                yl = new float[xl.Length]; FastLog.Log(xl, yl);
                yp = new float[xp.Length]; Simd.Map<Log1pOperator>(xp, yp);
                // In place (the drivers compute their overlapping last vector before storing).
                var inPlace = (float[])xe.Clone(); FastExp.Exp(inPlace, inPlace);
                Assert.Equal(ye, inPlace);
            }
            using (Isa.Force(IsaLevel.Scalar))
            {
                se = new float[xe.Length]; FastExp.Exp(xe, se);
                sl = new float[xl.Length]; FastLog.Log(xl, sl);
                sp = new float[xp.Length]; Simd.Map<Log1pOperator>(xp, sp);
            }
            for (int i = 0; i < xe.Length; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(se[i]) == BitConverter.SingleToInt32Bits(ye[i]) || (float.IsNaN(se[i]) && float.IsNaN(ye[i])),
                    $"exp({xe[i]:R}) = {ye[i]:R} at {(IsaLevel)level}, {se[i]:R} scalar");
                double want = Math.Exp(xe[i]);
                if (xe[i] > 88.72f) want = double.PositiveInfinity;
                Close(want, ye[i], 2.5e-7, 1.5e-45, $"exp({xe[i]:R})");
            }
            for (int i = 0; i < xl.Length; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(sl[i]) == BitConverter.SingleToInt32Bits(yl[i]) || (float.IsNaN(sl[i]) && float.IsNaN(yl[i])),
                    $"log({xl[i]:R}) = {yl[i]:R} at {(IsaLevel)level}, {sl[i]:R} scalar");
                Close(xl[i] == 0 ? double.NegativeInfinity : Math.Log(xl[i]), yl[i], 1.5e-7, 1e-45, $"log({xl[i]:R})");
            }
            for (int i = 0; i < xp.Length; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(sp[i]) == BitConverter.SingleToInt32Bits(yp[i]) || (float.IsNaN(sp[i]) && float.IsNaN(yp[i])),
                    $"log1p({xp[i]:R}) = {yp[i]:R} at {(IsaLevel)level}, {sp[i]:R} scalar");
                double u = xp[i];
                double want = u < -1 ? double.NaN : u == -1 ? double.NegativeInfinity : Math.Abs(u) < 1e-5 ? u - u * u / 2 + u * u * u / 3 : Math.Log(1 + u);
                Close(want, yp[i], 2.5e-7, 1e-45, $"log1p({xp[i]:R})");
            }
        }
    }

    /// <summary>
    /// tanh keeps full relative precision near 0 at every level (PyTorch: tanh(0) = 0, tanh(1e-7) = 1e-7; the vector path
    /// of TensorPrimitives.Tanh gave −5.96e-8 and 5.96e-8), keeps the sign of −0, saturates to ±1 and passes NaN.
    /// </summary>
    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void TanhIsAccurateNearZeroAndAtTheEdges(int level)
    {
        using var _ = At(level);
        var xs = new List<float> { 0f, -0f, 1e-30f, -1e-30f, 1e-7f, -1e-7f, 1e-5f, 1e-3f, 0.3f, 0.6249f, 0.625f, 0.6251f, 1f, 5f, 9f, 20f, 44f, 45f, 100f,
            float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.Epsilon, -float.Epsilon };
        var r = new Random(3);
        for (int i = 0; i < 2000; i++) xs.Add((float)(Math.Pow(10, r.NextDouble() * 8 - 7) * (r.Next(2) * 2 - 1)));
        var x = xs.ToArray();
        var y = Tensor.FromArray(x, x.Length).Tanh().DenseData<float>();
        for (int i = 0; i < x.Length; i++)
        {
            Close(Math.Tanh(x[i]), y[i], 2.5e-7, 0, $"tanh({x[i]:R})");
            if (x[i] == 0) Assert.Equal(float.IsNegative(x[i]), float.IsNegative(y[i]));
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void ElementwiseOpsAndActivationBackwardsMatchFloat64(int level)
    {
        var r = new Random(7);
        using var _ = At(level);
        foreach (int n in Lengths)
        {
            var x = Rand(r, n, -30, 30); var g = Rand(r, n, -2, 2);
            if (n > 2) { x[0] = 0f; x[1] = float.NaN; }
            var t = Tensor.FromArray(x, n);
            var exp = t.Exp().DenseData<float>();
            var relu = t.Relu().DenseData<float>();
            var sig = t.Sigmoid().DenseData<float>();
            var tanh = t.Tanh().DenseData<float>();
            var add = (t + t).DenseData<float>();
            var rb = new float[n]; Simd.Grad<ReluOperator>(x, x, g, rb);
            var sb = new float[n]; Simd.Grad<SigmoidOperator>(x, sig, g, sb);
            var tb = new float[n]; Simd.Grad<TanhOperator>(x, tanh, g, tb);
            for (int i = 0; i < n; i++)
            {
                double xi = x[i];
                Close(Math.Exp(xi), exp[i], 2.5e-7, 1e-45, $"exp({xi})");
                Close(double.IsNaN(xi) ? double.NaN : Math.Max(xi, 0), relu[i], 0, 0, $"relu({xi})");
                Close(1 / (1 + Math.Exp(-xi)), sig[i], 3e-7, 1e-38, $"sigmoid({xi})");
                Close(Math.Tanh(xi), tanh[i], 3e-7, 0, $"tanh({xi})");
                Close(2 * xi, add[i], 0, 0, $"{xi} + {xi}");
                Close(xi > 0 ? g[i] : 0, rb[i], 0, 0, $"relu'({xi})·{g[i]}");
                Close((double)g[i] * sig[i] * (1 - (double)sig[i]), sb[i], 3e-7, 1.2e-7 * Math.Abs(g[i]), $"sigmoid'·{g[i]}");
                // 1 − y² cancels near |y| = 1: its float rounding (~1.2e-7 absolute) is inherent, not the kernel's.
                Close(g[i] * (1 - (double)tanh[i] * tanh[i]), tb[i], 3e-7, 1.2e-7 * Math.Abs(g[i]), $"tanh'·{g[i]}");
            }
            // float64 goes through the same operators' float64 form.
            var xd = x.Select(v => (double)v).ToArray(); var gd = g.Select(v => (double)v).ToArray();
            var rd = new double[n]; Simd.Grad<ReluOperator, double>(xd, xd, gd, rd);
            var sd = new double[n]; Simd.Grad<SigmoidOperator, double>(xd, xd, gd, sd);
            var td = new double[n]; Simd.Grad<TanhOperator, double>(xd, xd, gd, td);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(xd[i] > 0 ? gd[i] : 0, rd[i]);
                Assert.Equal(gd[i] * xd[i] * (1 - xd[i]), sd[i]);
                Assert.Equal(gd[i] * (1 - xd[i] * xd[i]), td[i]);
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void ReductionsSoftmaxAndLogSoftmaxMatchFloat64(int level)
    {
        var r = new Random(11);
        using var _ = At(level);
        // Narrow rows (one row per lane at 512 bits, 37 rows = two 16-row blocks and a remainder) and wide ones with tails.
        foreach (var (rows, n) in new[] { (37, 10), (5, 1), (19, 31), (6, 32), (4, 1000), (3, 1003), (2, 17) })
        {
            var x = Rand(r, rows * n, -20, 20);
            if (rows * n > 40) x[rows * n / 2] = 1e4f; // a large logit: the max shift must keep it finite
            var t = Tensor.FromArray(x, rows, n);
            var sm = t.Softmax(1).DenseData<float>();
            var lsm = t.LogSoftmax(1).DenseData<float>();
            var sum = t.Sum(1).DenseData<float>();
            var max = t.Max(1).Values.DenseData<float>();
            for (int i = 0; i < rows; i++)
            {
                double m = double.NegativeInfinity, s = 0, tot = 0;
                for (int j = 0; j < n; j++) { m = Math.Max(m, x[i * n + j]); tot += x[i * n + j]; }
                for (int j = 0; j < n; j++) s += Math.Exp(x[i * n + j] - m);
                Close(tot, sum[i], 1e-5, 1e-4, $"sum row {i} of ({rows}, {n})");
                Close(m, max[i], 0, 0, $"max row {i}");
                for (int j = 0; j < n; j++)
                {
                    double ls = x[i * n + j] - m - Math.Log(s);
                    // x − max is rounded in float, so exp of it carries |x − max|·2⁻²⁴ of relative error.
                    Close(Math.Exp(ls), sm[i * n + j], 1e-6 + 1.2e-7 * Math.Abs(ls), 1e-37, $"softmax[{i},{j}] of ({rows}, {n})");
                    Close(ls, lsm[i * n + j], 1e-6, 2e-6, $"log_softmax[{i},{j}] of ({rows}, {n})");
                }
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void CrossEntropyForwardAndBackwardMatchFloat64(int level)
    {
        var r = new Random(13);
        using var _ = At(level);
        foreach (var (n, c) in new[] { (37, 10), (33, 3), (16, 31), (9, 32), (5, 1000), (3, 1001) })
            foreach (bool weighted in new[] { false, true })
                foreach (double eps in new[] { 0.0, 0.1 })
                {
                    var x = Rand(r, n * c, -8, 8);
                    var tgt = Enumerable.Range(0, n).Select(i => i % 7 == 3 ? -100L : r.Next(c)).ToArray();
                    var w = weighted ? Rand(r, c, 0.1, 2) : null;
                    double[] loss = new double[n], rowW = new double[n], scale = Enumerable.Range(0, n).Select(i => 0.5 + i % 3).ToArray();
                    float[] rowMax = new float[n], invSum = new float[n], grad = new float[n * c];
                    CrossEntropyKernel.Forward(x, n, c, tgt, w, -100, eps, loss, rowMax, invSum, rowW);
                    CrossEntropyKernel.Backward(x, n, c, tgt, w, -100, eps, rowMax, invSum, scale, grad);
                    double sumW = w == null ? c : w.Sum(v => (double)v);
                    string at = $"({n}, {c}) weighted={weighted} eps={eps} at {Isa.Level}";
                    for (int i = 0; i < n; i++)
                    {
                        double m = double.NegativeInfinity, s = 0;
                        for (int j = 0; j < c; j++) m = Math.Max(m, x[i * c + j]);
                        for (int j = 0; j < c; j++) s += Math.Exp(x[i * c + j] - m);
                        double lse = m + Math.Log(s);
                        long t = tgt[i];
                        if (t == -100)
                        {
                            Assert.Equal(0, loss[i]); Assert.Equal(0, rowW[i]);
                            for (int j = 0; j < c; j++) Assert.Equal(0f, grad[i * c + j]);
                            continue;
                        }
                        double wt = w == null ? 1 : w[t];
                        double want = (1 - eps) * wt * (lse - x[i * c + t]);
                        for (int j = 0; j < c; j++) want += eps / c * (w == null ? 1 : w[j]) * (lse - x[i * c + j]);
                        Close(want, loss[i], 2e-6, 2e-6, $"loss row {i} {at}");
                        Close(wt, rowW[i], 0, 0, $"row weight {i} {at}");
                        for (int j = 0; j < c; j++)
                        {
                            double p = Math.Exp(x[i * c + j] - lse);
                            double gw = scale[i] * ((1 - eps) * wt * (p - (j == t ? 1 : 0)) + eps / c * (sumW * p - (w == null ? 1 : w[j])));
                            Close(gw, grad[i * c + j], 2e-6, 2e-7, $"grad[{i},{j}] {at}");
                        }
                    }
                }
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void FusedCrossEntropyForwardBackwardIsBitIdenticalToForwardThenBackward(int level)
    {
        var r = new Random(29);
        using var _ = At(level);
        foreach (var (n, c) in new[] { (37, 10), (300, 10), (33, 3), (40, 31), (9, 32), (5, 1000), (70, 1001), (3, 40) })
            foreach (bool weighted in new[] { false, true })
                foreach (double eps in new[] { 0.0, 0.1 })
                {
                    var x = Rand(r, n * c, -8, 8);
                    var tgt = Enumerable.Range(0, n).Select(i => i % 7 == 3 ? -100L : r.Next(c)).ToArray();
                    var w = weighted ? Rand(r, c, 0.1, 2) : null;
                    var scale = Enumerable.Range(0, n).Select(i => i % 5 == 1 ? 0 : 0.25 + i % 3).ToArray();
                    double[] l1 = new double[n], w1 = new double[n], l2 = new double[n], w2 = new double[n];
                    float[] m1 = new float[n], s1 = new float[n], g1 = new float[n * c], m2 = new float[n], s2 = new float[n], g2 = new float[n * c];
                    Array.Fill(g2, float.NaN); // every element must be written
                    CrossEntropyKernel.Forward(x, n, c, tgt, w, -100, eps, l1, m1, s1, w1);
                    CrossEntropyKernel.Backward(x, n, c, tgt, w, -100, eps, m1, s1, scale, g1);
                    CrossEntropyKernel.ForwardBackward(x, n, c, tgt, w, -100, eps, l2, m2, s2, w2, scale, g2);
                    string at = $"({n}, {c}) weighted={weighted} eps={eps} at {Isa.Level}";
                    Assert.True(l1.SequenceEqual(l2), $"loss differs {at}");
                    Assert.True(w1.SequenceEqual(w2) && m1.SequenceEqual(m2) && s1.SequenceEqual(s2), $"row statistics differ {at}");
                    for (int i = 0; i < n * c; i++)
                        Assert.True(BitConverter.SingleToInt32Bits(g1[i]) == BitConverter.SingleToInt32Bits(g2[i]), $"grad[{i / c},{i % c}] {g2[i]:R} fused, {g1[i]:R} apart, {at}");
                }
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void CrossEntropyGradientIsTheSameWhetherComputedInForwardOrBackward(int level)
    {
        using var _ = At(level);
        var g = new Generator(3);
        foreach (var (n, c) in new[] { (50, 10), (6, 1000) })
        {
            var x = Tensor.Randn([n, c], g).RequiresGrad_();
            var t = Tensor.RandInt(0, c, [n], g);
            Functional.CrossEntropy(x, t).Backward(); // upstream 1: the gradient made in the forward
            var early = x.Grad!.DenseData<float>().ToArray();
            x.Grad = null;
            (Functional.CrossEntropy(x, t) * 2f).Backward(); // upstream 2: the backward's own pass
            var late = x.Grad!.DenseData<float>();
            for (int i = 0; i < early.Length; i++) Assert.Equal(2 * early[i], late[i], 1e-7f);
            x.Grad = null;
            var loss = Functional.CrossEntropy(x, t, reduction: Reduction.Sum);
            loss.Backward(retainGraph: true);
            var once = x.Grad!.DenseData<float>().ToArray();
            loss.Backward(); // accumulates a second, equal gradient
            var twice = x.Grad!.DenseData<float>();
            for (int i = 0; i < once.Length; i++) Assert.Equal(2 * once[i], twice[i], 1e-6f);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void BceWithLogitsForwardAndBackwardMatchFloat64(int level)
    {
        var r = new Random(17);
        using var _ = At(level);
        foreach (int n in new[] { 1, 7, 9, 17, 1000, 1031, 3001 })
            foreach (bool opts in new[] { false, true })
            {
                var x = Rand(r, n, -40, 40); var t = Rand(r, n, 0, 1);
                var w = opts ? Rand(r, n, 0, 2) : null; var pw = opts ? Rand(r, n, 0.5, 3) : null;
                var each = new float[n];
                double total = BceLogitsKernel.Forward(x, t, w, pw, each);
                double noEach = BceLogitsKernel.Forward(x, t, w, pw, null);
                var gEach = Rand(r, n, -1, 1);
                float[] gx = new float[n], gt = new float[n];
                BceLogitsKernel.Backward(x, t, w, pw, 0.75f, gEach, gx, gt);
                double want = 0;
                for (int i = 0; i < n; i++)
                {
                    double xi = x[i], ti = t[i], wi = w?[i] ?? 1, pwi = pw?[i] ?? 1;
                    double spNeg = Math.Max(-xi, 0) + Math.Log(1 + Math.Exp(-Math.Abs(xi)));
                    double l = 1 + (pwi - 1) * ti;
                    double v = wi * ((1 - ti) * xi + l * spNeg);
                    want += v;
                    // (1 − t)·x and L·softplus(−x) cancel for large |x|: float rounding of each is ~6e-8·|x|·(1 + L).
                    double cancel = 1.2e-7 * (1 + Math.Abs(xi)) * (1 + l) * wi;
                    Close(v, each[i], 2e-6, 2e-6 + cancel, $"bce[{i}] x={xi} at {Isa.Level}");
                    double g = gEach[i] * 0.75 * wi;
                    Close(g * ((1 - ti) - l / (1 + Math.Exp(xi))), gx[i], 2e-6, 2e-7, $"dbce/dx[{i}]");
                    Close(g * (-xi + (pwi - 1) * spNeg), gt[i], 2e-6, 2e-6 + cancel, $"dbce/dt[{i}]");
                }
                Close(want, total, 1e-6, 1e-5, $"bce sum n={n}");
                Assert.Equal(total, noEach);
            }
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void FusedBceWithLogitsIsBitIdenticalToForwardThenBackward(int level)
    {
        var r = new Random(31);
        using var _ = At(level);
        foreach (int n in new[] { 1, 9, 17, 1031, 200_003 })
            foreach (bool opts in new[] { false, true })
            {
                var x = Rand(r, n, -20, 20); var t = Rand(r, n, 0, 1);
                var w = opts ? Rand(r, n, 0, 2) : null; var pw = opts ? Rand(r, n, 0.5, 3) : null;
                float scale = 1f / n;
                double total = BceLogitsKernel.Forward(x, t, w, pw, null);
                var g1 = new float[n];
                BceLogitsKernel.Backward(x, t, w, pw, scale, null, g1, null);
                var g2 = new float[n];
                Array.Fill(g2, float.NaN);
                double fused = BceLogitsKernel.ForwardBackward(x, t, w, pw, null, scale, g2);
                Assert.Equal(total, fused);
                for (int i = 0; i < n; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(g1[i]) == BitConverter.SingleToInt32Bits(g2[i]), $"grad[{i}] {g2[i]:R} fused, {g1[i]:R} apart, n={n} at {Isa.Level}");
            }
        // Through the tensor API: upstream 1 takes the forward's gradient, upstream 2 the backward's own pass.
        var gen = new Generator(5);
        var xt = Tensor.Randn([300, 7], gen).RequiresGrad_();
        var tt = Tensor.Rand([300, 7], gen);
        Functional.BinaryCrossEntropyWithLogits(xt, tt).Backward();
        var early = xt.Grad!.DenseData<float>().ToArray();
        xt.Grad = null;
        (Functional.BinaryCrossEntropyWithLogits(xt, tt) * 2f).Backward();
        var late = xt.Grad!.DenseData<float>();
        for (int i = 0; i < early.Length; i++) Assert.Equal(2 * early[i], late[i], 1e-8f);
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void PointwiseLossesForwardAndBackwardMatchFloat64(int level)
    {
        using var _ = At(level);
        PointwiseLoss<MseLossOperator>(0.7, (d, p) => (d * d, 2 * d));
        PointwiseLoss<L1LossOperator>(0.7, (d, p) => (Math.Abs(d), Math.Sign(d)));
        PointwiseLoss<SmoothL1LossOperator>(0.7, (d, p) => (Math.Abs(d) < p ? 0.5 * d * d / p : Math.Abs(d) - 0.5 * p, Math.Clamp(d / p, -1, 1)));
        PointwiseLoss<HuberLossOperator>(1.5, (d, p) => (Math.Abs(d) < p ? 0.5 * d * d : p * (Math.Abs(d) - 0.5 * p), Math.Clamp(d, -p, p)));
    }

    private static void PointwiseLoss<TLoss>(double p, Func<double, double, (double v, double dv)> exact) where TLoss : IPointwiseLoss
    {
        var r = new Random(19);
        string kind = TLoss.Name;
        foreach (int n in new[] { 1, 5, 9, 17, 1000, 1031 })
        {
            var x = Rand(r, n, -3, 3); var t = Rand(r, n, -3, 3);
            var each = new float[n];
            double total = PointwiseLossKernel.Forward<TLoss, float>(p, x, t, each);
            float[] gx = new float[n], gt = new float[n];
            PointwiseLossKernel.Backward<TLoss, float>(p, x, t, 0.5f, null, gx, gt);
            double want = 0;
            for (int i = 0; i < n; i++)
            {
                var (v, dv) = exact((double)x[i] - t[i], p);
                want += v;
                Close(v, each[i], 1e-6, 1e-6, $"{kind}[{i}] at {Isa.Level}");
                Close(0.5 * dv, gx[i], 1e-6, 1e-6, $"{kind}'[{i}] wrt input");
                Close(-0.5 * dv, gt[i], 1e-6, 1e-6, $"{kind}'[{i}] wrt target");
            }
            Close(want, total, 1e-6, 1e-5, $"{kind} sum n={n}");
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void GemmMatchesFloat64IncludingTailsAndOddSizes(int level)
    {
        var r = new Random(23);
        using var _ = At(level);
        var saved = Gemm.Path;
        Gemm.Path = GemmPath.Auto;
        try
        {
            Assert.Equal(level == 512 ? GemmPath.Vector512 : level == 256 ? GemmPath.Vector256 : GemmPath.Portable, Gemm.EffectivePath);
            foreach (var (m, n, k) in new[] { (1, 1, 1), (17, 33, 9), (64, 64, 64), (67, 65, 66), (129, 31, 257), (8, 200, 600), (130, 130, 5) })
                foreach (bool ta in new[] { false, true })
                    foreach (bool tb in new[] { false, true })
                    {
                        var a = Rand(r, m * k, -1, 1); var b = Rand(r, k * n, -1, 1); var c = Rand(r, m * n, -1, 1);
                        var c0 = (float[])c.Clone();
                        Gemm.Sgemm(ta, tb, m, n, k, 1.25f, a, ta ? m : k, b, tb ? k : n, -0.5f, c, n);
                        for (int i = 0; i < m; i++)
                            for (int j = 0; j < n; j++)
                            {
                                double s = 0;
                                for (int p = 0; p < k; p++) s += (double)a[ta ? p * m + i : i * k + p] * b[tb ? j * k + p : p * n + j];
                                Close(1.25 * s - 0.5 * c0[i * n + j], c[i * n + j], 0, 2e-7 * k + 1e-6, $"C[{i},{j}] of {m}x{n}x{k} tA={ta} tB={tb} at {Isa.Level}");
                            }
                    }
        }
        finally { Gemm.Path = saved; }
    }

    /// <summary>PyTorch's own numbers for the fused losses (cross-entropy, BCE, the regression family) at every level.</summary>
    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void LossParityCasesPassAtEveryLevel(int level)
    {
        using var _ = At(level);
        var failures = new List<string>();
        int count = 0;
        foreach (var file in new[] { "cross_entropy.jsonl", "bce.jsonl", "regression.jsonl", "smoke.jsonl" })
            foreach (var line in File.ReadLines(Path.Combine(Repo.Root, "tools", "parity", "cases", file)))
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                var c = JsonNode.Parse(line)!.AsObject();
                var why = ParityRunner.Judge(c, ParityRunner.Run(c));
                if (why != null) failures.Add($"{file} {c["id"]}: {why}");
                count++;
            }
        Assert.True(count > 100, $"only {count} cases read");
        Assert.True(failures.Count == 0, $"{failures.Count} of {count} cases failed at {Isa.Level}:\n" + string.Join("\n", failures.Take(20)));
    }
}
