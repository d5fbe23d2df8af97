using System.Text.Json.Nodes;
using Kindling.NN;

namespace Kindling.Tests;

/// <summary>
/// Scaled dot-product attention, MultiheadAttention, the transformer layers and GELU against PyTorch 1.13
/// (tools/parity/gen_attention_cases.py → tools/parity/attention/attention_cases.json): every output and the gradient of
/// every input and parameter, every mask kind (bool and float attn_mask in 2-D and 3-D, bool and float
/// key_padding_mask, both together), kdim ≠ vdim, add_bias_kv and add_zero_attn, need_weights with and without
/// averaging, norm_first, batch_first, gelu, fully masked rows (NaN, as PyTorch), sequences longer than one kernel
/// block; float64 to 1e-10, and float32 within its rounding.
/// </summary>
public class AttentionParityTests
{
    public static TheoryData<string> SdpaCases() => AttentionFixtures.Names("sdpa");
    public static TheoryData<string> MhaCases() => AttentionFixtures.Names("mha");
    public static TheoryData<string> LayerCases() => AttentionFixtures.Names("encoder_layer", "decoder_layer", "encoder", "decoder", "transformer");

    [Theory]
    [MemberData(nameof(SdpaCases))]
    public void ScaledDotProductAttentionMatchesPyTorch(string name)
    {
        foreach (var (dt, tol) in new[] { (DType.Float64, 1e-10), (DType.Float32, 2e-5) })
        {
            var c = AttentionFixtures.Case(name);
            var inp = c["inputs"]!;
            var q = AttentionFixtures.T(inp["query"]!, dt).RequiresGrad_();
            var k = AttentionFixtures.T(inp["key"]!, dt).RequiresGrad_();
            var v = AttentionFixtures.T(inp["value"]!, dt).RequiresGrad_();
            var mask = inp["attn_mask"] is JsonNode m ? AttentionFixtures.T(m, dt) : null;
            var y = Functional.ScaledDotProductAttention(q, k, v, mask, isCausal: c["config"]!["causal"]!.GetValue<bool>());
            (y * AttentionFixtures.T(c["grad_output"]!, dt)).Sum().Backward();
            AttentionFixtures.Close(c["outputs"]!["output"]!, y, tol, $"{name} {dt} output");
            AttentionFixtures.Close(c["grads"]!["query"]!, q.Grad, tol, $"{name} {dt} grad query");
            AttentionFixtures.Close(c["grads"]!["key"]!, k.Grad, tol, $"{name} {dt} grad key");
            AttentionFixtures.Close(c["grads"]!["value"]!, v.Grad, tol, $"{name} {dt} grad value");
        }
    }

    [Theory]
    [MemberData(nameof(MhaCases))]
    public void MultiheadAttentionMatchesPyTorch(string name)
    {
        var c = AttentionFixtures.Case(name);
        var cfg = c["config"]!;
        foreach (var (dt, tol) in new[] { (DType.Float64, 1e-10), (DType.Float32, 3e-5) })
        {
            var m = new MultiheadAttention(cfg["embed_dim"]!.GetValue<int>(), cfg["num_heads"]!.GetValue<int>(), 0, cfg["bias"]!.GetValue<bool>(),
                cfg["add_bias_kv"]!.GetValue<bool>(), cfg["add_zero_attn"]!.GetValue<bool>(), cfg["kdim"]?.GetValue<int>(), cfg["vdim"]?.GetValue<int>(),
                cfg["batch_first"]!.GetValue<bool>(), dtype: dt);
            var inputs = LoadInputs(c, m, dt);
            var q = inputs["query"];
            bool self = cfg["self"]!.GetValue<bool>();
            var (y, w) = m.Forward(q, self ? q : inputs["key"], self ? q : inputs["value"], inputs.GetValueOrDefault("key_padding_mask"),
                cfg["need_weights"]!.GetValue<bool>(), inputs.GetValueOrDefault("attn_mask"), cfg["average_attn_weights"]?.GetValue<bool>() ?? true);
            var loss = (y * AttentionFixtures.T(c["grad_output"]!, dt)).Sum();
            Assert.Equal(c["outputs"]!["weights"] != null, w != null);
            if (w != null) loss = loss + (w * AttentionFixtures.T(c["grad_weights"]!, dt)).Sum();
            loss.Backward();
            Check(c, m, inputs, y, w, tol, $"{name} {dt}");
        }
    }

    [Theory]
    [MemberData(nameof(LayerCases))]
    public void TransformerLayersMatchPyTorch(string name)
    {
        var c = AttentionFixtures.Case(name);
        var cfg = c["config"]!;
        string kind = c["kind"]!.GetValue<string>();
        foreach (var (dt, tol) in new[] { (DType.Float64, 1e-10), (DType.Float32, 1e-4) })
        {
            int E = cfg["d_model"]!.GetValue<int>(), H = cfg["nhead"]!.GetValue<int>(), ff = cfg["dim_feedforward"]!.GetValue<int>();
            string act = cfg["activation"]!.GetValue<string>();
            double eps = cfg["layer_norm_eps"]!.GetValue<double>();
            bool bf = cfg["batch_first"]!.GetValue<bool>(), nf = cfg["norm_first"]!.GetValue<bool>();
            Module m = kind switch
            {
                "encoder_layer" => new TransformerEncoderLayer(E, H, ff, 0, act, eps, bf, nf, dtype: dt),
                "decoder_layer" => new TransformerDecoderLayer(E, H, ff, 0, act, eps, bf, nf, dtype: dt),
                "encoder" => new TransformerEncoder(new TransformerEncoderLayer(E, H, ff, 0, act, eps, bf, nf, dtype: dt), cfg["num_layers"]!.GetValue<int>(),
                    cfg["final_norm"]!.GetValue<bool>() ? new LayerNorm(E, dtype: dt) : null),
                "decoder" => new TransformerDecoder(new TransformerDecoderLayer(E, H, ff, 0, act, eps, bf, nf, dtype: dt), cfg["num_layers"]!.GetValue<int>(),
                    cfg["final_norm"]!.GetValue<bool>() ? new LayerNorm(E, dtype: dt) : null),
                _ => new Transformer(E, H, cfg["num_encoder_layers"]!.GetValue<int>(), cfg["num_decoder_layers"]!.GetValue<int>(), ff, 0, act, eps, bf, nf, dtype: dt),
            };
            var x = LoadInputs(c, m, dt);
            Tensor? I(string n) => x.GetValueOrDefault(n);
            var y = m switch
            {
                TransformerEncoderLayer l => l.Forward(x["src"], I("src_mask"), I("src_key_padding_mask")),
                TransformerDecoderLayer l => l.Forward(x["tgt"], x["memory"], I("tgt_mask"), I("memory_mask"), I("tgt_key_padding_mask"), I("memory_key_padding_mask")),
                TransformerEncoder l => l.Forward(x["src"], I("mask"), I("src_key_padding_mask")),
                TransformerDecoder l => l.Forward(x["tgt"], x["memory"], I("tgt_mask"), I("memory_mask"), I("tgt_key_padding_mask"), I("memory_key_padding_mask")),
                Transformer t => t.Forward(x["src"], x["tgt"], I("src_mask"), I("tgt_mask"), I("memory_mask"), I("src_key_padding_mask"), I("tgt_key_padding_mask"), I("memory_key_padding_mask")),
                _ => throw new InvalidOperationException(),
            };
            (y * AttentionFixtures.T(c["grad_output"]!, dt)).Sum().Backward();
            Check(c, m, x, y, null, tol, $"{name} {dt}");
        }
    }

    [Theory]
    [InlineData("none")]
    [InlineData("tanh")]
    public void GeluMatchesPyTorch(string approximate)
    {
        var c = AttentionFixtures.Case("gelu_" + approximate);
        foreach (var (dt, tol) in new[] { (DType.Float64, 1e-14), (DType.Float32, 3e-6) })
        {
            var x = AttentionFixtures.T(c["inputs"]!["input"]!, dt).RequiresGrad_();
            var y = new GELU(approximate).Call(x);
            (y * AttentionFixtures.T(c["grad_output"]!, dt)).Sum().Backward();
            AttentionFixtures.Close(c["outputs"]!["output"]!, y, tol, $"gelu {approximate} {dt}");
            AttentionFixtures.Close(c["grads"]!["input"]!, x.Grad, tol, $"gelu {approximate} {dt} grad");
        }
    }

    [Fact]
    public void SquareSubsequentMaskMatchesPyTorch()
    {
        var c = AttentionFixtures.Case("square_subsequent_mask_5");
        var expected = AttentionFixtures.Data(c["outputs"]!["output"]!);
        Assert.Contains(double.NegativeInfinity, expected);
        Assert.Equal(expected, Transformer.GenerateSquareSubsequentMask(5, DType.Float64).ToDoubleArray());
        Assert.Equal([5, 5], Transformer.GenerateSquareSubsequentMask(5).Shape);
    }

    /// <summary>Loads the case's PyTorch state dict into <paramref name="m"/> and returns its inputs (float ones requiring grad).</summary>
    internal static Dictionary<string, Tensor> LoadInputs(JsonObject c, Module m, DType dt)
    {
        var state = c["state"]!.AsObject().ToDictionary(kv => kv.Key, kv => AttentionFixtures.T(kv.Value!, dt));
        m.LoadStateDict(state);
        var inputs = new Dictionary<string, Tensor>();
        foreach (var (n, v) in c["inputs"]!.AsObject())
        {
            var t = AttentionFixtures.T(v!, dt);
            if (t.IsFloatingPoint && c["grads"]!.AsObject().ContainsKey(n)) t.RequiresGrad = true;
            inputs[n] = t;
        }
        return inputs;
    }

    private static void Check(JsonObject c, Module m, Dictionary<string, Tensor> inputs, Tensor y, Tensor? w, double tol, string what)
    {
        AttentionFixtures.Close(c["outputs"]!["output"]!, y, tol, what + " output");
        if (w != null) AttentionFixtures.Close(c["outputs"]!["weights"]!, w, tol, what + " weights");
        var ps = m.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        int checkedParams = 0;
        foreach (var (n, g) in c["grads"]!.AsObject())
        {
            if (n.StartsWith("param:")) { AttentionFixtures.Close(g!, ps[n[6..]].Grad, tol, $"{what} grad {n}"); checkedParams++; }
            else AttentionFixtures.Close(g!, inputs[n].Grad, tol, $"{what} grad {n}");
        }
        Assert.Equal(ps.Count, checkedParams); // every parameter's gradient was compared
    }
}
