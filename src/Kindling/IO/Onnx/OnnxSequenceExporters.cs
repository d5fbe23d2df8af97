using Kindling.NN;

namespace Kindling.IO;

/// <summary>
/// ONNX forms of the sequence layers: Embedding (Gather), EmbeddingBag with a 2-D input (Gather + masked reduction),
/// and RNN/LSTM/GRU as ONNX's own RNN/LSTM/GRU operators, one per layer, with the gate blocks reordered from PyTorch's
/// (LSTM i, f, g, o → ONNX i, o, f, c; GRU r, z, n → ONNX z, r, h with linear_before_reset = 1, which is PyTorch's
/// r·(W_hn h + b_hn)). The layers' single-input form is exported (zero initial states, output only).
/// </summary>
internal static partial class OnnxLayerExporters
{
    internal static void RegisterSequenceLayers()
    {
        Onnx.Register<Embedding>(ExportEmbedding);
        Onnx.Register<EmbeddingBag>(ExportEmbeddingBag);
        Onnx.Register<LSTM>((m, g, x, s) => ExportRecurrent(m, g, x, s));
        Onnx.Register<GRU>((m, g, x, s) => ExportRecurrent(m, g, x, s));
        Onnx.Register<RNN>((m, g, x, s) => ExportRecurrent(m, g, x, s));
    }

    /// <summary>Layers whose input is int64 indices: traced with int64 zeros, and a model starting with one takes int64.</summary>
    internal static bool TakesIndices(Module m) => m is Embedding or EmbeddingBag;

    /// <summary>
    /// The output (zeros) of an index layer for a traced input shape, computed from the shape: running the layer would
    /// renormalise rows in place under max_norm, and exporting must not change the model.
    /// </summary>
    internal static Tensor TraceIndexLayer(Module m, int[] shape, DType dtype) => m switch
    {
        Embedding e => Tensor.Zeros([.. shape, e.EmbeddingDim], dtype),
        EmbeddingBag b when shape.Length == 2 => Tensor.Zeros([shape[0], b.EmbeddingDim], dtype),
        EmbeddingBag => throw new ArgumentException($"EmbeddingBag is exported for a 2-D input (bags as rows), got shape {Tensor.ShapeStr(shape)}."),
        _ => throw new ArgumentException($"{m.GetType().Name} does not take indices."),
    };

    /// <summary>The element type of the model's input: int64 when its first layer takes indices, else the model's float type.</summary>
    internal static DType InputDType(Module m, DType floatType)
    {
        while (m is Sequential s && s.NamedChildren().Any()) m = s.NamedChildren().First().Module;
        return TakesIndices(m) ? DType.Int64 : floatType;
    }

    /// <summary>
    /// Gather(weight, indices). With max_norm, every row is renormalised as a lookup would renormalise it (idempotent:
    /// a renormalised row's norm is below max_norm), so the graph gives the lookup's result without an in-place op.
    /// </summary>
    private static string ExportEmbedding(Embedding m, OnnxGraph g, string x, int[] shape)
    {
        var w = m.Weight.Detach().Clone();
        if (m.MaxNorm is double mn)
            using (Autograd.NoGrad())
                Functional.Embedding(Tensor.Arange(m.NumEmbeddings, DType.Int64), w, null, mn, m.NormType);
        return g.Node("Gather", [g.Initializer("weight", w), x], ("axis", 0L));
    }

    /// <summary>
    /// 2-D input (B, L): rows = Gather → (B, L, D); entries equal to padding_idx are masked out; Sum → ReduceSum, Mean →
    /// sum / max(count, 1) (an all-padding bag gives 0, as in PyTorch), Max → ReduceMax over rows with padding set to −∞,
    /// then 0 for an all-padding bag.
    /// </summary>
    private static string ExportEmbeddingBag(EmbeddingBag m, OnnxGraph g, string x, int[] shape)
    {
        if (shape.Length != 2)
            throw new NotSupportedException($"Onnx.Export: EmbeddingBag is exported for a 2-D input (bags as rows), got a {shape.Length}-D sample; the 1-D input with offsets needs a second graph input.");
        if (m.MaxNorm != null) throw new NotSupportedException("Onnx.Export: EmbeddingBag with max_norm is not exported.");
        var rows = g.Node("Gather", [g.Initializer("weight", m.Weight), x], ("axis", 0L));
        var axis1 = g.Int64Initializer("axis1", 1);
        if (m.PaddingIdx is not int pad)
            return m.Mode switch
            {
                EmbeddingBagMode.Sum => g.Node("ReduceSum", [rows, axis1], ("keepdims", 0L)),
                EmbeddingBagMode.Mean => g.Node("ReduceMean", [rows], ("axes", new long[] { 1 }), ("keepdims", 0L)),
                _ => g.Node("ReduceMax", [rows], ("axes", new long[] { 1 }), ("keepdims", 0L)),
            };
        var keep = g.Node("Not", [g.Node("Equal", [x, g.Initializer("padding_idx", Tensor.FromArray(new long[] { pad }, 1))])]);
        var keep3 = g.Node("Unsqueeze", [keep, g.Int64Initializer("axis2", 2)]); // (B, L, 1)
        var zero = g.FloatInitializer("zero", [0.0], []);
        if (m.Mode == EmbeddingBagMode.Max)
        {
            var masked = g.Node("Where", [keep3, rows, g.FloatInitializer("neg_inf", [double.NegativeInfinity], [])]);
            var mx = g.Node("ReduceMax", [masked], ("axes", new long[] { 1 }), ("keepdims", 0L));
            var any = g.Node("Cast", [g.Node("ReduceMax", [g.Node("Cast", [keep3], ("to", (long)OnnxGraph.ElemType(g.DType)))], ("axes", new long[] { 1 }), ("keepdims", 0L))], ("to", 9L));
            return g.Node("Where", [any, mx, zero]);
        }
        var maskF = g.Node("Cast", [keep3], ("to", (long)OnnxGraph.ElemType(g.DType)));
        var sum = g.Node("ReduceSum", [g.Node("Mul", [rows, maskF]), axis1], ("keepdims", 0L));
        if (m.Mode == EmbeddingBagMode.Sum) return sum;
        var count = g.Node("Max", [g.Node("ReduceSum", [maskF, axis1], ("keepdims", 0L)), g.FloatInitializer("one", [1.0], [])]);
        return g.Node("Div", [sum, count]);
    }

    /// <summary>ONNX gate-block order as indices into PyTorch's blocks.</summary>
    private static int[] OnnxGateOrder(RNNBase m) => m switch
    {
        LSTM => [0, 3, 1, 2], // i, o, f, c ← i, f, g, o
        GRU => [1, 0, 2],     // z, r, h ← r, z, n
        _ => [0],
    };

    private static Tensor Reorder(Tensor w, int[] order, int hid) =>
        Tensor.Cat(order.Select(b => w.Narrow(0, b * hid, hid)).ToArray(), 0);

    private static string ExportRecurrent(RNNBase m, OnnxGraph g, string x, int[] shape)
    {
        if (m.ProjSize > 0) throw new NotSupportedException("Onnx.Export: LSTM with proj_size has no ONNX LSTM form (the operator has no projection); export is not supported.");
        int H = m.HiddenSize, D = m.Bidirectional ? 2 : 1;
        var p = m.NamedParameters().ToDictionary(t => t.Name, t => t.Parameter);
        var order = OnnxGateOrder(m);
        bool unbatched = shape.Length == 2;
        if (unbatched) x = g.Node("Unsqueeze", [x, g.Int64Initializer("axis1", 1)]);
        else if (m.BatchFirst) x = g.Node("Transpose", [x], ("perm", new long[] { 1, 0, 2 }));
        string op = m switch { LSTM => "LSTM", GRU => "GRU", _ => "RNN" };
        for (int l = 0; l < m.NumLayers; l++)
        {
            string[] sfx = D == 2 ? [$"_l{l}", $"_l{l}_reverse"] : [$"_l{l}"];
            using var _ = Autograd.NoGrad();
            var W = Tensor.Stack(sfx.Select(s => Reorder(p["weight_ih" + s], order, H)).ToArray(), 0);
            var R = Tensor.Stack(sfx.Select(s => Reorder(p["weight_hh" + s], order, H)).ToArray(), 0);
            var inputs = new List<string> { x, g.Initializer($"W_l{l}", W), g.Initializer($"R_l{l}", R) };
            if (m.Bias)
                inputs.Add(g.Initializer($"B_l{l}", Tensor.Stack(sfx.Select(s => Tensor.Cat([Reorder(p["bias_ih" + s], order, H), Reorder(p["bias_hh" + s], order, H)], 0)).ToArray(), 0)));
            var attrs = new List<(string, object)> { ("hidden_size", (long)H), ("direction", D == 2 ? "bidirectional" : "forward") };
            if (m is GRU) attrs.Add(("linear_before_reset", 1L));
            if (m is RNN { Nonlinearity: "relu" }) attrs.Add(("activations", Enumerable.Repeat("Relu", D).ToArray()));
            var y = g.Node(op, inputs.ToArray(), attrs.ToArray()); // (T, D, B, H)
            y = g.Node("Transpose", [y], ("perm", new long[] { 0, 2, 1, 3 }));
            x = g.Node("Reshape", [y, g.Int64Initializer("shape", 0, 0, -1)]);
        }
        if (unbatched) return g.Node("Squeeze", [x, g.Int64Initializer("axis1", 1)]);
        return m.BatchFirst ? g.Node("Transpose", [x], ("perm", new long[] { 1, 0, 2 })) : x;
    }
}
