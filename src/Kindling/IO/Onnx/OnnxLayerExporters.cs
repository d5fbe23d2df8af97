using Kindling.NN;

namespace Kindling.IO;

/// <summary>
/// The ONNX form of each built-in layer, one entry per layer type. A new layer type is supported by adding one
/// <c>Onnx.Register</c> line here (or by calling <see cref="Onnx.Register{T}"/> from outside the library). The
/// convolution, pooling and image-shape layers are in OnnxConvExporters.cs.
/// </summary>
internal static partial class OnnxLayerExporters
{
    internal static void RegisterBuiltIns()
    {
        Onnx.Register<Linear>(ExportLinear);
        Onnx.Register<ReLU>((_, g, x, _) => g.Node("Relu", [x]));
        Onnx.Register<LeakyReLU>((m, g, x, _) => g.Node("LeakyRelu", [x], ("alpha", m.NegativeSlope)));
        Onnx.Register<ELU>((m, g, x, _) => g.Node("Elu", [x], ("alpha", m.Alpha)));
        Onnx.Register<GELU>(ExportGelu);
        Onnx.Register<SiLU>((_, g, x, _) => g.Node("Mul", [x, g.Node("Sigmoid", [x])]));
        Onnx.Register<Hardswish>((_, g, x, _) => g.Node("HardSwish", [x]));
        Onnx.Register<Mish>((_, g, x, _) => g.Node("Mul", [x, g.Node("Tanh", [g.Node("Softplus", [x])])])); // opset 17 has no Mish
        Onnx.Register<Sigmoid>((_, g, x, _) => g.Node("Sigmoid", [x]));
        Onnx.Register<Tanh>((_, g, x, _) => g.Node("Tanh", [x]));
        Onnx.Register<Softmax>((m, g, x, _) => g.Node("Softmax", [x], ("axis", m.Dim)));
        Onnx.Register<LogSoftmax>((m, g, x, _) => g.Node("LogSoftmax", [x], ("axis", m.Dim)));
        // Evaluation form: no node at all.
        Onnx.Register<Identity>((_, _, x, _) => x);
        Onnx.Register<Dropout>((_, _, x, _) => x);
        Onnx.Register<Flatten>(ExportFlatten);
        Onnx.Register<BatchNorm1d>(ExportBatchNorm);
        Onnx.Register<LayerNorm>(ExportLayerNorm);
        // Convolutional networks (OnnxConvExporters.cs).
        Onnx.Register<Conv1d>(ExportConv1d);
        Onnx.Register<Conv2d>(ExportConv2d);
        Onnx.Register<ConvTranspose2d>(ExportConvTranspose2d);
        Onnx.Register<MaxPool1d>(ExportMaxPool1d);
        Onnx.Register<MaxPool2d>(ExportMaxPool2d);
        Onnx.Register<AvgPool2d>(ExportAvgPool2d);
        Onnx.Register<AdaptiveAvgPool2d>(ExportAdaptiveAvgPool2d);
        Onnx.Register<BatchNorm2d>(ExportBatchNorm2d);
        Onnx.Register<Dropout2d>((_, _, x, _) => x);
        Onnx.Register<Unflatten>(ExportUnflatten);
        // Embeddings and recurrent layers (OnnxSequenceExporters.cs).
        RegisterSequenceLayers();
    }

    /// <summary>y = x·Wᵀ + b: Gemm (transB) for a matrix input; MatMul by the stored Wᵀ then Add for higher ranks.</summary>
    private static string ExportLinear(Linear m, OnnxGraph g, string x, int[] shape)
    {
        if (shape.Length == 2)
        {
            var w = g.Initializer("weight", m.Weight);
            return m.Bias == null ? g.Node("Gemm", [x, w], ("transB", 1L)) : g.Node("Gemm", [x, w, g.Initializer("bias", m.Bias)], ("transB", 1L));
        }
        var y = g.Node("MatMul", [x, g.Initializer("weight_t", m.Weight.Transpose(0, 1).Contiguous())]);
        return m.Bias == null ? y : g.Node("Add", [y, g.Initializer("bias", m.Bias)]);
    }

    /// <summary>The exact GELU, x·½(1 + erf(x/√2)): opset 17 has Erf but no Gelu operator.</summary>
    private static string ExportGelu(GELU m, OnnxGraph g, string x, int[] shape)
    {
        var e = g.Node("Erf", [g.Node("Div", [x, g.FloatInitializer("sqrt2", [Math.Sqrt(2)], [])])]);
        var half = g.Node("Mul", [x, g.FloatInitializer("half", [0.5], [])]);
        return g.Node("Mul", [half, g.Node("Add", [e, g.FloatInitializer("one", [1.0], [])])]);
    }

    /// <summary>Reshape that keeps the dimensions before startDim (0 = copy, so the batch stays symbolic) and merges startDim..endDim.</summary>
    private static string ExportFlatten(Flatten m, OnnxGraph g, string x, int[] shape)
    {
        int r = shape.Length;
        if (r == 0) return g.Node("Reshape", [x, g.Int64Initializer("shape", 1)]);
        int s = m.StartDim < 0 ? m.StartDim + r : m.StartDim, e = m.EndDim < 0 ? m.EndDim + r : m.EndDim;
        if (s == e) return x;
        var target = new List<long>();
        for (int i = 0; i < s; i++) target.Add(0);
        target.Add(-1); // the merged dimension: the only one that can hold the batch when s = 0
        for (int i = e + 1; i < r; i++) target.Add(shape[i]);
        return g.Node("Reshape", [x, g.Int64Initializer("shape", [.. target])]);
    }

    private static string ExportBatchNorm(BatchNorm1d m, OnnxGraph g, string x, int[] shape) =>
        BatchNormalization(g, x, m.NumFeatures, m.Weight, m.Bias, m.RunningMean, m.RunningVar, m.Eps, m.Momentum ?? 0.1);

    /// <summary>
    /// Evaluation-mode batch norm over dimension 1 of (N, C, …) with the running statistics; ones and zeros stand in for
    /// a missing affine. Shared by every BatchNorm*d (one entry each).
    /// </summary>
    internal static string BatchNormalization(OnnxGraph g, string x, int numFeatures, Tensor? weight, Tensor? bias, Tensor runningMean, Tensor runningVar, double eps, double momentum)
    {
        int c = numFeatures;
        var scale = weight != null ? g.Initializer("weight", weight) : g.FloatInitializer("weight", Enumerable.Repeat(1.0, c).ToArray(), [c]);
        var b = bias != null ? g.Initializer("bias", bias) : g.FloatInitializer("bias", new double[c], [c]);
        // ONNX's momentum weighs the running value (1 − PyTorch's); it does not affect inference.
        return g.Node("BatchNormalization", [x, scale, b, g.Initializer("running_mean", runningMean), g.Initializer("running_var", runningVar)],
            ("epsilon", eps), ("momentum", 1 - momentum));
    }

    /// <summary>LayerNormalization over the trailing normalized dimensions (opset 17's operator).</summary>
    private static string ExportLayerNorm(LayerNorm m, OnnxGraph g, string x, int[] shape)
    {
        var ns = m.NormalizedShape;
        var scale = m.Weight != null ? g.Initializer("weight", m.Weight) : g.FloatInitializer("weight", Enumerable.Repeat(1.0, ns.Aggregate(1, (a, b) => a * b)).ToArray(), ns);
        var inputs = m.Bias != null ? new[] { x, scale, g.Initializer("bias", m.Bias) } : [x, scale];
        return g.Node("LayerNormalization", inputs, ("axis", (long)-ns.Length), ("epsilon", m.Eps));
    }
}
