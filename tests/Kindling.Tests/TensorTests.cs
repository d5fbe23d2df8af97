namespace Kindling.Tests;

public class TensorTests
{
    private static void Close(float[] expected, float[] actual, float tol = 1e-5f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * (1 + Math.Abs(expected[i])), $"at {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void CreationAndShapes()
    {
        var t = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        Assert.Equal(new[] { 2, 3 }, t.Shape);
        Assert.Equal(new[] { 3, 1 }, t.Strides);
        Assert.Equal(new float[] { 0, 0, 0 }, Tensor.Zeros(3).ToArray());
        Assert.Equal(new float[] { 1, 1 }, Tensor.Ones(2).ToArray());
        Assert.Equal(new float[] { 7, 7 }, Tensor.Full([2], 7).ToArray());
        Assert.Equal(new float[] { 0, 0.5f, 1, 1.5f }, Tensor.Arange(0, 2, 0.5).ToArray());
        Assert.Equal(new float[] { 1, 0, 0, 1 }, Tensor.Eye(2).ToArray());
        Assert.Equal(0, Tensor.Scalar(3).Rank);
        Assert.Equal(3f, Tensor.Scalar(3).Item());
        Assert.Equal(0, Tensor.Zeros(0, 4).NumEl);
        Assert.Throws<ArgumentException>(() => Tensor.FromArray(new float[] { 1, 2, 3 }, 2, 2));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(-1, 2));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(100000, 100000));
    }

    [Fact]
    public void RandomIsSeededAndDeterministic()
    {
        var a = Tensor.Randn([1000], new Generator(42)).ToArray();
        var b = Tensor.Randn([1000], new Generator(42)).ToArray();
        Assert.Equal(a, b);
        Assert.NotEqual(a, Tensor.Randn([1000], new Generator(43)).ToArray());
        double mean = a.Average(), var = a.Select(v => (v - mean) * (v - mean)).Average();
        Assert.InRange(mean, -0.1, 0.1);
        Assert.InRange(var, 0.9, 1.1);
        var u = Tensor.Rand([1000], new Generator(1)).ToArray();
        Assert.All(u, v => Assert.InRange(v, 0f, 0.99999994f));
        var p = Tensor.RandPerm(50, new Generator(3)).ToInt64Array();
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), p.OrderBy(v => v));
        var r = Tensor.RandInt(-3, 4, [500], new Generator(5)).ToInt64Array();
        Assert.All(r, v => Assert.InRange(v, -3, 3));
        Assert.Equal(7, r.Distinct().Count());
        // The stream is defined bit for bit: these are the first values of seed 0 on every machine.
        var g = new Generator(0);
        Assert.Equal(0x99EC5F36CB75F2B4UL, g.NextUInt64());
    }

    [Fact]
    public void Views()
    {
        var t = Tensor.Arange(0, 24).Reshape(2, 3, 4);
        Assert.Equal(new[] { 6, 4 }, t.Reshape(-1, 4).Shape);
        Assert.Equal(new[] { 2, 12 }, t.Flatten(1).Shape);
        Assert.Equal(new[] { 1, 2, 3, 4 }, t.Unsqueeze(0).Shape);
        Assert.Equal(new[] { 2, 3, 4 }, t.Unsqueeze(0).Squeeze().Shape);
        var tr = t.Transpose(0, 2);
        Assert.Equal(new[] { 4, 3, 2 }, tr.Shape);
        Assert.False(tr.IsContiguous);
        Assert.Equal(new float[] { 0, 12, 4, 16, 8, 20 }, tr.Select(0, 0).ToArray());
        Assert.Throws<InvalidOperationException>(() => tr.View(24));
        Assert.Equal(24, tr.Reshape(24).NumEl);
        Assert.Equal(new float[] { 1, 3, 5, 7, 9, 11 }, t.Reshape(12, 2).Select(1, 1).Slice(0, 0, 6).ToArray());
        Assert.Equal(new float[] { 4, 5, 6, 7, 8, 9, 10, 11 }, t.Select(0, 0).Narrow(0, 1, 2).ToArray());
        Assert.Equal(new float[] { 1, 3 }, Tensor.Arange(0, 5).Slice(0, 1, 4, 2).ToArray());
        Assert.Equal(new float[] { 3, 4 }, Tensor.Arange(0, 5).Slice(0, -2).ToArray());
        Assert.Equal(new[] { 4, 2, 3 }, t.Permute(2, 0, 1).Shape);
        Assert.Equal(new float[] { 1, 1, 2, 2 }, Tensor.FromArray(new float[] { 1, 2 }, 2, 1).Expand(2, 2).ToArray());
        Assert.Throws<ArgumentException>(() => t.Reshape(5, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Transpose(0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Narrow(1, 2, 2));
    }

    [Fact]
    public void BroadcastingArithmetic()
    {
        var a = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        var row = Tensor.FromArray(new float[] { 10, 20, 30 });
        var col = Tensor.FromArray(new float[] { 100, 200 }, 2, 1);
        Assert.Equal(new float[] { 11, 22, 33, 14, 25, 36 }, (a + row).ToArray());
        Assert.Equal(new float[] { 101, 102, 103, 204, 205, 206 }, (a + col).ToArray());
        Assert.Equal(new[] { 2, 3 }, (col + row).Shape);
        Assert.Equal(new float[] { 110, 120, 130, 210, 220, 230 }, (col + row).ToArray());
        Assert.Equal(new float[] { -1, -2, -3, -4, -5, -6 }, (-a).ToArray());
        Assert.Equal(new float[] { 2, 4, 6, 8, 10, 12 }, (a * 2).ToArray());
        Assert.Equal(new float[] { 1, 0.5f, 1f / 3, 0.25f, 0.2f, 1f / 6 }, (1 / a).ToArray());
        Assert.Equal(new float[] { 1, 4, 9, 16, 25, 36 }, a.Pow(2).ToArray());
        var ex = Assert.Throws<ArgumentException>(() => a + Tensor.Ones(2));
        Assert.Contains("(2, 3)", ex.Message);
        Assert.Contains("(2,)", ex.Message);
        Assert.Equal(new float[] { 0, 0, 1, 1, 1, 1 }, a.Gt(2).ToArray());
        Assert.Equal(new float[] { 1, 2, 9, 9, 9, 9 }, Tensor.Where(a.Gt(2), Tensor.Scalar(9), a).ToArray());
        // Large-array path (split over threads) agrees with small-array path.
        var big = Tensor.Randn([300_001], new Generator(1));
        var s1 = (big + big * 3).ToArray();
        var bigA = big.ToArray();
        for (int i = 0; i < bigA.Length; i += 997) Assert.Equal(bigA[i] + bigA[i] * 3, s1[i], 5);
        // Edge shapes.
        Assert.Equal(0, (Tensor.Zeros(0, 3) + row).NumEl);
        Assert.Equal(new[] { 1, 3 }, (Tensor.Ones(1, 3) * Tensor.Ones(1, 1)).Shape);
        Assert.Equal(new[] { 4, 1 }, (Tensor.Ones(4, 1) - Tensor.Scalar(1)).Shape);
    }

    [Fact]
    public void UnaryForward()
    {
        var x = Tensor.FromArray(new float[] { -2, -0.5f, 0, 0.5f, 3 });
        Close(new[] { -2, -0.5f, 0, 0.5f, 3 }.Select(v => MathF.Exp(v)).ToArray(), x.Exp().ToArray());
        Close(new[] { 0, 0, 0, 0.5f, 3 }, x.Relu().ToArray());
        Close(new[] { -1, -1, 0, 1f, 1 }, x.Sign().ToArray());
        Close(new[] { -2, -0.5f, 0, 0.5f, 3 }.Select(v => 1 / (1 + MathF.Exp(-v))).ToArray(), x.Sigmoid().ToArray());
        // PyTorch: torch.nn.functional.gelu(torch.tensor([-2, -0.5, 0, 0.5, 3.]))
        Close(new[] { -0.0455003f, -0.1542687f, 0f, 0.3457313f, 2.9959502f }, x.Gelu().ToArray());
        Close(new[] { 0.126928f, 0.474077f, 0.693147f, 0.974077f, 3.048587f }, x.Softplus().ToArray());
        Close(new[] { -1, -0.5f, 0, 0.5f, 1 }, x.Clamp(-1, 1).ToArray());
        Assert.Equal(1000f, Tensor.FromArray(new float[] { 1000 }).Softplus().Item());
        Assert.Equal(1f, Tensor.FromArray(new float[] { 1000 }).Sigmoid().Item());
        Assert.Equal(0f, Tensor.FromArray(new float[] { -1000 }).Sigmoid().Item());
        Assert.Throws<ArgumentException>(() => Tensor.FromArray(new long[] { 1, 2 }).Exp());
    }

    [Fact]
    public void Reductions()
    {
        var a = Tensor.FromArray(new float[] { 1, 5, 3, 4, 2, 6 }, 2, 3);
        Assert.Equal(21f, a.Sum().Item());
        Assert.Equal(new float[] { 5, 7, 9 }, a.Sum(0).ToArray());
        Assert.Equal(new float[] { 9, 12 }, a.Sum(1).ToArray());
        Assert.Equal(new[] { 2, 1 }, a.Sum(1, keepDim: true).Shape);
        Assert.Equal(3.5f, a.Mean().Item());
        Assert.Equal(new float[] { 3, 4 }, a.Mean(1).ToArray());
        Assert.Equal(3.5f, a.Var().Item(), 5);
        Assert.Equal(new float[] { 4.5f, 4.5f, 4.5f }, a.Var(0).ToArray());
        var (v, i) = a.Max(1);
        Assert.Equal(new float[] { 5, 6 }, v.ToArray());
        Assert.Equal(new long[] { 1, 2 }, i.ToInt64Array());
        Assert.Equal(new long[] { 0, 1 }, a.ArgMin(1).ToInt64Array());
        Assert.Equal(5L, a.ArgMax().ToInt64Array()[0]);
        Assert.Equal(720f, a.Prod().Item());
        Assert.Equal(6f, a.Max().Item());
        Assert.Equal(MathF.Sqrt(91), a.Norm().Item(), 4);
        Assert.Equal(21f, a.Norm(1).Item());
        // logsumexp stays finite for huge values and is exact for -inf rows.
        var big = Tensor.FromArray(new float[] { 1000, 1000, -1000, float.NegativeInfinity }, 2, 2);
        var lse = big.LogSumExp(1).ToArray();
        Assert.Equal(1000 + MathF.Log(2), lse[0], 3);
        Assert.Equal(-1000f, lse[1]);
        Assert.Equal(float.NegativeInfinity, Tensor.Full([3], double.NegativeInfinity).LogSumExp(0).Item());
        Assert.True(float.IsNaN(Tensor.FromArray(new float[] { 1, float.NaN }).Max().Item()));
        Assert.True(float.IsNaN(Tensor.Zeros(0).Mean().Item()));
        Assert.Equal(0f, Tensor.Zeros(0).Sum().Item());
    }

    [Fact]
    public void SoftmaxIsStableAndMatchesPyTorch()
    {
        var x = Tensor.FromArray(new float[] { 1, 2, 3, 1000, 1001, 1002, -1e4f, 0, 1e4f }, 3, 3);
        var ls = x.LogSoftmax(1).ToArray();
        // torch.log_softmax(torch.tensor([1., 2., 3.]), 0) = [-2.4076, -1.4076, -0.4076]
        Close(new[] { -2.4076059f, -1.4076059f, -0.4076059f }, ls[..3]);
        Close(new[] { -2.4076059f, -1.4076059f, -0.4076059f }, ls[3..6]);
        Close(new[] { -2e4f, -1e4f, 0f }, ls[6..]);
        var sm = x.Softmax(1).ToArray();
        Assert.All(sm, v => Assert.True(float.IsFinite(v)));
        Close(new[] { 0.09003057f, 0.24472847f, 0.66524096f }, sm[..3]);
        var col = x.Softmax(0).Sum(0).ToArray();
        Close(new[] { 1f, 1f, 1f }, col);
        var withNegInf = Tensor.FromArray(new float[] { float.NegativeInfinity, 0, 0 }).LogSoftmax(0).ToArray();
        Assert.Equal(float.NegativeInfinity, withNegInf[0]);
        Assert.Equal(-MathF.Log(2), withNegInf[1], 5);
    }

    [Fact]
    public void MatmulShapes()
    {
        var a = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        var b = Tensor.FromArray(new float[] { 1, 0, 0, 1, 1, 1 }, 3, 2);
        Assert.Equal(new float[] { 4, 5, 10, 11 }, Tensor.Matmul(a, b).ToArray());
        Assert.Equal(new float[] { 14 }, Tensor.Matmul(Tensor.FromArray(new float[] { 1, 2, 3 }), Tensor.FromArray(new float[] { 1, 2, 3 })).ToArray());
        Assert.Equal(0, Tensor.Matmul(Tensor.FromArray(new float[] { 1, 2, 3 }), Tensor.FromArray(new float[] { 1, 2, 3 })).Rank);
        Assert.Equal(new float[] { 14, 32 }, Tensor.Matmul(a, Tensor.FromArray(new float[] { 1, 2, 3 })).ToArray());
        Assert.Equal(new float[] { 9, 12, 15 }, Tensor.Matmul(Tensor.FromArray(new float[] { 1, 2 }), a).ToArray());
        // Transposed views go through the kernel without copies and agree with the copied operands.
        Assert.Equal(Tensor.Matmul(a.T.Contiguous(), b.T.Contiguous()).ToArray(), Tensor.Matmul(a.T, b.T).ToArray());
        // Batched with broadcast batch dimensions.
        var ba = Tensor.Randn([4, 1, 3, 5], new Generator(1));
        var bb = Tensor.Randn([2, 5, 2], new Generator(2));
        var y = Tensor.Matmul(ba, bb);
        Assert.Equal(new[] { 4, 2, 3, 2 }, y.Shape);
        var expect = Tensor.Matmul(ba.Select(0, 3).Select(0, 0), bb.Select(0, 1)).ToArray();
        Assert.Equal(expect, y.Select(0, 3).Select(0, 1).ToArray());
        var ex = Assert.Throws<ArgumentException>(() => Tensor.Matmul(Tensor.Ones(3, 4), Tensor.Ones(5, 2)));
        Assert.Equal("matmul: (3, 4) @ (5, 2): inner dimensions 4 and 5 differ.", ex.Message);
        Assert.Equal(new[] { 0, 2 }, Tensor.Matmul(Tensor.Ones(0, 4), Tensor.Ones(4, 2)).Shape);
        Assert.Equal(new float[] { 0, 0, 0, 0 }, Tensor.Matmul(Tensor.Ones(2, 0), Tensor.Ones(0, 2)).ToArray());
    }

    [Fact]
    public void IndexingOps()
    {
        var x = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        var idx = Tensor.FromArray(new long[] { 2, 0 }, 2, 1);
        Assert.Equal(new float[] { 3, 4 }, x.Gather(1, idx).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Gather(1, Tensor.FromArray(new long[] { 3, 0 }, 2, 1)));
        var s = Tensor.ScatterAdd(Tensor.Zeros(2, 3), 1, Tensor.FromArray(new long[] { 1, 1, 0, 2 }, 2, 2), Tensor.Ones(2, 2));
        Assert.Equal(new float[] { 0, 2, 0, 1, 0, 1 }, s.ToArray());
        Assert.Equal(new float[] { 3, 1, 6, 4 }, x.IndexSelect(1, Tensor.FromArray(new long[] { 2, 0 })).ToArray());
        Assert.Equal(new long[] { 0, 1, 0, 1, 0, 0, 0, 0, 1 }, Tensor.OneHot(Tensor.FromArray(new long[] { 1, 0, 2 })).ToInt64Array()[..9]);
        Assert.Equal(new[] { 4, 3 }, Tensor.Cat([x, x], 0).Shape);
        Assert.Equal(new float[] { 1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6 }, Tensor.Cat([x, x], 1).ToArray());
        Assert.Equal(new[] { 2, 2, 3 }, Tensor.Stack([x, x]).Shape);
        Assert.Throws<ArgumentException>(() => Tensor.Cat([x, Tensor.Ones(2, 2)], 0));
    }

    [Fact]
    public void ToStringLooksLikePyTorch()
    {
        var t = Tensor.FromArray(new float[] { 1, 2.5f, -3, 4 }, 2, 2);
        Assert.Equal("tensor([[ 1.0000,  2.5000],\n        [-3.0000,  4.0000]]) shape=(2, 2)".Replace("  ", " ").Replace("[ ", "["), t.ToString().Replace("  ", " ").Replace("[ ", "["));
        Assert.Equal("tensor([1, 2]) shape=(2,)", Tensor.FromArray(new long[] { 1, 2 }).ToString());
        Assert.Contains("requires_grad=True", Tensor.Ones(2).RequiresGrad_().ToString());
    }

    [Fact]
    public void DTypeErrors()
    {
        var i = Tensor.FromArray(new long[] { 1, 2 });
        var ex = Assert.Throws<ArgumentException>(() => i.Log());
        Assert.Contains("int64", ex.Message);
        Assert.Throws<ArgumentException>(() => Tensor.Matmul(i, i));
        Assert.Equal(new long[] { 2, 4 }, (i + i).ToInt64Array());
        Assert.Throws<InvalidOperationException>(() => i.RequiresGrad = true);
    }
}

public class FastExpTests
{
    [Fact]
    public void FastExpIsAccurateEverywhere()
    {
        // Dense sweep over the whole float range that matters, plus the edges.
        var xs = new List<float>();
        for (double v = -110; v <= 90; v += 0.0137) xs.Add((float)v);
        xs.AddRange([0f, -0f, 1e-30f, -1e-30f, 88.72f, 88.73f, -87.3f, -103.9f, -104f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.MaxValue, float.MinValue]);
        var x = xs.ToArray();
        var y = new float[x.Length];
        Kindling.Kernels.FastExp.Exp(x, y);
        for (int i = 0; i < x.Length; i++)
        {
            double exact = Math.Exp(x[i]);
            if (float.IsNaN(x[i])) { Assert.True(float.IsNaN(y[i])); continue; }
            if (exact > float.MaxValue) { Assert.Equal(float.PositiveInfinity, y[i]); continue; }
            if (exact < 1.2e-38) { Assert.True(Math.Abs(y[i] - exact) <= 2e-45 + 1e-6 * exact, $"exp({x[i]}) = {y[i]}, exact {exact}"); continue; }
            Assert.True(Math.Abs(y[i] - exact) <= 3e-7 * exact, $"exp({x[i]}) = {y[i]:R}, exact {exact:R}, rel {Math.Abs(y[i] - exact) / exact:E2}");
        }
        // Every lane width gives the same answers as the scalar path.
        for (int i = 0; i < x.Length; i++) Assert.Equal(y[i], Kindling.Kernels.FastExp.Scalar(x[i]));
    }
}
