using Kindling.NN;

namespace Kindling.Tests;

/// <summary>
/// The attention kernel and layers beyond the PyTorch fixtures: float64 gradchecks (every mask kind, causal, several
/// kernel blocks, the packed and separate projections), memory that does not grow with L·S, the defined result of a
/// fully masked row, the key/value cache against a full recompute, and the error messages.
/// </summary>
public class AttentionTests
{
    private static Tensor Rn(ulong seed, params int[] shape) => Tensor.Randn(shape, new Generator(seed), DType.Float64);

    public static TheoryData<string> GradcheckCases() => new() { "plain", "bool", "float", "causal", "blocks_causal", "blocks_mask", "broadcast_mask" };

    [Theory]
    [MemberData(nameof(GradcheckCases))]
    public void ScaledDotProductAttentionGradcheck(string kind)
    {
        var (L, S) = kind.StartsWith("blocks") ? (70, 67) : (5, 6);
        var q = Rn(1, 2, L, 3).RequiresGrad_(); var k = Rn(2, 2, S, 3).RequiresGrad_(); var v = Rn(3, 2, S, 2).RequiresGrad_();
        Tensor? mask = kind switch
        {
            "bool" or "blocks_mask" => Tensor.Rand([L, S], new Generator(4)).Gt(0.3).LogicalNot().LogicalAnd(Tensor.Arange(S).Ne(0).Reshape(1, S).Expand(L, S)).LogicalNot(),
            "float" => Rn(5, 2, L, S),
            "broadcast_mask" => Rn(6, 2, 1, S),
            _ => null,
        };
        bool causal = kind.Contains("causal");
        GradCheck.Check(a => Functional.ScaledDotProductAttention(a[0], a[1], a[2], mask, isCausal: causal), [q, k, v]);
    }

    [Fact]
    public void FloatMaskThatRequiresGradGetsItsGradient()
    {
        var q = Rn(1, 1, 4, 3).RequiresGrad_(); var k = Rn(2, 1, 5, 3).RequiresGrad_(); var v = Rn(3, 1, 5, 2).RequiresGrad_(); var bias = Rn(4, 4, 5).RequiresGrad_();
        GradCheck.Check(a => Functional.ScaledDotProductAttention(a[0], a[1], a[2], a[3]), [q, k, v, bias]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MultiheadAttentionGradcheck(bool selfAttention)
    {
        var m = new MultiheadAttention(6, 2, batchFirst: true, kdim: selfAttention ? null : 4, vdim: selfAttention ? null : 5, generator: new Generator(7), dtype: DType.Float64);
        var x = Rn(8, 2, 5, 6).RequiresGrad_();
        var kpm = Tensor.FromArray(new[] { false, true, false, false, true, false, false, false, false, true }, 2, 5);
        if (selfAttention)
        {
            // The packed (3E, E) projection and the fused kernel, causal; parameters are checked through their gradients below.
            GradCheck.Check(a => m.Forward(a[0], a[0], a[0], needWeights: false, isCausal: true).Output, [x]);
            GradCheck.Check(a => m.Forward(a[0], a[0], a[0], kpm, needWeights: false).Output, [x]);
        }
        else
        {
            var key = Rn(9, 2, 5, 4).RequiresGrad_(); var value = Rn(10, 2, 5, 5).RequiresGrad_();
            GradCheck.Check(a => m.Forward(a[0], a[1], a[2], kpm, needWeights: false).Output, [x, key, value]);
        }
        // The parameters' gradients: one backward against finite differences of each parameter's first entries.
        foreach (var (name, p) in m.NamedParameters())
        {
            var q = x.Detach();
            Tensor F() => (m.Forward(q, q, q, needWeights: false, isCausal: true).Output.Square()).Sum();
            if (!selfAttention) { var key = Rn(9, 2, 5, 4); var value = Rn(10, 2, 5, 5); F2(m, name, p, () => m.Forward(q, key, value, kpm, needWeights: false).Output.Square().Sum()); }
            else F2(m, name, p, F);
        }
    }

    private static void F2(Module m, string name, Tensor p, Func<Tensor> loss)
    {
        m.ZeroGrad(setToNone: true);
        loss().Backward();
        var analytic = p.Grad!.ToDoubleArray();
        var flat = p.Detach().Reshape(-1);
        for (int i = 0; i < Math.Min(4, p.NumEl); i++)
        {
            double orig = flat.Select(0, i).ItemDouble();
            double At(double x) { using (Autograd.NoGrad()) flat.Select(0, i).Fill_(x); using (Autograd.NoGrad()) return loss().ItemDouble(); }
            double numeric = (At(orig + 1e-6) - At(orig - 1e-6)) / 2e-6;
            At(orig);
            Assert.True(Math.Abs(numeric - analytic[i]) <= 1e-5 + 1e-4 * Math.Abs(numeric), $"{name}[{i}]: analytic {analytic[i]}, numeric {numeric}");
        }
    }

    [Fact]
    public void LongSequencesDoNotMaterialiseTheScoreMatrix()
    {
        // L = S = 2048: one L×S float32 matrix per head is 16 MiB; forward and backward together allocate far less.
        const int L = 2048, E = 16;
        var g = new Generator(3);
        var q = Tensor.Randn([1, 1, L, E], g).RequiresGrad_(); var k = Tensor.Randn([1, 1, L, E], g).RequiresGrad_(); var v = Tensor.Randn([1, 1, L, E], g).RequiresGrad_();
        var gy = Tensor.Randn([1, 1, L, E], g);
        Functional.ScaledDotProductAttention(q, k, v, isCausal: true).Backward(gy); // warm: JIT, pool, per-thread tiles
        q.Grad = k.Grad = v.Grad = null;
        long before = GC.GetTotalAllocatedBytes(true);
        var y = Functional.ScaledDotProductAttention(q, k, v, isCausal: true);
        y.Backward(gy);
        long allocated = GC.GetTotalAllocatedBytes(true) - before;
        Assert.True(allocated < 4L << 20, $"forward + backward allocated {allocated / 1024} KiB; the score matrix alone is {L * L * 4 / 1024} KiB");
        // And the values are attention's: against the materialised formula on the last rows.
        using (Autograd.NoGrad())
        {
            var (expected, _) = Functional.AttentionMath(q.Narrow(2, L - 8, 8).ToFloat64(), k.ToFloat64(), v.ToFloat64(), null, true, L - 8, 0, null);
            var got = y.Narrow(2, L - 8, 8).ToFloat64();
            Assert.True((expected - got).Abs().Max().ItemDouble() < 1e-5);
        }
    }

    [Fact]
    public void FullyMaskedRowIsNaNAsInPyTorch()
    {
        var q = Rn(1, 1, 3, 4); var k = Rn(2, 1, 4, 4); var v = Rn(3, 1, 4, 2);
        var keep = Tensor.FromArray(new[] { true, false, true, true, false, false, false, false, true, true, true, true }, 3, 4);
        var y = Functional.ScaledDotProductAttention(q, k, v, keep).ToDoubleArray();
        Assert.All(y[2..4], d => Assert.True(double.IsNaN(d)));           // row 1: every key masked
        Assert.All(y[..2].Concat(y[4..]), d => Assert.True(double.IsFinite(d)));
        // nn.MultiheadAttention: a batch whose keys are all padding is NaN in every row of that batch only.
        var m = new MultiheadAttention(4, 2, batchFirst: true, generator: new Generator(1), dtype: DType.Float64);
        var x = Rn(4, 2, 3, 4);
        var pad = Tensor.FromArray(new[] { true, true, true, false, true, false }, 2, 3);
        var (o, _) = m.Forward(x, x, x, pad, needWeights: false);
        Assert.All(o.Select(0, 0).ToDoubleArray(), d => Assert.True(double.IsNaN(d)));
        Assert.All(o.Select(0, 1).ToDoubleArray(), d => Assert.True(double.IsFinite(d)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void KeyValueCacheDecodingEqualsFullRecompute(int prompt)
    {
        const int T = 9, E = 8;
        var m = new MultiheadAttention(E, 2, batchFirst: true, generator: new Generator(5), dtype: DType.Float64);
        m.Eval();
        var x = Rn(6, 3, T, E);
        using var _ = Autograd.NoGrad();
        var full = m.Forward(x, x, x, needWeights: false, isCausal: true).Output;
        var cache = new KeyValueCache();
        var parts = new List<Tensor>();
        var first = x.Narrow(1, 0, prompt);
        parts.Add(m.Forward(first, first, first, needWeights: false, isCausal: true, cache: cache).Output);
        for (int t = prompt; t < T; t++)
        {
            var step = x.Narrow(1, t, 1);
            parts.Add(m.Forward(step, step, step, needWeights: false, isCausal: true, cache: cache).Output);
        }
        Assert.Equal(T, cache.Length);
        var cached = Tensor.Cat(parts, 1);
        Assert.True((full - cached).Abs().Max().ItemDouble() < 1e-12, "cached decoding differs from the full causal forward");
        // The cache is not a no-op: without it a single token attends only to itself.
        var alone = m.Forward(x.Narrow(1, T - 1, 1), x.Narrow(1, T - 1, 1), x.Narrow(1, T - 1, 1), needWeights: false).Output;
        Assert.True((alone - full.Narrow(1, T - 1, 1)).Abs().Max().ItemDouble() > 1e-3);
        cache.Clear();
        Assert.Equal(0, cache.Length);
    }

    [Fact]
    public void ErrorsSayWhatIsWrong()
    {
        var q = Rn(1, 2, 5, 4);
        Assert.Contains("key's last dimension 3 must equal query's 4", Assert.Throws<ArgumentException>(() => Functional.ScaledDotProductAttention(q, Rn(2, 2, 6, 3), Rn(3, 2, 6, 3))).Message);
        Assert.Contains("value's length 7 must equal key's 6", Assert.Throws<ArgumentException>(() => Functional.ScaledDotProductAttention(q, Rn(2, 2, 6, 4), Rn(3, 2, 7, 3))).Message);
        Assert.Contains("attn_mask (3, 6) must broadcast to (2, 5, 6)", Assert.Throws<ArgumentException>(() => Functional.ScaledDotProductAttention(q, Rn(2, 2, 6, 4), Rn(3, 2, 6, 3), Rn(4, 3, 6))).Message);
        Assert.Contains("embed_dim 10 must be divisible by num_heads 3", Assert.Throws<ArgumentException>(() => new MultiheadAttention(10, 3)).Message);
        var m = new MultiheadAttention(4, 2, batchFirst: true, dtype: DType.Float64);
        var x = Rn(5, 2, 3, 4);
        Assert.Contains("the 2-D attn_mask is (3, 4), but should be (3, 3)", Assert.Throws<ArgumentException>(() => m.Forward(x, x, x, attnMask: Rn(6, 3, 4))).Message);
        Assert.Contains("key_padding_mask is (3, 3), expected (2, 3)", Assert.Throws<ArgumentException>(() => m.Forward(x, x, x, Tensor.Zeros([3, 3], DType.Bool))).Message);
        Assert.Contains("query has 5 features, expected embed_dim 4", Assert.Throws<ArgumentException>(() => m.Forward(Rn(7, 2, 3, 5), x, x)).Message);
        Assert.Contains("activation must be 'relu' or 'gelu'", Assert.Throws<ArgumentException>(() => new TransformerEncoderLayer(4, 2, activation: "tanh")).Message);
        Assert.Contains("approximate must be 'none' or 'tanh'", Assert.Throws<ArgumentException>(() => new GELU("fast")).Message);
    }

    [Fact]
    public void StateDictNamesAreTorchs()
    {
        var packed = new MultiheadAttention(8, 2, addBiasKv: true);
        Assert.Equal(["in_proj_weight", "in_proj_bias", "bias_k", "bias_v", "out_proj.weight", "out_proj.bias"], packed.StateDict().Keys.ToArray());
        var separate = new MultiheadAttention(8, 2, kdim: 3, vdim: 5, bias: false);
        Assert.Equal(["q_proj_weight", "k_proj_weight", "v_proj_weight", "out_proj.weight"], separate.StateDict().Keys.ToArray());
        Assert.Equal([8, 3], separate.KProjWeight!.Shape);
        var enc = new TransformerEncoder(new TransformerEncoderLayer(8, 2, 16), 2, new LayerNorm(8));
        Assert.Contains("layers.1.self_attn.in_proj_weight", enc.StateDict().Keys);
        Assert.Contains("layers.0.linear2.bias", enc.StateDict().Keys);
        Assert.Contains("norm.weight", enc.StateDict().Keys);
        // As PyTorch's deepcopy: every layer starts with the prototype's weights.
        Assert.Equal(enc.Layers[0].Linear1.Weight.ToArray(), enc.Layers[1].Linear1.Weight.ToArray());
        var t = new Transformer(8, 2, 1, 1, 16);
        Assert.Contains("decoder.layers.0.multihead_attn.out_proj.weight", t.StateDict().Keys);
        Assert.Contains("decoder.norm.bias", t.StateDict().Keys);
    }
}
