using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kindling.Kernels;

namespace Kindling.Tests;

public class KernelMathTests
{
    private static float[] Apply(Func<Vector512<float>, Vector512<float>> f, float[] x)
    {
        var y = new float[x.Length];
        var buf = new float[16];
        for (int i = 0; i < x.Length; i += 16)
        {
            int len = Math.Min(16, x.Length - i);
            Array.Clear(buf);
            Array.Copy(x, i, buf, 0, len);
            f(Vector512.Create(buf)).CopyTo(buf);
            Array.Copy(buf, 0, y, i, len);
        }
        return y;
    }

    [SkippableFact]
    public void FastLogIsAccurateEverywhere()
    {
        Skip.IfNot(Isa.Supported == IsaLevel.Vector512, "this CPU has no AVX-512 (FastLog is an AVX-512 kernel)");
        var xs = new List<float>();
        for (double v = -149; v <= 128; v += 0.0371) xs.Add((float)Math.Pow(2, v));
        for (double v = 0.5; v <= 2; v += 1e-4) xs.Add((float)v);
        xs.AddRange([1f, 2f, 0.70710677f, 1.4142135f, 1.4142137f, float.Epsilon, float.MaxValue, 1e-40f, 10f]);
        var x = xs.ToArray();
        var y = Apply(FastLog.Log, x);
        for (int i = 0; i < x.Length; i++)
        {
            double exact = Math.Log(x[i]);
            Assert.True(Math.Abs(y[i] - exact) <= 1.5e-7 * Math.Abs(exact) + 1e-45, $"log({x[i]:R}) = {y[i]:R}, exact {exact:R}");
        }
        var sp = Apply(FastLog.Log, [0f, -0f, -1f, float.NegativeInfinity, float.PositiveInfinity, float.NaN]);
        Assert.Equal(float.NegativeInfinity, sp[0]);
        Assert.Equal(float.NegativeInfinity, sp[1]);
        Assert.True(float.IsNaN(sp[2]) && float.IsNaN(sp[3]) && float.IsNaN(sp[5]));
        Assert.Equal(float.PositiveInfinity, sp[4]);
    }

    [SkippableFact]
    public void FastLog1pIsAccurateEverywhere()
    {
        Skip.IfNot(Isa.Supported == IsaLevel.Vector512, "this CPU has no AVX-512 (FastLog.Log1p is an AVX-512 kernel)");
        var xs = new List<float>();
        for (double v = -149; v <= 100; v += 0.0371) { xs.Add((float)Math.Pow(2, v)); if (v < 0) xs.Add(-(float)Math.Pow(2, v)); }
        for (double v = 0; v <= 1; v += 1e-4) xs.Add((float)v);
        xs.AddRange([0f, -0.999f, -0.5f, 1f, float.Epsilon, 1e-40f, 5.9604645e-8f, 1.1920929e-7f, 3e-8f]);
        var x = xs.Where(v => v > -1).ToArray();
        var y = Apply(FastLog.Log1p, x);
        for (int i = 0; i < x.Length; i++)
        {
            double exact = Math.Log(1 + (double)x[i]);
            if (Math.Abs(x[i]) < 1e-5) exact = x[i] - (double)x[i] * x[i] / 2;
            Assert.True(Math.Abs(y[i] - exact) <= 2.5e-7 * Math.Abs(exact) + 1e-45, $"log1p({x[i]:R}) = {y[i]:R}, exact {exact:R}");
        }
        var sp = Apply(FastLog.Log1p, [-1f, float.PositiveInfinity, float.NaN, -2f]);
        Assert.Equal(float.NegativeInfinity, sp[0]);
        Assert.Equal(float.PositiveInfinity, sp[1]);
        Assert.True(float.IsNaN(sp[2]) && float.IsNaN(sp[3]));
    }

    [SkippableFact]
    public void FastExpLaneWidthsAgree()
    {
        Skip.IfNot(Vector256.IsHardwareAccelerated, "this CPU has no hardware 256-bit vectors");
        var buf = new float[8];
        for (double v = -110; v <= 90; v += 0.0173)
        {
            for (int k = 0; k < 8; k++) buf[k] = (float)(v + k * 1e-3);
            if (v > 0 && v < 0.02) buf[3] = float.NaN;
            FastExp.Exp(Vector256.Create(buf)).CopyTo(buf);
            for (int k = 0; k < 8; k++)
            {
                float xin = (float)(v + k * 1e-3);
                if (v > 0 && v < 0.02 && k == 3) { Assert.True(float.IsNaN(buf[k])); continue; }
                Assert.Equal(FastExp.Scalar(xin), buf[k]);
            }
        }
    }

    [Theory]
    [InlineData(3, 0.0, false)]
    [InlineData(10, 0.0, false)]
    [InlineData(10, 0.1, true)]
    [InlineData(31, 0.2, false)]
    [InlineData(32, 0.0, true)]
    [InlineData(37, 0.1, true)]
    [InlineData(1000, 0.0, false)]
    [InlineData(1000, 0.3, true)]
    public void CrossEntropyFloatPathsMatchDouble(int c, double eps, bool weighted)
    {
        int n = 53;
        var r = new Random(c * 7 + (weighted ? 1 : 0));
        var x = new float[n * c];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(r.NextDouble() * 6 - 3);
        var tgt = new long[n];
        for (int i = 0; i < n; i++) tgt[i] = r.Next(c);
        tgt[5] = -100; tgt[20] = -100;
        for (int j = 0; j < c; j++) { x[1 * c + j] = 1e4f + j; x[2 * c + j] = -1e4f - j; }
        if (c > 1) { x[3 * c + (tgt[3] + 1) % c] = float.NegativeInfinity; }
        for (int j = 0; j < c; j++) x[4 * c + j] = float.NegativeInfinity;
        x[6 * c + c / 2] = float.NaN;
        x[7 * c] = float.PositiveInfinity;
        float[]? w = weighted ? Enumerable.Range(0, c).Select(j => (float)(0.5 + r.NextDouble())).ToArray() : null;
        var loss = new double[n]; var mx = new float[n]; var inv = new float[n]; var rw = new double[n];
        CrossEntropyKernel.Forward(x, n, c, tgt, w, -100, eps, loss, mx, inv, rw);
        var xd = x.Select(v => (double)v).ToArray(); var wd = w?.Select(v => (double)v).ToArray();
        var lossD = new double[n]; var mxD = new double[n]; var invD = new double[n]; var rwD = new double[n];
        CrossEntropyKernel.Forward(xd, n, c, tgt, wd, -100, eps, lossD, mxD, invD, rwD);
        var scale = Enumerable.Range(0, n).Select(i => i == 9 ? 0.0 : 0.01 * (i + 1)).ToArray();
        var g = new float[n * c]; var gD = new double[n * c];
        CrossEntropyKernel.Backward(x, n, c, tgt, w, -100, eps, mx, inv, scale, g);
        CrossEntropyKernel.Backward(xd, n, c, tgt, wd, -100, eps, mxD, invD, scale, gD);
        static bool Close(double a, double b, double tol) => (double.IsNaN(a) && double.IsNaN(b)) || a == b || Math.Abs(a - b) <= tol * (1 + Math.Abs(b));
        for (int i = 0; i < n; i++)
        {
            Assert.True(Close(loss[i], lossD[i], 2e-6), $"row {i}: loss {loss[i]:R} vs {lossD[i]:R}");
            Assert.Equal(rwD[i], rw[i], 6);
            for (int j = 0; j < c; j++)
                Assert.True(Close(g[i * c + j], gD[i * c + j], 2e-6), $"grad[{i},{j}] {g[i * c + j]:R} vs {gD[i * c + j]:R}");
        }
        Assert.True(double.IsNaN(loss[4]) && double.IsNaN(loss[6]) && double.IsNaN(loss[7]) && (eps > 0 || double.IsFinite(loss[3])));
    }

    private static bool Close(double a, double b, double tol) => (double.IsNaN(a) && double.IsNaN(b)) || a == b || Math.Abs(a - b) <= tol * (1 + Math.Abs(b));

    private static (float[] x, float[] t) Inputs(int n, bool binary)
    {
        var r = new Random(n);
        var x = new float[n]; var t = new float[n];
        for (int i = 0; i < n; i++) { x[i] = (float)((r.NextDouble() - 0.5) * (i % 3 == 0 ? 60 : 4)); t[i] = binary ? r.Next(2) : (float)(r.NextDouble() * 2 - 1); }
        x[3] = float.NaN; x[17] = float.PositiveInfinity; x[18] = float.NegativeInfinity; x[40] = 1e4f; x[41] = -1e4f; x[50] = 0; t[50] = 0; x[51] = 1; t[51] = 1;
        return (x, t);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void BceFloatPathMatchesDouble(bool weighted, bool each)
    {
        int n = 1000 + 7;
        var (x, t) = Inputs(n, true);
        var r = new Random(2);
        float[]? w = weighted ? Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() + 0.5)).ToArray() : null;
        float[]? pw = weighted ? Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 3)).ToArray() : null;
        double[] D(float[]? a) => a == null ? null! : a.Select(v => (double)v).ToArray();
        var o = each ? new float[n] : null; var oD = each ? new double[n] : null;
        double tot = BceLogitsKernel.Forward(x, t, w, pw, o);
        double totD = BceLogitsKernel.Forward(D(x), D(t), D(w), D(pw), oD);
        Assert.True(Close(tot, totD, 1e-6), $"{tot} vs {totD}");
        if (each) for (int i = 0; i < n; i++) Assert.True(Close(o![i], oD![i], 1e-6), $"loss[{i}] x={x[i]} {o[i]:R} vs {oD[i]:R}");
        var ge = each ? Enumerable.Range(0, n).Select(i => (float)(i % 5 - 2)).ToArray() : null;
        var gx = new float[n]; var gt = new float[n]; var gxD = new double[n]; var gtD = new double[n];
        BceLogitsKernel.Backward(x, t, w, pw, 0.5f, ge, gx, gt);
        BceLogitsKernel.Backward(D(x), D(t), D(w), D(pw), 0.5, ge == null ? null : D(ge), gxD, gtD);
        for (int i = 0; i < n; i++)
        {
            Assert.True(Close(gx[i], gxD[i], 1e-6), $"gx[{i}] x={x[i]} {gx[i]:R} vs {gxD[i]:R}");
            Assert.True(Close(gt[i], gtD[i], 1e-6), $"gt[{i}] x={x[i]} {gt[i]:R} vs {gtD[i]:R}");
        }
    }

    [Theory]
    [InlineData("mse", 0.0)]
    [InlineData("l1", 0.0)]
    [InlineData("smooth_l1", 0.7)]
    [InlineData("smooth_l1", 0.0)]
    [InlineData("huber", 1.3)]
    public void PointwiseFloatPathMatchesDouble(string kind, double p)
    {
        switch (kind)
        {
            case "mse": FloatMatchesDouble<MseLossOperator>(p); break;
            case "l1": FloatMatchesDouble<L1LossOperator>(p); break;
            case "smooth_l1": FloatMatchesDouble<SmoothL1LossOperator>(p); break;
            default: FloatMatchesDouble<HuberLossOperator>(p); break;
        }
    }

    private static void FloatMatchesDouble<TLoss>(double p) where TLoss : IPointwiseLoss
    {
        int n = 1000 + 9;
        var (x, t) = Inputs(n, false);
        x[60] = t[60] = 2.5f; x[61] = 1; t[61] = 1 - (float)p;
        double[] D(float[] a) => a.Select(v => (double)v).ToArray();
        var o = new float[n]; var oD = new double[n];
        double tot = PointwiseLossKernel.Forward<TLoss, float>(p, x, t, o);
        double totD = PointwiseLossKernel.Forward<TLoss, double>(p, D(x), D(t), oD);
        Assert.True(Close(tot, totD, 1e-6), $"{tot} vs {totD}");
        for (int i = 0; i < n; i++) Assert.True(Close(o[i], oD[i], 1e-6), $"loss[{i}] {o[i]:R} vs {oD[i]:R}");
        var gx = new float[n]; var gt = new float[n]; var gxD = new double[n]; var gtD = new double[n];
        PointwiseLossKernel.Backward<TLoss, float>(p, x, t, 0.25f, null, gx, gt);
        PointwiseLossKernel.Backward<TLoss, double>(p, D(x), D(t), 0.25, null, gxD, gtD);
        for (int i = 0; i < n; i++)
        {
            Assert.True(Close(gx[i], gxD[i], 1e-6), $"gx[{i}] {gx[i]:R} vs {gxD[i]:R}");
            Assert.True(Close(gt[i], gtD[i], 1e-6), $"gt[{i}] {gt[i]:R} vs {gtD[i]:R}");
        }
    }

    [Theory]
    [InlineData(true, 10)]
    [InlineData(false, 10)]
    [InlineData(true, 3)]
    [InlineData(false, 31)]
    [InlineData(true, 37)]
    [InlineData(false, 37)]
    [InlineData(true, 1000)]
    [InlineData(false, 1000)]
    public void SoftmaxFloatPathMatchesDouble(bool log, int c)
    {
        int n = 45;
        var r = new Random(c);
        var x = new float[n * c];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(r.NextDouble() * 10 - 5);
        for (int j = 0; j < c; j++) { x[1 * c + j] = 1e4f + j; x[2 * c + j] = float.NegativeInfinity; }
        x[3 * c + c / 2] = float.NaN; x[4 * c] = float.PositiveInfinity; x[5 * c + c - 1] = float.NegativeInfinity; x[6 * c] = 80f;
        var y = new float[x.Length + 5]; var yD = new double[x.Length + 5];
        Softmax.Rows(log, x, 0, y, 5, n, c);
        Softmax.Rows(log, x.Select(v => (double)v).ToArray(), 0, yD, 5, n, c);
        for (int i = 5; i < y.Length; i++)
            Assert.True(Close(y[i], yD[i], 2e-6) || (!log && Math.Abs(y[i] - yD[i]) < 1e-7), $"y[{i - 5}] {y[i]:R} vs {yD[i]:R}");
    }
}
