using System.Globalization;
using System.Text;

namespace Kindling;

/// <summary>Element type of a <see cref="Tensor"/>.</summary>
public enum DType
{
    /// <summary>32-bit IEEE float: the type of parameters, activations and losses.</summary>
    Float32,
    /// <summary>64-bit IEEE float: used by gradient checks and for exact references.</summary>
    Float64,
    /// <summary>64-bit signed integer: class indices, lengths, counts.</summary>
    Int64,
    /// <summary>Boolean: the masks produced by comparisons.</summary>
    Bool,
    /// <summary>
    /// Unsigned byte: raw image pixels (IDX, CIFAR, safetensors U8) kept at a quarter of float32's size. Storage only:
    /// views, row gathers and conversion (<see cref="Tensor.ToFloat32"/>) work; arithmetic refuses it (see Tensor.UInt8.cs).
    /// </summary>
    UInt8,
}

/// <summary>Shared, versioned backing array of one or more tensors (views share it).</summary>
internal sealed class Storage
{
    public readonly Array Data;
    /// <summary>Bumped by every in-place write, so backward can detect that a saved tensor changed.</summary>
    public int Version;
    /// <summary>The leaf that owns this storage and requires grad, if any: an in-place write through a view of it is refused.</summary>
    public Tensor? GradLeaf;
    public Storage(Array data) => Data = data;
}

/// <summary>
/// An n-dimensional, row-major, strided array of <see cref="DType.Float32"/>, <see cref="DType.Float64"/>,
/// <see cref="DType.Int64"/>, <see cref="DType.Bool"/> or <see cref="DType.UInt8"/> values with PyTorch semantics and reverse-mode autograd.
/// Tensors are plain managed objects: there is nothing to dispose.
/// </summary>
public sealed partial class Tensor
{
    internal readonly Storage Storage;
    internal readonly int Offset;
    internal readonly int[] Dims;
    internal readonly int[] Strides_;

    /// <summary>
    /// The tensor spans its whole buffer (offset 0, as many elements as the array) and the buffer is not a leaf's
    /// gradient: the condition for the engine to adopt or recycle the buffer once nothing else can reach it.
    /// </summary>
    internal bool OwnsWholeBuffer => Offset == 0 && Storage.Data.Length == NumEl && Storage.GradLeaf == null;

    /// <summary>The element type.</summary>
    public DType DType { get; }

    /// <summary>Number of elements.</summary>
    public int NumEl { get; }

    internal Tensor(Storage storage, int offset, int[] shape, int[] strides, DType dtype)
    {
        Storage = storage;
        Offset = offset;
        Dims = shape;
        Strides_ = strides;
        DType = dtype;
        NumEl = Numel(shape, "tensor");
    }

    internal Tensor(Array data, int[] shape, DType dtype)
        : this(new Storage(data), 0, shape, ContiguousStrides(shape), dtype) { }

    /// <summary>The shape as a fresh array (PyTorch's <c>tensor.shape</c>).</summary>
    public int[] Shape => (int[])Dims.Clone();

    /// <summary>The strides in elements (PyTorch's <c>tensor.stride()</c>).</summary>
    public int[] Strides => (int[])Strides_.Clone();

    /// <summary>Number of dimensions.</summary>
    public int Rank => Dims.Length;

    /// <summary>Size along <paramref name="dim"/> (negative counts from the end).</summary>
    public int Size(int dim) => Dims[NormDim(dim, Rank, "size")];

    /// <summary>True for float32 and float64 tensors.</summary>
    public bool IsFloatingPoint => DType is DType.Float32 or DType.Float64;

    /// <summary>True when the elements are laid out densely in row-major order from <see cref="Offset"/>.</summary>
    public bool IsContiguous
    {
        get
        {
            int expected = 1;
            for (int i = Rank - 1; i >= 0; i--)
            {
                if (Dims[i] == 1) continue;
                if (Strides_[i] != expected) return false;
                expected *= Dims[i];
            }
            return true;
        }
    }

    // ---------------------------------------------------------------- shape helpers

    internal static int Numel(ReadOnlySpan<int> shape, string op)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"{op}: negative dimension {d} in shape {ShapeStr(shape)}.");
            n *= d;
            if (n > int.MaxValue) throw new ArgumentException($"{op}: shape {ShapeStr(shape)} has more than {int.MaxValue} elements, which Kindling does not support.");
        }
        return (int)n;
    }

    internal static int[] ContiguousStrides(ReadOnlySpan<int> shape)
    {
        var s = new int[shape.Length];
        int acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = acc; acc *= Math.Max(shape[i], 1); }
        return s;
    }

    internal static int NormDim(int dim, int rank, string op)
    {
        int r = Math.Max(rank, 1);
        if (dim < -r || dim >= r)
            throw new ArgumentOutOfRangeException(nameof(dim), $"{op}: dimension {dim} is out of range for a tensor of rank {rank} (expected {-r}..{r - 1}).");
        return dim < 0 ? dim + r : dim;
    }

    /// <summary>Formats a shape as PyTorch users read it: <c>(2, 3)</c>, <c>()</c> for a scalar.</summary>
    public static string ShapeStr(ReadOnlySpan<int> shape)
    {
        var sb = new StringBuilder("(");
        for (int i = 0; i < shape.Length; i++) { if (i > 0) sb.Append(", "); sb.Append(shape[i]); }
        if (shape.Length == 1) sb.Append(',');
        return sb.Append(')').ToString();
    }

    internal string ShapeString => ShapeStr(Dims);

    internal void RequireFloat(string op)
    {
        if (!IsFloatingPoint)
            throw new ArgumentException($"{op}: expected a floating-point tensor, got {DTypeName(DType)} with shape {ShapeString}. Convert it first with .ToFloat32().");
    }

    internal static string DTypeName(DType t) => t switch
    {
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        DType.Int64 => "int64",
        DType.UInt8 => "uint8",
        _ => "bool",
    };

    // ---------------------------------------------------------------- raw access (contiguous only)

    internal Span<float> F32Span => new((float[])Storage.Data, Offset, NumEl);
    internal Span<double> F64Span => new((double[])Storage.Data, Offset, NumEl);
    internal Span<long> I64Span => new((long[])Storage.Data, Offset, NumEl);
    internal Span<bool> BoolSpan => new((bool[])Storage.Data, Offset, NumEl);

    internal Span<T> Span<T>() where T : unmanaged => new((T[])Storage.Data, Offset, NumEl);

    /// <summary>Returns this tensor if contiguous, else a dense row-major copy (PyTorch's <c>contiguous()</c>).</summary>
    public Tensor Contiguous()
    {
        if (IsContiguous) return this;
        var y = Empty(Dims, DType);
        CopyStrided(this, y);
        return Autograd.Record(y, "contiguous", [this], Derivatives.Identity);
    }

    /// <summary>Copies <paramref name="src"/> (any strides) into contiguous <paramref name="dst"/> of the same shape.</summary>
    internal static void CopyStrided(Tensor src, Tensor dst)
    {
        switch (src.DType)
        {
            case DType.Float32: CopyStrided<float>(src, dst.F32Span); break;
            case DType.Float64: CopyStrided<double>(src, dst.F64Span); break;
            case DType.Int64: CopyStrided<long>(src, dst.I64Span); break;
            case DType.UInt8: CopyStrided<byte>(src, dst.Span<byte>()); break;
            default: CopyStrided<bool>(src, dst.BoolSpan); break;
        }
    }

    private static void CopyStrided<T>(Tensor src, Span<T> dst) where T : unmanaged
    {
        var data = (T[])src.Storage.Data;
        int n = src.NumEl;
        if (n == 0) return;
        int rank = src.Rank;
        if (rank == 0) { dst[0] = data[src.Offset]; return; }
        var idx = new int[rank];
        int last = rank - 1, lastDim = src.Dims[last], lastStride = src.Strides_[last];
        int pos = 0;
        while (pos < n)
        {
            int off = src.Offset;
            for (int d = 0; d < last; d++) off += idx[d] * src.Strides_[d];
            if (lastStride == 1) { data.AsSpan(off, lastDim).CopyTo(dst.Slice(pos, lastDim)); pos += lastDim; }
            else for (int j = 0; j < lastDim; j++) dst[pos++] = data[off + j * lastStride];
            for (int d = last - 1; d >= 0; d--)
            {
                if (++idx[d] < src.Dims[d]) break;
                idx[d] = 0;
            }
        }
    }

    // ---------------------------------------------------------------- export

    /// <summary>The elements as a float array in row-major order (converting from the stored type).</summary>
    public float[] ToArray()
    {
        var c = Contiguous();
        return c.DType switch
        {
            DType.Float32 => c.F32Span.ToArray(),
            DType.Float64 => Array.ConvertAll(c.F64Span.ToArray(), v => (float)v),
            DType.Int64 => Array.ConvertAll(c.I64Span.ToArray(), v => (float)v),
            DType.UInt8 => Array.ConvertAll(c.Span<byte>().ToArray(), v => (float)v),
            _ => Array.ConvertAll(c.BoolSpan.ToArray(), v => v ? 1f : 0f),
        };
    }

    /// <summary>The elements as a double array in row-major order.</summary>
    public double[] ToDoubleArray()
    {
        var c = Contiguous();
        return c.DType switch
        {
            DType.Float32 => Array.ConvertAll(c.F32Span.ToArray(), v => (double)v),
            DType.Float64 => c.F64Span.ToArray(),
            DType.Int64 => Array.ConvertAll(c.I64Span.ToArray(), v => (double)v),
            DType.UInt8 => Array.ConvertAll(c.Span<byte>().ToArray(), v => (double)v),
            _ => Array.ConvertAll(c.BoolSpan.ToArray(), v => v ? 1.0 : 0.0),
        };
    }

    /// <summary>The elements as a long array (int64 and bool tensors; floats are truncated toward zero).</summary>
    public long[] ToInt64Array()
    {
        var c = Contiguous();
        return c.DType switch
        {
            DType.Int64 => c.I64Span.ToArray(),
            DType.Float32 => Array.ConvertAll(c.F32Span.ToArray(), v => (long)v),
            DType.Float64 => Array.ConvertAll(c.F64Span.ToArray(), v => (long)v),
            DType.UInt8 => Array.ConvertAll(c.Span<byte>().ToArray(), v => (long)v),
            _ => Array.ConvertAll(c.BoolSpan.ToArray(), v => v ? 1L : 0L),
        };
    }

    /// <summary>The single value of a one-element tensor (PyTorch's <c>item()</c>).</summary>
    public float Item()
    {
        if (NumEl != 1) throw new InvalidOperationException($"Item: a tensor with {NumEl} elements (shape {ShapeString}) cannot be converted to a scalar; only one-element tensors can.");
        return ToArray()[0];
    }

    /// <summary>The single value of a one-element tensor, as double.</summary>
    public double ItemDouble()
    {
        if (NumEl != 1) throw new InvalidOperationException($"ItemDouble: a tensor with {NumEl} elements (shape {ShapeString}) cannot be converted to a scalar.");
        return ToDoubleArray()[0];
    }

    /// <summary>Prints like PyTorch: <c>tensor([[1.0000, 2.0000], ...], requires_grad=True)</c>, with the shape.</summary>
    public override string ToString()
    {
        var vals = ToDoubleArray();
        var sb = new StringBuilder("tensor(");
        bool intLike = DType is DType.Int64 or DType.Bool or DType.UInt8;
        bool allInt = !intLike && vals.All(v => double.IsFinite(v) && v == Math.Floor(v) && Math.Abs(v) < 1e8);
        string Fmt(double v)
        {
            if (DType == DType.Bool) return v != 0 ? "True" : "False";
            if (intLike) return ((long)v).ToString(CultureInfo.InvariantCulture);
            if (double.IsNaN(v)) return "nan";
            if (double.IsInfinity(v)) return v > 0 ? "inf" : "-inf";
            if (allInt) return v.ToString("0", CultureInfo.InvariantCulture) + ".";
            double a = Math.Abs(v);
            return a != 0 && (a >= 1e8 || a < 1e-4) ? v.ToString("0.0000e+00", CultureInfo.InvariantCulture) : v.ToString("0.0000", CultureInfo.InvariantCulture);
        }
        const int limit = 1000;
        if (Rank == 0) sb.Append(Fmt(vals[0]));
        else if (NumEl > limit) sb.Append('[').Append(string.Join(", ", vals.Take(3).Select(Fmt))).Append(", ..., ").Append(string.Join(", ", vals.Skip(vals.Length - 3).Select(Fmt))).Append(']');
        else
        {
            int pos = 0;
            void Rec(int d, int indent)
            {
                sb.Append('[');
                for (int i = 0; i < Dims[d]; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(',');
                        if (d < Rank - 1) sb.Append('\n', Rank - 1 - d).Append(' ', indent + 1);
                        else sb.Append(' ');
                    }
                    if (d == Rank - 1) sb.Append(Fmt(vals[pos++]));
                    else Rec(d + 1, indent + 1);
                }
                sb.Append(']');
            }
            Rec(0, 7);
        }
        if (DType == DType.Float64) sb.Append(", dtype=torch.float64");
        if (DType == DType.UInt8) sb.Append(", dtype=torch.uint8");
        if (RequiresGrad) sb.Append(GradFn != null ? $", grad_fn=<{GradFn.Name}>" : ", requires_grad=True");
        sb.Append(") shape=").Append(ShapeString);
        return sb.ToString();
    }
}
