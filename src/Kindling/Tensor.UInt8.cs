namespace Kindling;

/// <summary>
/// The uint8 dtype: raw image bytes held at a quarter of float32's size (PyTorch's <c>torch.uint8</c>). A uint8 tensor
/// is storage, not arithmetic: creation, views (Reshape, Narrow, Select, …), row gathers (<c>IndexSelect</c>),
/// <c>Contiguous</c>, export (<c>ToArray</c>) and conversion (<c>ToFloat32</c>, <c>To</c>) work; elementwise math,
/// reductions and matmul refuse it with a message that says to convert first, since PyTorch's uint8 arithmetic wraps
/// modulo 256 (<c>200 + 100 = 44</c>), which is never what an image pipeline wants.
/// </summary>
public sealed partial class Tensor
{
    /// <summary>A uint8 tensor holding a copy of <paramref name="data"/> (row-major) with the given shape; no shape means 1-D.</summary>
    public static Tensor FromArray(byte[] data, params int[] shape) => new((byte[])data.Clone(), ShapeOf(data, shape, "FromArray"), DType.UInt8);

    /// <summary>
    /// Wraps <paramref name="data"/> without copying as a uint8 tensor of <paramref name="shape"/>: the way to hold a
    /// large image set once (later writes to the array show through).
    /// </summary>
    public static Tensor FromBytes(byte[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new(data, ShapeOf(data, shape, "FromBytes"), DType.UInt8);
    }

    /// <summary>The elements as a byte array in row-major order (uint8 tensors only).</summary>
    public byte[] ToByteArray()
    {
        if (DType != DType.UInt8)
            throw new InvalidOperationException($"ToByteArray: the tensor is {DTypeName(DType)} with shape {ShapeString}; only uint8 tensors export as bytes (use ToArray for floats).");
        return Contiguous().Span<byte>().ToArray();
    }

    /// <summary>
    /// Converts bytes to float32 dividing by <paramref name="divisor"/> (1: the values as they are; 255: pixels to
    /// [0, 1], bit for bit PyTorch's <c>img.float().div(255)</c>, since a byte is exact in float32 and the one division
    /// rounds once).
    /// </summary>
    internal static void BytesToFloat(ReadOnlySpan<byte> src, Span<float> dst, float divisor)
    {
        if (divisor == 1f) for (int i = 0; i < src.Length; i++) dst[i] = src[i];
        else for (int i = 0; i < src.Length; i++) dst[i] = src[i] / divisor;
    }

    private static void ConvertFromUInt8(ReadOnlySpan<byte> a, Tensor dst)
    {
        switch (dst.DType)
        {
            case DType.Float32: BytesToFloat(a, dst.F32Span, 1f); break;
            case DType.Float64: { var b = dst.F64Span; for (int i = 0; i < a.Length; i++) b[i] = a[i]; break; }
            case DType.Int64: { var b = dst.I64Span; for (int i = 0; i < a.Length; i++) b[i] = a[i]; break; }
            case DType.Bool: { var b = dst.BoolSpan; for (int i = 0; i < a.Length; i++) b[i] = a[i] != 0; break; }
            default: throw new InvalidOperationException($"To: no conversion from uint8 to {DTypeName(dst.DType)}.");
        }
    }

    /// <summary>Refuses uint8 operands of arithmetic, comparisons and reductions, naming the operation and the fix.</summary>
    internal static void RefuseUInt8(Tensor a, string op)
    {
        if (a.DType == DType.UInt8)
            throw new ArgumentException($"{op}: uint8 tensors (shape {a.ShapeString}) hold raw bytes and take no arithmetic in Kindling; convert first, e.g. x.ToFloat32() / 255 for pixels in [0, 1].");
    }
}
