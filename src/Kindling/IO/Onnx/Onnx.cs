using Google.Protobuf;
using Kindling.IO.OnnxProto;
using Kindling.NN;

namespace Kindling.IO;

/// <summary>
/// Turns one layer into ONNX nodes: given the layer, the graph, the name of its input value and the input's shape
/// (traced with the sample shape; dimension 0 is the batch, symbolic in the exported graph), it adds nodes and returns
/// the name of the layer's output value.
/// </summary>
public delegate string OnnxLayerExporter<in T>(T layer, OnnxGraph graph, string input, int[] inputShape) where T : Module;

/// <summary>
/// Exports a Kindling model to ONNX (opset 17, IR version 8), the format ONNX Runtime, ML.NET and most serving stacks
/// read. The model is exported in its evaluation form (Dropout is the identity, BatchNorm uses its running
/// statistics), with a symbolic batch dimension, and optionally with the input scaling as its first nodes and
/// probabilities as a second output (<see cref="OnnxExportOptions"/>).
/// <para>
/// Each layer type maps to nodes through one exporter in a table (<see cref="Register{T}"/>): Linear (Gemm, or MatMul
/// + Add beyond 2-D), ReLU, LeakyReLU, ELU, GELU (exact, via Erf), SiLU, Hardswish, Mish, Sigmoid, Tanh, Softmax, LogSoftmax,
/// Dropout and Identity (Identity), Flatten (Reshape), BatchNorm1d (BatchNormalization), LayerNorm
/// (LayerNormalization); Conv1d and Conv2d (Conv), ConvTranspose2d (ConvTranspose), MaxPool1d/2d (MaxPool), AvgPool2d
/// (AveragePool), AdaptiveAvgPool2d (GlobalAveragePool, or AveragePool for divisible sizes), BatchNorm2d
/// (BatchNormalization), Dropout2d (no node), Unflatten (Reshape); Sequential is walked. Output shapes are traced by
/// running each layer on a zero sample.
/// </para>
/// </summary>
public static class Onnx
{
    /// <summary>The operator set the graph uses: the newest that ONNX 1.12's checker knows; ONNX Runtime 1.31 runs it.</summary>
    public const int Opset = 17;

    /// <summary>The ONNX IR version written (the one that goes with opset 17).</summary>
    public const int IrVersion = 8;

    private static readonly Dictionary<Type, Func<Module, OnnxGraph, string, int[], string>> Exporters = [];
    private static readonly Lock Gate = new();

    static Onnx() => OnnxLayerExporters.RegisterBuiltIns();

    /// <summary>
    /// Registers (or replaces) the exporter of layer type <typeparamref name="T"/> (the exact type, not subclasses), so
    /// <see cref="Export(Module, int[], string, OnnxExportOptions?)"/> can export models that contain it.
    /// </summary>
    public static void Register<T>(OnnxLayerExporter<T> exporter) where T : Module
    {
        ArgumentNullException.ThrowIfNull(exporter);
        lock (Gate) Exporters[typeof(T)] = (m, g, x, s) => exporter((T)m, g, x, s);
    }

    /// <summary>True when layers of <paramref name="layerType"/> can be exported.</summary>
    public static bool CanExport(Type layerType)
    {
        lock (Gate) return layerType == typeof(Sequential) || Exporters.ContainsKey(layerType);
    }

    /// <summary>
    /// Writes <paramref name="module"/> as an ONNX model to <paramref name="path"/> atomically (a temporary file renamed
    /// over the target). <paramref name="sampleInputShape"/> is one input's shape including the batch dimension, e.g.
    /// <c>[1, 64]</c>; the exported graph accepts any batch size unless <see cref="OnnxExportOptions.DynamicBatch"/> is off.
    /// The module's training/evaluation flags are restored afterwards.
    /// </summary>
    /// <exception cref="NotSupportedException">A layer has no exporter (register one with <see cref="Register{T}"/>).</exception>
    /// <exception cref="ArgumentException">The sample shape does not fit the model or the options.</exception>
    public static void Export(Module module, int[] sampleInputShape, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = ExportToBytes(module, sampleInputShape, options);
        var tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            fs.Write(bytes);
            fs.Flush(true);
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The serialized ONNX model (what <see cref="Export(Module, int[], string, OnnxExportOptions?)"/> writes).</summary>
    public static byte[] ExportToBytes(Module module, int[] sampleInputShape, OnnxExportOptions? options = null) =>
        Build(module, sampleInputShape, options ?? new OnnxExportOptions()).ToByteArray();

    internal static ModelProto Build(Module module, int[] sampleInputShape, OnnxExportOptions o)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(sampleInputShape);
        if (sampleInputShape.Length == 0 || sampleInputShape.Any(d => d <= 0))
            throw new ArgumentException($"Onnx.Export: the sample input shape must have a batch dimension and positive sizes, got {Tensor.ShapeStr(sampleInputShape)} (e.g. [1, 64] for 64 features).", nameof(sampleInputShape));
        var dtypes = module.Parameters().Concat(module.NamedBuffers().Select(b => b.Buffer)).Where(t => t.IsFloatingPoint).Select(t => t.DType).Distinct().ToList();
        if (dtypes.Count > 1) throw new ArgumentException("Onnx.Export: the model mixes float32 and float64 tensors; convert it to one type first.", nameof(module));
        var dtype = dtypes.Count == 1 ? dtypes[0] : DType.Float32;
        string[] names = [o.InputName, o.OutputName, o.ProbabilitiesName];
        if (names.Any(string.IsNullOrEmpty) || names.Distinct().Count() != names.Length)
            throw new ArgumentException($"Onnx.Export: input, output and probabilities names must be non-empty and distinct, got '{o.InputName}', '{o.OutputName}', '{o.ProbabilitiesName}'.");

        var modes = new List<(Module M, bool Training)>();
        Collect(module, modes);
        module.Eval();
        try
        {
            var graphProto = new GraphProto { Name = "kindling" };
            var g = new OnnxGraph(graphProto, dtype);
            foreach (var n in names) g.Reserve(n);
            string x = o.InputName;
            int[] shape = (int[])sampleInputShape.Clone();
            if (o.InputScaler is { } scaler)
            {
                if (shape[^1] != scaler.Features)
                    throw new ArgumentException($"Onnx.Export: the input scaler was fitted on {scaler.Features} features but the sample shape {Tensor.ShapeStr(shape)} has {shape[^1]} in its last dimension.", nameof(o));
                g.Scope = "scaler";
                x = g.Node("Sub", [x, g.FloatInitializer("mean", scaler.Mean.ToDoubleArray(), [scaler.Features])]);
                x = g.Node("Div", [x, g.FloatInitializer("std", scaler.Std.ToDoubleArray(), [scaler.Features])]);
            }
            using (Autograd.NoGrad())
                (x, shape) = ExportModule(module, g, x, shape, "", dtype);
            if (o.OutputAffine is var (scale, shift))
            {
                g.Scope = "output_affine";
                x = g.Node("Mul", [x, g.FloatInitializer("scale", [scale], [])]);
                x = g.Node("Add", [x, g.FloatInitializer("shift", [shift], [])]);
            }
            g.Scope = "";
            graphProto.Node.Add(new NodeProto { OpType = "Identity", Name = o.OutputName, Input = { x }, Output = { o.OutputName } });
            graphProto.Input.Add(ValueInfo(o.InputName, sampleInputShape, OnnxLayerExporters.InputDType(module, dtype), o.DynamicBatch));
            graphProto.Output.Add(ValueInfo(o.OutputName, shape, dtype, o.DynamicBatch));
            if (o.Probabilities != OnnxProbabilities.None)
            {
                var node = o.Probabilities == OnnxProbabilities.Softmax
                    ? new NodeProto { OpType = "Softmax", Attribute = { new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = -1 } } }
                    : new NodeProto { OpType = "Sigmoid" };
                node.Name = o.ProbabilitiesName;
                node.Input.Add(o.OutputName);
                node.Output.Add(o.ProbabilitiesName);
                graphProto.Node.Add(node);
                graphProto.Output.Add(ValueInfo(o.ProbabilitiesName, shape, dtype, o.DynamicBatch));
            }
            var model = new ModelProto
            {
                IrVersion = IrVersion,
                ProducerName = "Kindling",
                ProducerVersion = typeof(Onnx).Assembly.GetName().Version?.ToString(3) ?? "",
                Graph = graphProto,
                DocString = o.Description ?? "",
            };
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
            return model;
        }
        finally
        {
            foreach (var (m, t) in modes) m.Train(t); // pre-order: a child's own flag wins over its parent's recursive set
        }
    }

    private static void Collect(Module m, List<(Module, bool)> modes)
    {
        modes.Add((m, m.Training));
        foreach (var (_, c) in m.NamedChildren()) Collect(c, modes);
    }

    private static (string, int[]) ExportModule(Module m, OnnxGraph g, string x, int[] shape, string scope, DType dtype)
    {
        if (m is Sequential seq)
        {
            foreach (var (name, child) in seq.NamedChildren())
                (x, shape) = ExportModule(child, g, x, shape, scope.Length == 0 ? name : scope + "." + name, dtype);
            return (x, shape);
        }
        Func<Module, OnnxGraph, string, int[], string>? exporter;
        lock (Gate) Exporters.TryGetValue(m.GetType(), out exporter);
        string where = scope.Length == 0 ? "the model itself" : $"'{scope}'";
        if (exporter == null)
            throw new NotSupportedException($"Onnx.Export: no ONNX exporter for {m.GetType().Name} ({where}); register one with Onnx.Register<{m.GetType().Name}>((layer, graph, input, shape) => ...).");
        Tensor y;
        // Embedding layers take int64 indices and are traced by shape alone (OnnxSequenceExporters.cs).
        try { y = OnnxLayerExporters.TakesIndices(m) ? OnnxLayerExporters.TraceIndexLayer(m, shape, dtype) : m.Call(Tensor.Zeros(shape, dtype)); }
        catch (ArgumentException e) { throw new ArgumentException($"Onnx.Export: {m.GetType().Name} ({where}) does not accept the traced input shape {Tensor.ShapeStr(shape)}: {e.Message}", e); }
        g.Scope = scope.Length == 0 ? m.GetType().Name : scope;
        string output = exporter(m, g, x, (int[])shape.Clone());
        return (output, y.Shape);
    }

    private static ValueInfoProto ValueInfo(string name, int[] shape, DType dtype, bool dynamicBatch)
    {
        var tensorShape = new TensorShapeProto();
        for (int i = 0; i < shape.Length; i++)
            tensorShape.Dim.Add(i == 0 && dynamicBatch ? new TensorShapeProto.Types.Dimension { DimParam = "batch" } : new TensorShapeProto.Types.Dimension { DimValue = shape[i] });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)OnnxGraph.ElemType(dtype), Shape = tensorShape } },
        };
    }
}
