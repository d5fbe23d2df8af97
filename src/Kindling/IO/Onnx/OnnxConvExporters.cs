using Kindling.NN;

namespace Kindling.IO;

/// <summary>
/// ONNX forms of the convolutional layers (opset 17). Spatial sizes are known from the traced sample shape (only the
/// batch is symbolic), so every padding is written explicitly: PyTorch's <c>"same"</c> becomes its asymmetric
/// <c>pads</c> (the odd extra row/column at the end), and a pooling layer's <c>ceil_mode</c> becomes extra end padding
/// with <c>ceil_mode = 0</c>, which gives PyTorch's output size exactly (PyTorch drops a last window that would start in
/// the right padding; ONNX 1.12's shape inference does not) and makes the graph's shapes the same in every runtime.
/// ONNX <c>pads</c> are [x1_begin, x2_begin, …, x1_end, x2_end, …] over the spatial axes.
/// </summary>
internal static partial class OnnxLayerExporters
{
    /// <summary>Conv1d as Conv over (N, C, L); non-zero padding modes pad the input first (Pad, or Slice + Concat for circular).</summary>
    private static string ExportConv1d(Conv1d m, OnnxGraph g, string x, int[] shape)
    {
        RequireBatched(m, g, shape, 3, "(N, C, L)");
        int t = m.Dilation * (m.KernelSize - 1);
        int[] begin = m.Padding.Same ? [t / 2] : [m.Padding.Size.W], end = m.Padding.Same ? [t - t / 2] : [m.Padding.Size.W];
        if (m.PaddingMode != "zeros") { x = PadSpatial(g, x, shape, m.PaddingMode, begin, end); begin = end = [0]; }
        return Conv(g, x, m.Weight, m.Bias, [m.KernelSize], [m.Stride], begin, end, [m.Dilation], m.Groups);
    }

    /// <summary>Conv2d as Conv over (N, C, H, W): stride, explicit pads ("same" included), dilation, group, bias.</summary>
    private static string ExportConv2d(Conv2d m, OnnxGraph g, string x, int[] shape)
    {
        RequireBatched(m, g, shape, 4, "(N, C, H, W)");
        var (k, d) = (m.KernelSize, m.Dilation);
        int th = d.H * (k.H - 1), tw = d.W * (k.W - 1);
        int[] begin = m.Padding.Same ? [th / 2, tw / 2] : [m.Padding.Size.H, m.Padding.Size.W];
        int[] end = m.Padding.Same ? [th - th / 2, tw - tw / 2] : [m.Padding.Size.H, m.Padding.Size.W];
        if (m.PaddingMode != "zeros") { x = PadSpatial(g, x, shape, m.PaddingMode, begin, end); begin = end = [0, 0]; }
        return Conv(g, x, m.Weight, m.Bias, [k.H, k.W], [m.Stride.H, m.Stride.W], begin, end, [d.H, d.W], m.Groups);
    }

    private static string Conv(OnnxGraph g, string x, Tensor weight, Tensor? bias, int[] kernel, int[] strides, int[] begin, int[] end, int[] dilations, int groups)
    {
        string[] inputs = bias != null ? [x, g.Initializer("weight", weight), g.Initializer("bias", bias)] : [x, g.Initializer("weight", weight)];
        return g.Node("Conv", inputs, ("kernel_shape", kernel), ("strides", strides), ("pads", (int[])[.. begin, .. end]),
            ("dilations", dilations), ("group", (long)groups));
    }

    /// <summary>
    /// ConvTranspose2d as ConvTranspose: the weight layout (C_in, C_out/groups, kH, kW) is ONNX's; its output size
    /// stride·(H − 1) + output_padding + dilation·(k − 1) + 1 − pad_begin − pad_end is PyTorch's with symmetric pads.
    /// </summary>
    private static string ExportConvTranspose2d(ConvTranspose2d m, OnnxGraph g, string x, int[] shape)
    {
        RequireBatched(m, g, shape, 4, "(N, C, H, W)");
        string[] inputs = m.Bias != null ? [x, g.Initializer("weight", m.Weight), g.Initializer("bias", m.Bias)] : [x, g.Initializer("weight", m.Weight)];
        return g.Node("ConvTranspose", inputs, ("kernel_shape", new[] { m.KernelSize.H, m.KernelSize.W }), ("strides", new[] { m.Stride.H, m.Stride.W }),
            ("pads", new[] { m.Padding.H, m.Padding.W, m.Padding.H, m.Padding.W }), ("output_padding", new[] { m.OutputPadding.H, m.OutputPadding.W }),
            ("dilations", new[] { m.Dilation.H, m.Dilation.W }), ("group", (long)m.Groups));
    }

    private static string ExportMaxPool1d(MaxPool1d m, OnnxGraph g, string x, int[] shape)
    {
        RequireBatched(m, g, shape, 3, "(N, C, L)");
        return MaxPool(g, x, shape, [m.KernelSize], [m.Stride], [m.Padding], [m.Dilation], m.CeilMode);
    }

    private static string ExportMaxPool2d(MaxPool2d m, OnnxGraph g, string x, int[] shape)
    {
        RequireBatched(m, g, shape, 4, "(N, C, H, W)");
        return MaxPool(g, x, shape, [m.KernelSize.H, m.KernelSize.W], [m.Stride.H, m.Stride.W], [m.Padding.H, m.Padding.W], [m.Dilation.H, m.Dilation.W], m.CeilMode);
    }

    /// <summary>
    /// MaxPool with PyTorch's output size. Padding never wins a maximum in either framework, so the end padding that
    /// stands in for ceil_mode changes nothing else. ONNX Runtime wants every pad smaller than the kernel; a dilated
    /// ceil-mode window can need more, and then the input is padded with −∞ by a Pad node instead.
    /// </summary>
    private static string MaxPool(OnnxGraph g, string x, int[] shape, int[] k, int[] s, int[] p, int[] d, bool ceil)
    {
        int n = k.Length;
        var end = new int[n];
        for (int i = 0; i < n; i++) end[i] = EndPad(shape[2 + i], k[i], s[i], p[i], d[i], ceil);
        bool fits = Enumerable.Range(0, n).All(i => p[i] < k[i] && end[i] < k[i]);
        int[] pads = fits ? [.. p, .. end] : new int[2 * n];
        if (!fits)
        {
            var all = new long[2 * (n + 2)];
            for (int i = 0; i < n; i++) { all[2 + i] = p[i]; all[n + 4 + i] = end[i]; }
            x = g.Node("Pad", [x, g.Int64Initializer("pads", all), g.FloatInitializer("minus_inf", [double.NegativeInfinity], [])], ("mode", "constant"));
        }
        return g.Node("MaxPool", [x], ("kernel_shape", k), ("strides", s), ("pads", pads), ("dilations", d), ("ceil_mode", 0L));
    }

    /// <summary>
    /// The end padding that makes the floor-mode output size equal PyTorch's pooling output size (which, in ceil mode,
    /// counts a last partial window when it starts inside the input or the left padding).
    /// </summary>
    private static int EndPad(int size, int k, int s, int p, int d, bool ceil)
    {
        int eff = d * (k - 1) + 1;
        int floorOut = (size + 2 * p - eff) / s + 1, o = floorOut;
        if (ceil)
        {
            o = (int)Math.Floor((double)(size + 2 * p - eff + s - 1) / s) + 1;
            if ((o - 1) * s >= size + p) o--;
        }
        return o > floorOut ? (o - 1) * s + eff - size - p : p;
    }

    /// <summary>
    /// AvgPool2d as AveragePool (opset 11's, which has no dilation and neither has AvgPool2d). PyTorch divides by the
    /// window clipped to input + padding (count_include_pad), by the in-input part only, or by divisor_override. When
    /// ONNX's divisor (count_include_pad = 1: the whole kernel; 0: the in-input elements) differs anywhere — a ceil-mode
    /// window overhanging the padding, or a divisor override — AveragePool with count_include_pad = 0 is followed by a
    /// Mul with the constant map in-input count / PyTorch's divisor over the output positions.
    /// </summary>
    private static string ExportAvgPool2d(AvgPool2d m, OnnxGraph g, string x, int[] shape)
    {
        RequireBatched(m, g, shape, 4, "(N, C, H, W)");
        int[] k = [m.KernelSize.H, m.KernelSize.W], s = [m.Stride.H, m.Stride.W], p = [m.Padding.H, m.Padding.W];
        int[] end = [EndPad(shape[2], k[0], s[0], p[0], 1, m.CeilMode), EndPad(shape[3], k[1], s[1], p[1], 1, m.CeilMode)];
        int[] pads = [.. p, .. end];
        bool overhang = end[0] != p[0] || end[1] != p[1]; // only an extra ceil-mode window reaches past the padding
        if (m.DivisorOverride == null && (!m.CountIncludePad || !overhang))
            return g.Node("AveragePool", [x], ("kernel_shape", k), ("strides", s), ("pads", pads), ("ceil_mode", 0L), ("count_include_pad", m.CountIncludePad ? 1L : 0L));

        var (rowsIn, rowsPt) = AvgCounts(shape[2], k[0], s[0], p[0], end[0]);
        var (colsIn, colsPt) = AvgCounts(shape[3], k[1], s[1], p[1], end[1]);
        var ratio = new double[rowsIn.Length * colsIn.Length];
        for (int i = 0; i < rowsIn.Length; i++)
            for (int j = 0; j < colsIn.Length; j++)
            {
                double inInput = (double)rowsIn[i] * colsIn[j];
                double divisor = m.DivisorOverride ?? (m.CountIncludePad ? (double)rowsPt[i] * colsPt[j] : inInput);
                ratio[i * colsIn.Length + j] = inInput / divisor;
            }
        var y = g.Node("AveragePool", [x], ("kernel_shape", k), ("strides", s), ("pads", pads), ("ceil_mode", 0L), ("count_include_pad", 0L));
        return g.Node("Mul", [y, g.FloatInitializer("divisor_ratio", ratio, [rowsIn.Length, colsIn.Length])]);
    }

    /// <summary>Per output index along one axis: elements of the window inside the input, and inside input + padding (PyTorch's count).</summary>
    private static (int[] InInput, int[] WithPad) AvgCounts(int size, int k, int s, int p, int end)
    {
        int o = (size + p + end - k) / s + 1;
        var inInput = new int[o];
        var withPad = new int[o];
        for (int i = 0; i < o; i++)
        {
            int lo = i * s - p, hi = lo + k;
            withPad[i] = Math.Min(hi, size + p) - lo;
            inInput[i] = Math.Min(hi, size) - Math.Max(lo, 0);
        }
        return (inInput, withPad);
    }

    /// <summary>
    /// AdaptiveAvgPool2d: GlobalAveragePool for a 1×1 output; otherwise, when the traced input size is a multiple of
    /// the output size, an AveragePool with kernel = stride = input/output (PyTorch's windows are then exactly those).
    /// Uneven windows have no single-operator form and are refused.
    /// </summary>
    private static string ExportAdaptiveAvgPool2d(AdaptiveAvgPool2d m, OnnxGraph g, string x, int[] shape)
    {
        RequireBatched(m, g, shape, 4, "(N, C, H, W)");
        var o = m.OutputSize;
        if (o.H == 1 && o.W == 1) return g.Node("GlobalAveragePool", [x]);
        int h = shape[2], w = shape[3];
        if (h % o.H != 0 || w % o.W != 0)
            throw new NotSupportedException($"Onnx.Export: {m} ('{g.Scope}') gets a {h}×{w} input, which is not a multiple of the output size {o.H}×{o.W}: its uneven windows have no ONNX operator. Use an input size divisible by the output size, an output size of 1 (GlobalAveragePool), or an AvgPool2d.");
        int[] k = [h / o.H, w / o.W];
        return g.Node("AveragePool", [x], ("kernel_shape", k), ("strides", k), ("pads", new int[4]), ("ceil_mode", 0L), ("count_include_pad", 0L));
    }

    /// <summary>
    /// BatchNorm2d in evaluation form: BatchNormalization with the running statistics; without them
    /// (track_running_stats=False) PyTorch normalises with the batch's own biased statistics over (N, H, W) in
    /// evaluation too, written as ReduceMean/Sub/Mul/Sqrt/Div nodes.
    /// </summary>
    private static string ExportBatchNorm2d(BatchNorm2d m, OnnxGraph g, string x, int[] shape)
    {
        if (m.RunningMean != null && m.RunningVar != null)
            return BatchNormalization(g, x, m.NumFeatures, m.Weight, m.Bias, m.RunningMean, m.RunningVar, m.Eps, m.Momentum ?? 0.1);
        long[] axes = [0, 2, 3];
        var mean = g.Node("ReduceMean", [x], ("axes", axes), ("keepdims", 1L));
        var centered = g.Node("Sub", [x, mean]);
        var variance = g.Node("ReduceMean", [g.Node("Mul", [centered, centered])], ("axes", axes), ("keepdims", 1L));
        var y = g.Node("Div", [centered, g.Node("Sqrt", [g.Node("Add", [variance, g.FloatInitializer("eps", [m.Eps], [])])])]);
        int c = m.NumFeatures;
        if (m.Weight != null) y = g.Node("Mul", [y, g.FloatInitializer("weight", m.Weight.ToDoubleArray(), [c, 1, 1])]);
        if (m.Bias != null) y = g.Node("Add", [y, g.FloatInitializer("bias", m.Bias.ToDoubleArray(), [c, 1, 1])]);
        return y;
    }

    /// <summary>Unflatten as a Reshape: 0 copies each leading dimension (the batch stays symbolic), then the new sizes and the rest.</summary>
    private static string ExportUnflatten(Unflatten m, OnnxGraph g, string x, int[] shape)
    {
        int d = m.Dim < 0 ? m.Dim + shape.Length : m.Dim;
        if (d == 0)
            throw new NotSupportedException($"Onnx.Export: {m} ('{g.Scope}') splits dimension 0, the batch, which the exported graph keeps symbolic; unflatten a later dimension.");
        int[] sizes = (int[])m.UnflattenedSize.Clone();
        int infer = Array.IndexOf(sizes, -1);
        if (infer >= 0) sizes[infer] = shape[d] / sizes.Where(v => v != -1).Aggregate(1, (a, b) => a * b);
        long[] target = [.. Enumerable.Repeat(0L, d), .. sizes.Select(v => (long)v), .. shape[(d + 1)..].Select(v => (long)v)];
        return g.Node("Reshape", [x, g.Int64Initializer("shape", target)]);
    }

    /// <summary>
    /// Pads the spatial axes (2, 3, …) as padding_mode does before an unpadded convolution: reflect → Pad "reflect",
    /// replicate → Pad "edge"; circular (opset 17's Pad has no "wrap") → Concat of the last <c>begin</c> and first
    /// <c>end</c> slices around the input, axis by axis from the last, as PyTorch's pad applies them.
    /// </summary>
    private static string PadSpatial(OnnxGraph g, string x, int[] shape, string mode, int[] begin, int[] end)
    {
        int n = begin.Length, rank = n + 2;
        if (mode != "circular")
        {
            var all = new long[2 * rank];
            for (int i = 0; i < n; i++) { all[2 + i] = begin[i]; all[rank + 2 + i] = end[i]; }
            return g.Node("Pad", [x, g.Int64Initializer("pads", all)], ("mode", mode == "replicate" ? "edge" : "reflect"));
        }
        for (int i = n - 1; i >= 0; i--)
        {
            if (begin[i] == 0 && end[i] == 0) continue;
            long axis = 2 + i;
            var parts = new List<string>();
            if (begin[i] > 0) parts.Add(g.Node("Slice", [x, g.Int64Initializer("starts", -begin[i]), g.Int64Initializer("ends", long.MaxValue), g.Int64Initializer("axes", axis)]));
            parts.Add(x);
            if (end[i] > 0) parts.Add(g.Node("Slice", [x, g.Int64Initializer("starts", 0), g.Int64Initializer("ends", end[i]), g.Int64Initializer("axes", axis)]));
            x = g.Node("Concat", [.. parts], ("axis", axis));
        }
        return x;
    }

    /// <summary>The layer must see a batched input: ONNX's Conv and pooling operators read dimension 0 as the batch.</summary>
    private static void RequireBatched(Module m, OnnxGraph g, int[] shape, int rank, string expected)
    {
        if (shape.Length != rank)
            throw new ArgumentException($"Onnx.Export: {m} ('{g.Scope}') gets input {Tensor.ShapeStr(shape)} but its ONNX operator needs a batched input {expected}; the sample shape must start with the batch dimension, e.g. [1, 3, 32, 32] for 3×32×32 images.");
    }
}
