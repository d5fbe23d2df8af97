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

    [Fact]
    public void FastLogIsAccurateEverywhere()
    {
        if (!Avx512F.IsSupported) return;
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

    [Fact]
    public void FastLog1pIsAccurateEverywhere()
    {
        if (!Avx512F.IsSupported) return;
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

    [Fact]
    public void FastExpLaneWidthsAgree()
    {
        if (!Vector256.IsHardwareAccelerated) return;
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
}
