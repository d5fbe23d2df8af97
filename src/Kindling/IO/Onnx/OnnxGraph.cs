using System.Runtime.InteropServices;
using Google.Protobuf;
using Kindling.IO.OnnxProto;

namespace Kindling.IO;

/// <summary>
/// The graph being built by <see cref="Onnx.Export(NN.Module, int[], string, OnnxExportOptions?)"/>, as a layer
/// exporter sees it: add constant tensors (<see cref="Initializer"/>) and operator nodes (<see cref="Node"/>), each
/// returning the name of the value it produces. Names are made unique here, so an exporter only gives a readable hint.
/// </summary>
public sealed class OnnxGraph
{
    private readonly GraphProto _graph;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    internal OnnxGraph(GraphProto graph, DType dtype)
    {
        _graph = graph;
        DType = dtype;
    }

    /// <summary>The model's floating-point type (float32 or float64): constants an exporter adds should have it.</summary>
    public DType DType { get; }

    /// <summary>The state-dict path of the layer being exported (<c>0</c>, <c>encoder.2</c>); used in node names.</summary>
    public string Scope { get; internal set; } = "";

    /// <summary>A fresh value name starting with <paramref name="hint"/> (and the current scope).</summary>
    public string Fresh(string hint)
    {
        string stem = Scope.Length > 0 ? Scope + "/" + hint : hint;
        string name = stem;
        for (int i = 1; !_names.Add(name); i++) name = stem + "_" + i;
        return name;
    }

    internal void Reserve(string name)
    {
        if (!_names.Add(name)) throw new ArgumentException($"Onnx.Export: the value name '{name}' is used twice.");
    }

    /// <summary>Adds a constant (a weight, a shape) and returns its name. The tensor is copied; float tensors should have <see cref="DType"/>.</summary>
    public string Initializer(string hint, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        string name = Fresh(hint);
        _graph.Initializer.Add(ToProto(name, value));
        return name;
    }

    /// <summary>Adds a 1-D int64 constant (shapes, axes) and returns its name.</summary>
    public string Int64Initializer(string hint, params long[] values) => Initializer(hint, Tensor.FromArray(values, values.Length));

    /// <summary>Adds a floating-point constant of the model's <see cref="DType"/> from double values.</summary>
    public string FloatInitializer(string hint, double[] values, int[] shape) =>
        Initializer(hint, DType == DType.Float64 ? Tensor.FromArray(values, shape) : Tensor.FromArray(Array.ConvertAll(values, v => (float)v), shape));

    /// <summary>
    /// Adds one node of operator <paramref name="opType"/> (ONNX's default domain, opset 17) with the given inputs
    /// (an empty string skips an optional input) and attributes (values: <see cref="long"/>, <see cref="int"/>,
    /// <see cref="double"/>, <see cref="float"/>, <see cref="string"/>, <c>long[]</c>, <c>int[]</c>, <c>float[]</c>, <c>string[]</c>),
    /// and returns the name of its single output.
    /// </summary>
    public string Node(string opType, string[] inputs, params (string Name, object Value)[] attributes)
    {
        string output = Fresh(opType);
        var node = new NodeProto { OpType = opType, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        foreach (var (n, v) in attributes) node.Attribute.Add(Attribute(n, v));
        _graph.Node.Add(node);
        return output;
    }

    private static AttributeProto Attribute(string name, object value)
    {
        var a = new AttributeProto { Name = name };
        switch (value)
        {
            case long l: a.Type = AttributeProto.Types.AttributeType.Int; a.I = l; break;
            case int i: a.Type = AttributeProto.Types.AttributeType.Int; a.I = i; break;
            case double d: a.Type = AttributeProto.Types.AttributeType.Float; a.F = (float)d; break;
            case float f: a.Type = AttributeProto.Types.AttributeType.Float; a.F = f; break;
            case string s: a.Type = AttributeProto.Types.AttributeType.String; a.S = ByteString.CopyFromUtf8(s); break;
            case long[] ls: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(ls); break;
            case int[] iss: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(iss.Select(x => (long)x)); break;
            case float[] fs: a.Type = AttributeProto.Types.AttributeType.Floats; a.Floats.AddRange(fs); break;
            case string[] ss: a.Type = AttributeProto.Types.AttributeType.Strings; a.Strings.AddRange(ss.Select(ByteString.CopyFromUtf8)); break;
            default: throw new ArgumentException($"OnnxGraph.Node: attribute '{name}' has unsupported type {value.GetType().Name}.");
        }
        return a;
    }

    internal static TensorProto.Types.DataType ElemType(DType d) => d switch
    {
        DType.Float32 => TensorProto.Types.DataType.Float,
        DType.Float64 => TensorProto.Types.DataType.Double,
        DType.Int64 => TensorProto.Types.DataType.Int64,
        _ => TensorProto.Types.DataType.Bool,
    };

    /// <summary>A contiguous little-endian copy in raw_data (ONNX's layout is row-major like Kindling's).</summary>
    internal static TensorProto ToProto(string name, Tensor t)
    {
        var p = new TensorProto { Name = name, DataType = (int)ElemType(t.DType) };
        p.Dims.AddRange(t.Shape.Select(d => (long)d));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Onnx.Export writes little-endian raw data and needs a little-endian machine.");
        byte[] raw = t.DType switch
        {
            DType.Float32 => MemoryMarshal.AsBytes(t.DenseData<float>().AsSpan(0, t.NumEl)).ToArray(),
            DType.Float64 => MemoryMarshal.AsBytes(t.DenseData<double>().AsSpan(0, t.NumEl)).ToArray(),
            DType.Int64 => MemoryMarshal.AsBytes(t.DenseData<long>().AsSpan(0, t.NumEl)).ToArray(),
            _ => MemoryMarshal.AsBytes(t.DenseData<bool>().AsSpan(0, t.NumEl)).ToArray(),
        };
        p.RawData = ByteString.CopyFrom(raw);
        return p;
    }
}
