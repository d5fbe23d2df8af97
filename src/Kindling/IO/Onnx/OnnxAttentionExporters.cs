using Kindling.NN;

namespace Kindling.IO;

/// <summary>
/// ONNX (opset 17) forms of the attention layers, written out of MatMul, Reshape, Transpose, Softmax and
/// LayerNormalization (opset 17 has no attention operator): <see cref="MultiheadAttention"/> as self-attention (its
/// single-input form, no masks), <see cref="TransformerEncoderLayer"/> (post- or pre-norm, relu or gelu) and
/// <see cref="TransformerEncoder"/> with its final norm; batch first or sequence first. Inside, attention runs batch first:
/// x (N, L, E) → q, k, v = x·Wᵀ + b → heads (N, H, L, E/H) → softmax(q·kᵀ/√(E/H))·v → (N, L, E) → out_proj.
/// </summary>
internal static partial class OnnxLayerExporters
{
    internal static void RegisterAttention()
    {
        Onnx.Register<MultiheadAttention>((m, g, x, shape) =>
        {
            CheckSequence(m, shape);
            return m.BatchFirst ? SelfAttention(m, g, x) : SeqFirst(g, SelfAttention(m, g, SeqFirst(g, x)));
        });
        Onnx.Register<TransformerEncoderLayer>((m, g, x, shape) =>
        {
            CheckSequence(m.SelfAttn, shape);
            return m.SelfAttn.BatchFirst ? EncoderLayer(m, g, x) : SeqFirst(g, EncoderLayer(m, g, SeqFirst(g, x)));
        });
        Onnx.Register<TransformerEncoder>((m, g, x, shape) =>
        {
            CheckSequence(m.Layers[0].SelfAttn, shape);
            bool bf = m.Layers[0].SelfAttn.BatchFirst;
            if (!bf) x = SeqFirst(g, x);
            string scope = g.Scope;
            for (int i = 0; i < m.Layers.Count; i++)
            {
                g.Scope = $"{scope}.layers.{i}";
                x = EncoderLayer(m.Layers[i], g, x);
            }
            g.Scope = scope + ".norm";
            if (m.Norm is LayerNorm ln) x = ExportLayerNorm(ln, g, x, []);
            else if (m.Norm != null) throw new NotSupportedException($"Onnx.Export: TransformerEncoder's final norm must be a LayerNorm to export, got {m.Norm.GetType().Name}.");
            return bf ? x : SeqFirst(g, x);
        });
    }

    private static void CheckSequence(MultiheadAttention m, int[] shape)
    {
        if (shape.Length != 3) throw new NotSupportedException($"Onnx.Export: attention layers export batched sequences (3-D input), got {Tensor.ShapeStr(shape)}.");
        if (m.BiasK != null || m.AddZeroAttn) throw new NotSupportedException("Onnx.Export: MultiheadAttention with add_bias_kv or add_zero_attn has no ONNX form here; export a model without them.");
        if (!m.QkvSameEmbedDim) throw new NotSupportedException("Onnx.Export: self-attention needs kdim = vdim = embed_dim.");
    }

    /// <summary>(L, N, E) ↔ (N, L, E).</summary>
    private static string SeqFirst(OnnxGraph g, string x) => g.Node("Transpose", [x], ("perm", new long[] { 1, 0, 2 }));

    /// <summary>x·Wᵀ + b for a weight (out, in) given as a tensor view.</summary>
    private static string Project(OnnxGraph g, string x, Tensor w, Tensor? b, string name)
    {
        var y = g.Node("MatMul", [x, g.Initializer(name + "_weight_t", w.Transpose(0, 1).Contiguous())]);
        return b == null ? y : g.Node("Add", [y, g.Initializer(name + "_bias", b.Contiguous())]);
    }

    private static string SelfAttention(MultiheadAttention m, OnnxGraph g, string x)
    {
        int E = m.EmbedDim, H = m.NumHeads, hd = m.HeadDim;
        var w = m.InProjWeight!;
        var b = m.InProjBias;
        string Heads(string t, long[] perm) => g.Node("Transpose", [g.Node("Reshape", [t, g.Int64Initializer("heads_shape", 0, 0, H, hd)])], ("perm", perm));
        var q = Heads(Project(g, x, w.Narrow(0, 0, E), b?.Narrow(0, 0, E), "q_proj"), [0, 2, 1, 3]);      // (N, H, L, hd)
        var k = Heads(Project(g, x, w.Narrow(0, E, E), b?.Narrow(0, E, E), "k_proj"), [0, 2, 3, 1]);      // (N, H, hd, S)
        var v = Heads(Project(g, x, w.Narrow(0, 2 * E, E), b?.Narrow(0, 2 * E, E), "v_proj"), [0, 2, 1, 3]);
        var scores = g.Node("Mul", [g.Node("MatMul", [q, k]), g.FloatInitializer("scale", [1 / Math.Sqrt(hd)], [])]);
        var o = g.Node("MatMul", [g.Node("Softmax", [scores], ("axis", -1L)), v]);                         // (N, H, L, hd)
        o = g.Node("Reshape", [g.Node("Transpose", [o], ("perm", new long[] { 0, 2, 1, 3 })), g.Int64Initializer("merge_shape", 0, 0, E)]);
        return Project(g, o, m.OutProj.Weight, m.OutProj.Bias, "out_proj");
    }

    /// <summary>One encoder layer on a batch-first x (dropout is the identity in evaluation).</summary>
    private static string EncoderLayer(TransformerEncoderLayer m, OnnxGraph g, string x)
    {
        string Ff(string h)
        {
            var a = Project(g, h, m.Linear1.Weight, m.Linear1.Bias, "linear1");
            a = m.Activation == "relu" ? g.Node("Relu", [a]) : ExportGelu(new GELU(), g, a, []);
            return Project(g, a, m.Linear2.Weight, m.Linear2.Bias, "linear2");
        }
        if (m.NormFirst)
        {
            x = g.Node("Add", [x, SelfAttention(m.SelfAttn, g, ExportLayerNorm(m.Norm1, g, x, []))]);
            return g.Node("Add", [x, Ff(ExportLayerNorm(m.Norm2, g, x, []))]);
        }
        x = ExportLayerNorm(m.Norm1, g, g.Node("Add", [x, SelfAttention(m.SelfAttn, g, x)]), []);
        return ExportLayerNorm(m.Norm2, g, g.Node("Add", [x, Ff(x)]), []);
    }
}
