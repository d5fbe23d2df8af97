namespace Kindling;

public sealed partial class Tensor
{
    private static Array NewArray(DType dtype, int n) => dtype switch
    {
        DType.Float32 => new float[n],
        DType.Float64 => new double[n],
        DType.Int64 => new long[n],
        DType.UInt8 => new byte[n],
        _ => new bool[n],
    };

    internal static Tensor Empty(int[] shape, DType dtype = DType.Float32) =>
        new(NewArray(dtype, Numel(shape, "tensor")), (int[])shape.Clone(), dtype);

    /// <summary>
    /// A tensor whose every element the caller will overwrite: float buffers come from the <see cref="BufferPool"/>
    /// when it has one of that length (else they skip the runtime's zeroing, which would otherwise be a whole extra
    /// pass over memory for a memory-bound operation).
    /// </summary>
    internal static Tensor Uninit(int[] shape, DType dtype) =>
        new(BufferPool.Rent(dtype, Numel(shape, "tensor")), (int[])shape.Clone(), dtype);

    private static int[] ShapeOf(Array data, int[] shape, string op)
    {
        if (shape.Length == 0) return [data.Length];
        int n = Numel(shape, op);
        if (n != data.Length)
            throw new ArgumentException($"{op}: shape {ShapeStr(shape)} needs {n} values but the array has {data.Length}.");
        return (int[])shape.Clone();
    }

    /// <summary>A float32 tensor holding a copy of <paramref name="data"/> (row-major) with the given shape; no shape means 1-D.</summary>
    public static Tensor FromArray(float[] data, params int[] shape) => new((float[])data.Clone(), ShapeOf(data, shape, "FromArray"), DType.Float32);

    /// <summary>A float64 tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor FromArray(double[] data, params int[] shape) => new((double[])data.Clone(), ShapeOf(data, shape, "FromArray"), DType.Float64);

    /// <summary>An int64 tensor (class indices, lengths) holding a copy of <paramref name="data"/>.</summary>
    public static Tensor FromArray(long[] data, params int[] shape) => new((long[])data.Clone(), ShapeOf(data, shape, "FromArray"), DType.Int64);

    /// <summary>A bool tensor (mask) holding a copy of <paramref name="data"/>.</summary>
    public static Tensor FromArray(bool[] data, params int[] shape) => new((bool[])data.Clone(), ShapeOf(data, shape, "FromArray"), DType.Bool);

    /// <summary>A 2-D float32 tensor from a rectangular array.</summary>
    public static Tensor FromArray(float[,] data)
    {
        int r = data.GetLength(0), c = data.GetLength(1);
        var flat = new float[r * c];
        Buffer.BlockCopy(data, 0, flat, 0, flat.Length * sizeof(float));
        return new Tensor(flat, [r, c], DType.Float32);
    }

    /// <summary>A rank-0 tensor holding one value.</summary>
    public static Tensor Scalar(float value) => new(new[] { value }, [], DType.Float32);

    /// <summary>A rank-0 tensor holding one value of the given type.</summary>
    public static Tensor Scalar(double value, DType dtype) => Full([], value, dtype);

    /// <summary>Zeros of the given shape (float32).</summary>
    public static Tensor Zeros(params int[] shape) => Empty(shape);

    /// <summary>Zeros of the given shape and type.</summary>
    public static Tensor Zeros(int[] shape, DType dtype) => Empty(shape, dtype);

    /// <summary>Ones of the given shape (float32).</summary>
    public static Tensor Ones(params int[] shape) => Full(shape, 1.0);

    /// <summary>Ones of the given shape and type.</summary>
    public static Tensor Ones(int[] shape, DType dtype) => Full(shape, 1.0, dtype);

    /// <summary>A tensor of the given shape filled with <paramref name="value"/>.</summary>
    public static Tensor Full(int[] shape, double value, DType dtype = DType.Float32)
    {
        var t = Empty(shape, dtype);
        t.FillRaw(value);
        return t;
    }

    /// <summary>Zeros with the shape and type of <paramref name="t"/>.</summary>
    public static Tensor ZerosLike(Tensor t) => Empty(t.Dims, t.DType);

    /// <summary>Ones with the shape and type of <paramref name="t"/>.</summary>
    public static Tensor OnesLike(Tensor t) => Full(t.Dims, 1.0, t.DType);

    /// <summary>A tensor with the shape and type of <paramref name="t"/> filled with <paramref name="value"/>.</summary>
    public static Tensor FullLike(Tensor t, double value) => Full(t.Dims, value, t.DType);

    /// <summary>Values start, start+step, ... below end (PyTorch's <c>torch.arange</c>); float32 unless another type is asked.</summary>
    public static Tensor Arange(double start, double end, double step = 1, DType dtype = DType.Float32)
    {
        if (step == 0 || double.IsNaN(step)) throw new ArgumentException($"Arange: step must be non-zero, got {step}.");
        if (!double.IsFinite(start) || !double.IsFinite(end)) throw new ArgumentException($"Arange: start and end must be finite, got {start} and {end}.");
        double count = Math.Ceiling((end - start) / step);
        if (count > int.MaxValue) throw new ArgumentException($"Arange: {count} elements is too many.");
        int n = Math.Max(0, (int)count);
        var t = Empty([n], dtype);
        for (int i = 0; i < n; i++) t.SetRaw(i, start + i * step);
        return t;
    }

    /// <summary>Values 0, 1, ..., end-1.</summary>
    public static Tensor Arange(int end, DType dtype = DType.Float32) => Arange(0, end, 1, dtype);

    /// <summary>The n×n identity matrix.</summary>
    public static Tensor Eye(int n, DType dtype = DType.Float32)
    {
        var t = Empty([n, n], dtype);
        for (int i = 0; i < n; i++) t.SetRaw(i * n + i, 1);
        return t;
    }

    /// <summary>Uniform samples in [0, 1) from <paramref name="generator"/> (default: <see cref="Generator.Default"/>).</summary>
    public static Tensor Rand(int[] shape, Generator? generator = null, DType dtype = DType.Float32)
    {
        var g = generator ?? Generator.Default;
        var t = Empty(shape, FloatType(dtype, "Rand"));
        lock (g.SyncRoot) for (int i = 0; i < t.NumEl; i++) t.SetRaw(i, dtype == DType.Float32 ? g.NextFloat() : g.NextDouble());
        return t;
    }

    /// <summary>Standard normal samples from <paramref name="generator"/>.</summary>
    public static Tensor Randn(int[] shape, Generator? generator = null, DType dtype = DType.Float32)
    {
        var g = generator ?? Generator.Default;
        var t = Empty(shape, FloatType(dtype, "Randn"));
        lock (g.SyncRoot) for (int i = 0; i < t.NumEl; i++) t.SetRaw(i, g.NextNormal());
        return t;
    }

    /// <summary>Uniform integers in [low, high) as int64.</summary>
    public static Tensor RandInt(long low, long high, int[] shape, Generator? generator = null)
    {
        if (high <= low) throw new ArgumentException($"RandInt: high ({high}) must be greater than low ({low}).");
        var g = generator ?? Generator.Default;
        var t = Empty(shape, DType.Int64);
        var s = t.I64Span;
        lock (g.SyncRoot) for (int i = 0; i < s.Length; i++) s[i] = low + g.NextInt64(high - low);
        return t;
    }

    /// <summary>A random permutation of 0..n-1 as int64 (Fisher–Yates).</summary>
    public static Tensor RandPerm(int n, Generator? generator = null)
    {
        if (n < 0) throw new ArgumentException($"RandPerm: n must be non-negative, got {n}.");
        var g = generator ?? Generator.Default;
        var p = new long[n];
        for (int i = 0; i < n; i++) p[i] = i;
        lock (g.SyncRoot)
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)g.NextInt64(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return new Tensor(p, [n], DType.Int64);
    }

    private static DType FloatType(DType d, string op) => d is DType.Float32 or DType.Float64
        ? d : throw new ArgumentException($"{op}: dtype must be Float32 or Float64, got {DTypeName(d)}.");

    // ---------------------------------------------------------------- conversions

    /// <summary>A copy converted to <paramref name="dtype"/> (the same tensor when already of that type). Differentiable between float types.</summary>
    public Tensor To(DType dtype)
    {
        if (dtype == DType) return this;
        var c = Contiguous();
        var y = Uninit(Dims, dtype);
        ConvertInto(c, y);
        if (IsFloatingPoint && y.IsFloatingPoint)
        {
            var from = DType;
            return Autograd.Record(y, "ToCopyBackward", [this], Derivatives.ToCopy(from));
        }
        return y;
    }

    /// <summary>Element conversion between contiguous tensors of the same shape, type to type without a detour.</summary>
    private static void ConvertInto(Tensor src, Tensor dst)
    {
        int n = src.NumEl;
        switch (src.DType, dst.DType)
        {
            case (DType.Float32, DType.Float64): { var a = src.F32Span; var b = dst.F64Span; for (int i = 0; i < n; i++) b[i] = a[i]; break; }
            case (DType.Float64, DType.Float32): { var a = src.F64Span; var b = dst.F32Span; for (int i = 0; i < n; i++) b[i] = (float)a[i]; break; }
            case (DType.Int64, DType.Float32): { var a = src.I64Span; var b = dst.F32Span; for (int i = 0; i < n; i++) b[i] = a[i]; break; }
            case (DType.Int64, DType.Float64): { var a = src.I64Span; var b = dst.F64Span; for (int i = 0; i < n; i++) b[i] = a[i]; break; }
            case (DType.Float32, DType.Int64): { var a = src.F32Span; var b = dst.I64Span; for (int i = 0; i < n; i++) b[i] = (long)a[i]; break; }
            case (DType.Float64, DType.Int64): { var a = src.F64Span; var b = dst.I64Span; for (int i = 0; i < n; i++) b[i] = (long)a[i]; break; }
            case (DType.Bool, DType.Float32): { var a = src.BoolSpan; var b = dst.F32Span; for (int i = 0; i < n; i++) b[i] = a[i] ? 1f : 0f; break; }
            case (DType.Bool, DType.Float64): { var a = src.BoolSpan; var b = dst.F64Span; for (int i = 0; i < n; i++) b[i] = a[i] ? 1.0 : 0.0; break; }
            case (DType.Bool, DType.Int64): { var a = src.BoolSpan; var b = dst.I64Span; for (int i = 0; i < n; i++) b[i] = a[i] ? 1L : 0L; break; }
            case (DType.Float32, DType.Bool): { var a = src.F32Span; var b = dst.BoolSpan; for (int i = 0; i < n; i++) b[i] = a[i] != 0; break; }
            case (DType.Float64, DType.Bool): { var a = src.F64Span; var b = dst.BoolSpan; for (int i = 0; i < n; i++) b[i] = a[i] != 0; break; }
            case (DType.Int64, DType.Bool): { var a = src.I64Span; var b = dst.BoolSpan; for (int i = 0; i < n; i++) b[i] = a[i] != 0; break; }
            case (DType.UInt8, _): ConvertFromUInt8(src.Span<byte>(), dst); break;
            default: throw new InvalidOperationException($"To: no conversion from {DTypeName(src.DType)} to {DTypeName(dst.DType)}.");
        }
    }

    /// <summary>Converts to float32.</summary>
    public Tensor ToFloat32() => To(DType.Float32);
    /// <summary>Converts to float64.</summary>
    public Tensor ToFloat64() => To(DType.Float64);
    /// <summary>Converts to int64 (truncating floats).</summary>
    public Tensor ToInt64() => To(DType.Int64);

    /// <summary>A contiguous copy with its own storage (differentiable, like PyTorch's <c>clone()</c>).</summary>
    public Tensor Clone()
    {
        var y = Empty(Dims, DType);
        CopyStrided(this, y);
        return Autograd.Record(y, "CloneBackward", [this], Derivatives.Identity);
    }

    // ---------------------------------------------------------------- raw element writes (fresh tensors only)

    internal void SetRaw(int i, double v)
    {
        switch (DType)
        {
            case DType.Float32: ((float[])Storage.Data)[Offset + i] = (float)v; break;
            case DType.Float64: ((double[])Storage.Data)[Offset + i] = v; break;
            case DType.Int64: ((long[])Storage.Data)[Offset + i] = (long)v; break;
            default: ((bool[])Storage.Data)[Offset + i] = v != 0; break;
        }
    }

    internal void FillRaw(double v)
    {
        switch (DType)
        {
            case DType.Float32: F32Span.Fill((float)v); break;
            case DType.Float64: F64Span.Fill(v); break;
            case DType.Int64: I64Span.Fill((long)v); break;
            default: BoolSpan.Fill(v != 0); break;
        }
    }
}
