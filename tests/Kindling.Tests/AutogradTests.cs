namespace Kindling.Tests;

public class AutogradTests
{
    private static Tensor R(params int[] shape) => Tensor.Randn(shape, new Generator((ulong)shape.Sum() * 31 + 7), DType.Float64).RequiresGrad_();
    private static Tensor Pos(params int[] shape) => (Tensor.Rand(shape, new Generator(99), DType.Float64) + 0.5).Detach().RequiresGrad_();

    public static IEnumerable<object[]> UnaryOps() => new (string, Func<Tensor, Tensor>, bool)[]
    {
        ("neg", x => -x, false), ("exp", x => x.Exp(), false), ("log", x => x.Log(), true), ("log1p", x => x.Log1p(), true),
        ("expm1", x => x.Expm1(), false), ("sqrt", x => x.Sqrt(), true), ("rsqrt", x => x.Rsqrt(), true), ("abs", x => x.Abs(), false),
        ("sigmoid", x => x.Sigmoid(), false), ("tanh", x => x.Tanh(), false), ("relu", x => x.Relu(), false),
        ("softplus", x => x.Softplus(), false), ("gelu", x => x.Gelu(), false), ("erf", x => x.Erf(), false), ("square", x => x.Square(), false),
        ("reciprocal", x => x.Reciprocal(), true), ("sin", x => x.Sin(), false), ("cos", x => x.Cos(), false),
        ("pow2.5", x => x.Pow(2.5), true), ("clamp", x => x.Clamp(-0.5, 0.7), false), ("leaky", x => x.LeakyRelu(0.1), false),
        ("elu", x => x.Elu(), false), ("silu", x => x.Silu(), false),
        ("hardswish", x => (x * 2.5).Hardswish(), false), ("mish", x => (x * 3).Mish(), false), ("sign", x => x.Sign() * x, false),
        ("sum", x => x.Sum(), false), ("sum1", x => x.Sum(1), false), ("sum0k", x => x.Sum(0, true), false), ("mean", x => x.Mean(), false),
        ("mean1", x => x.Mean(1), false), ("var", x => x.Var(), false), ("var0", x => x.Var(0, keepDim: true), false), ("std1", x => x.Std(1), false),
        ("prod1", x => x.Prod(1), false), ("max", x => x.Max(), false), ("max1", x => x.Max(1).Values, false), ("min0", x => x.Min(0, true).Values, false),
        ("logsumexp", x => x.LogSumExp(1), false), ("norm", x => x.Norm(), false), ("norm1dim", x => x.Norm(1, 1), false), ("norm3", x => x.Norm(3, 0), false),
        ("softmax1", x => x.Softmax(1), false), ("softmax0", x => x.Softmax(0), false), ("logsoftmax1", x => x.LogSoftmax(1), false), ("logsoftmax0", x => x.LogSoftmax(0), false),
        ("reshape", x => x.Reshape(4, 3) * Tensor.Arange(12, DType.Float64).Reshape(4, 3), false), ("transpose", x => x.T * Tensor.Arange(12, DType.Float64).Reshape(4, 3), false),
        ("slice", x => x.Slice(1, 1, 4, 2).Exp(), false), ("narrow", x => x.Narrow(0, 1, 2).Square(), false), ("select", x => x.Select(1, 2).Exp(), false),
        ("expand", x => x.Slice(0, 0, 1).Expand(5, 4).Exp(), false), ("permute", x => x.Unsqueeze(0).Permute(2, 0, 1).Square(), false),
        ("flatten", x => x.Flatten().Exp(), false), ("contiguous", x => x.T.Contiguous().Square(), false), ("clone", x => x.Clone().Square(), false),
        ("gather", x => x.Gather(1, Tensor.FromArray(new long[] { 0, 3, 3, 1, 2, 2 }, 3, 2)), false),
        ("indexselect", x => x.IndexSelect(1, Tensor.FromArray(new long[] { 3, 0, 3 })), false),
        ("cat", x => Tensor.Cat([x, x.Exp()], 1), false), ("stack", x => Tensor.Stack([x, x.Square()], 0), false),
        ("where", x => Tensor.Where(x.Gt(0), x.Exp(), x.Square()), false), ("maxself", x => Tensor.Maximum(x, x.Flip0()), false),
    }.Select(t => new object[] { t.Item1, t.Item2, t.Item3 });

    [Theory]
    [MemberData(nameof(UnaryOps))]
    public void UnaryGradcheck(string name, Func<Tensor, Tensor> f, bool positive)
    {
        var x = positive ? Pos(3, 4) : R(3, 4);
        GradCheck.Check(a => f(a[0]), [x]);
        Assert.NotNull(name);
    }

    public static IEnumerable<object[]> BinaryOps() => new (string, Func<Tensor, Tensor, Tensor>, int[], int[], bool)[]
    {
        ("add", (a, b) => a + b, [3, 4], [4], false), ("sub", (a, b) => a - b, [3, 1], [1, 4], false),
        ("mul", (a, b) => a * b, [2, 3, 4], [3, 1], false), ("div", (a, b) => a / b, [3, 4], [3, 4], true),
        ("pow", (a, b) => Tensor.Pow(a, b), [3, 4], [4], true), ("max", (a, b) => Tensor.Maximum(a, b), [3, 4], [3, 4], false),
        ("min", (a, b) => Tensor.Minimum(a, b), [3, 4], [1], false),
        ("matmul", (a, b) => Tensor.Matmul(a, b), [3, 4], [4, 5], false), ("matvec", (a, b) => Tensor.Matmul(a, b), [3, 4], [4], false),
        ("vecmat", (a, b) => Tensor.Matmul(a, b), [4], [4, 2], false), ("dot", (a, b) => Tensor.Matmul(a, b), [5], [5], false),
        ("bmm", (a, b) => Tensor.Matmul(a, b), [2, 3, 4], [4, 2], false), ("bmmbroadcast", (a, b) => Tensor.Matmul(a, b), [2, 1, 3, 4], [3, 4, 2], false),
        ("matmulT", (a, b) => Tensor.Matmul(a.T, b.T), [4, 3], [5, 4], false),
        ("scatteradd", (a, b) => Tensor.ScatterAdd(a, 0, Tensor.FromArray(new long[] { 1, 0, 1, 1, 2, 0, 0, 0 }, 2, 4), b), [3, 4], [2, 4], false),
    }.Select(t => new object[] { t.Item1, t.Item2, t.Item3, t.Item4, t.Item5 });

    [Theory]
    [MemberData(nameof(BinaryOps))]
    public void BinaryGradcheck(string name, Func<Tensor, Tensor, Tensor> f, int[] sa, int[] sb, bool positive)
    {
        var a = positive ? Pos(sa) : R(sa);
        var b = positive ? (Tensor.Rand(sb, new Generator(5), DType.Float64) + 0.5).Detach().RequiresGrad_() : Tensor.Randn(sb, new Generator(77), DType.Float64).RequiresGrad_();
        GradCheck.Check(x => f(x[0], x[1]), [a, b]);
        Assert.NotNull(name);
    }

    [Fact]
    public void GradCheckCatchesAWrongGradient()
    {
        // A deliberately wrong backward (the gradient of x² claimed to be x) must be caught.
        var x = R(4);
        var ex = Assert.Throws<InvalidOperationException>(() => GradCheck.Check(a => a[0].Square().Detach() + a[0] * a[0].Detach() * 0.5, [x]));
        Assert.Contains("finite differences", ex.Message);
    }

    [Fact]
    public void LeafNonLeafAccumulationAndRetainGrad()
    {
        var x = Tensor.FromArray(new float[] { 1, 2, 3 }).RequiresGrad_();
        var y = x * 2;
        y.RetainGrad();
        var z = (y * y).Sum();
        z.Backward();
        Assert.Equal(new float[] { 8, 16, 24 }, x.Grad!.ToArray());
        Assert.Equal(new float[] { 4, 8, 12 }, y.Grad!.ToArray());
        Assert.True(x.IsLeaf);
        Assert.False(y.IsLeaf);
        (x * 3).Sum().Backward();
        Assert.Equal(new float[] { 11, 19, 27 }, x.Grad!.ToArray());
        var w = x * 1;
        Assert.Null(w.Grad);
    }

    [Fact]
    public void MisuseErrors()
    {
        var x = Tensor.FromArray(new float[] { 1, 2, 3 }).RequiresGrad_();
        var ex1 = Assert.Throws<InvalidOperationException>(() => (x * 2).Backward());
        Assert.Contains("scalar", ex1.Message);
        var loss = (x * x).Sum();
        loss.Backward();
        var ex2 = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("second time", ex2.Message);
        var e = x.Exp();
        var l2 = e.Sum();
        using (Autograd.NoGrad()) e.MulInPlace(2);
        var ex3 = Assert.Throws<InvalidOperationException>(() => l2.Backward());
        Assert.Contains("in-place", ex3.Message);
        Assert.Throws<InvalidOperationException>(() => x.MulInPlace(2));
        Assert.Throws<InvalidOperationException>(() => Tensor.Ones(2).Sum().Backward());
        // retainGraph allows a second backward.
        var y = (x * x).Sum();
        x.Grad = null;
        y.Backward(retainGraph: true);
        y.Backward();
        Assert.Equal(new float[] { 4, 8, 12 }, x.Grad!.ToArray());
        // Non-scalar backward with an explicit gradient.
        x.Grad = null;
        (x * 2).Backward(Tensor.FromArray(new float[] { 1, 0, 1 }));
        Assert.Equal(new float[] { 2, 0, 2 }, x.Grad!.ToArray());
    }

    [Fact]
    public void NoGradAndDetach()
    {
        var x = Tensor.Ones(2).RequiresGrad_();
        using (Autograd.NoGrad())
        {
            var y = x * 2;
            Assert.False(y.RequiresGrad);
            Assert.False(Autograd.IsGradEnabled);
        }
        Assert.True(Autograd.IsGradEnabled);
        Assert.False(x.Detach().RequiresGrad);
        Assert.True((x * 2).RequiresGrad);
    }

    [Fact]
    public void DeepChainDoesNotOverflowTheStack()
    {
        var x = Tensor.FromArray(new float[] { 1 }).RequiresGrad_();
        var y = x;
        for (int i = 0; i < 100_000; i++) y = y * 1.0;
        y.Sum().Backward();
        Assert.Equal(1f, x.Grad!.Item());
    }

    [Fact]
    public void SharedSubgraphGradientsAddUp()
    {
        var x = Tensor.FromArray(new double[] { 0.3, -1.2 }).RequiresGrad_();
        GradCheck.Check(a => { var h = a[0].Tanh(); return h * h + h.Exp() * a[0]; }, [x]);
    }
}

internal static class TestExt
{
    public static Tensor Flip0(this Tensor x) => x.IndexSelect(0, Tensor.FromArray(Enumerable.Range(0, x.Size(0)).Reverse().Select(i => (long)i).ToArray()));
}

public class ModuleRegistrationTests
{
    private sealed class Forgetful : Kindling.NN.Module
    {
        private readonly Tensor _w = Tensor.Ones(3, 2).RequiresGrad_(); // never registered
        public override Tensor Forward(Tensor input) => Tensor.Matmul(input, _w);
    }

    private sealed class ForgetfulParent : Kindling.NN.Module
    {
        private readonly Kindling.NN.Linear _inner = new(3, 2); // never registered
        public override Tensor Forward(Tensor input) => _inner.Call(input);
    }

    [Fact]
    public void AnUnregisteredParameterIsReportedEvenAfterAnEvaluationFirst()
    {
        var m = new Forgetful();
        using (Autograd.NoGrad()) m.Call(Tensor.Ones(1, 3));  // evaluation first: no graph to check yet
        var e = Assert.Throws<InvalidOperationException>(() => m.Call(Tensor.Ones(1, 3)));
        Assert.Contains("RegisterParameter", e.Message);
    }

    [Fact]
    public void AnUnregisteredChildIsReported()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new ForgetfulParent().Call(Tensor.Ones(1, 3)));
        Assert.Contains("RegisterModule", e.Message);
    }

    [Fact]
    public void StateDictNamesAndReprFollowPyTorch()
    {
        var m = new Kindling.NN.Sequential(new Kindling.NN.Linear(3, 4), new Kindling.NN.ReLU(), new Kindling.NN.Linear(4, 2));
        Assert.Equal(new[] { "0.weight", "0.bias", "2.weight", "2.bias" }, m.NamedParameters().Select(p => p.Name).ToArray());
        Assert.Equal("Sequential(\n  (0): Linear(in_features=3, out_features=4, bias=True)\n  (1): ReLU()\n  (2): Linear(in_features=4, out_features=2, bias=True)\n)", m.ToString());
        var bad = m.StateDict();
        bad["0.weight"] = Tensor.Zeros(5, 5);
        bad.Remove("2.bias");
        bad["extra"] = Tensor.Zeros(1);
        var before = m.NamedParameters().First().Parameter.ToArray();
        var e = Assert.Throws<ArgumentException>(() => m.LoadStateDict(bad));
        Assert.Contains("missing keys: 2.bias", e.Message);
        Assert.Contains("unexpected keys: extra", e.Message);
        Assert.Contains("0.weight: expected (4, 3), got (5, 5)", e.Message);
        Assert.Equal(before, m.NamedParameters().First().Parameter.ToArray()); // nothing half-loaded
    }
}
