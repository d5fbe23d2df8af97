using System.Buffers.Binary;
using System.IO.Compression;

namespace Kindling.Data;

/// <summary>
/// Reads IDX files, the format of MNIST and Fashion-MNIST: bytes 0–1 are zero, byte 2 the element type
/// (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64), byte 3 the number of dimensions, then each dimension
/// as a big-endian 32-bit integer, then the elements in row-major order, big-endian. Gzipped files (magic 1f 8b) are
/// decompressed transparently, whatever their name.
/// </summary>
/// <remarks>
/// The header is checked against the real data length before anything is allocated from it, so a corrupt or truncated
/// file gives a <see cref="DataException"/> rather than a huge allocation or an out-of-range read.
/// </remarks>
public static class Idx
{
    /// <summary>
    /// Reads an IDX file with its natural element type: integer types (u8, i8, i16, i32) as int64, f32 as float32,
    /// f64 as float64, with the shape from the header.
    /// </summary>
    public static Tensor Read(string path) => Read(Parse(ReadAllBytes(path), path));

    /// <summary>
    /// Reads an IDX file of images as float32 with the header's shape, e.g. (N, 28, 28). Unsigned-byte pixels are divided
    /// by 255 into [0, 1] when <paramref name="scale"/> is true (the default); other element types are converted unscaled.
    /// </summary>
    public static Tensor ReadImages(string path, bool scale = true)
    {
        var raw = Parse(ReadAllBytes(path), path);
        return Tensor.Wrap(raw.ToFloat(scale), raw.Dims);
    }

    /// <summary>Reads a one-dimensional IDX file of integer class labels as int64 (N).</summary>
    public static Tensor ReadLabels(string path)
    {
        var raw = Parse(ReadAllBytes(path), path);
        if (raw.Dims.Length != 1)
            throw new DataException($"{path}: a label file must have 1 dimension, but the IDX header has {raw.Dims.Length} ({Tensor.ShapeStr(raw.Dims)}). Is this an image file?");
        if (raw.Type is 0x0D or 0x0E)
            throw new DataException($"{path}: a label file must hold integers, but the IDX header says {TypeName(raw.Type)}.");
        return Tensor.Wrap(raw.ToLong(), raw.Dims);
    }

    /// <summary>Parses IDX content already in memory (gzipped or not); <paramref name="source"/> names it in error messages.</summary>
    public static Tensor Read(byte[] content, string source = "IDX data")
    {
        ArgumentNullException.ThrowIfNull(content);
        if (IsGzip(content)) content = Gunzip(new MemoryStream(content), source);
        return Read(Parse(content, source));
    }

    private static Tensor Read(RawIdx raw) => raw.Type switch
    {
        0x0D => Tensor.Wrap(raw.ToFloat(scale: false), raw.Dims),
        0x0E => Tensor.Wrap(raw.ToDouble(), raw.Dims),
        _ => Tensor.Wrap(raw.ToLong(), raw.Dims),
    };

    private static bool IsGzip(ReadOnlySpan<byte> b) => b.Length >= 2 && b[0] == 0x1F && b[1] == 0x8B;

    private static byte[] ReadAllBytes(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new DataException($"IDX file '{path}' does not exist.");
        var bytes = File.ReadAllBytes(path);
        return IsGzip(bytes) ? Gunzip(new MemoryStream(bytes), path) : bytes;
    }

    private static byte[] Gunzip(Stream compressed, string source)
    {
        // The gzip trailer's size field is not trusted: the output buffer grows with the data actually decompressed.
        try
        {
            using var gz = new GZipStream(compressed, CompressionMode.Decompress);
            using var ms = new MemoryStream();
            gz.CopyTo(ms);
            return ms.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new DataException($"{source}: the file starts like gzip but is not valid gzip data (truncated or corrupt download?): {e.Message}", e);
        }
    }

    private static int ElementSize(byte type) => type switch
    {
        0x08 or 0x09 => 1,
        0x0B => 2,
        0x0C or 0x0D => 4,
        0x0E => 8,
        _ => 0,
    };

    private static string TypeName(byte type) => type switch
    {
        0x08 => "unsigned byte (0x08)",
        0x09 => "signed byte (0x09)",
        0x0B => "int16 (0x0B)",
        0x0C => "int32 (0x0C)",
        0x0D => "float32 (0x0D)",
        0x0E => "float64 (0x0E)",
        _ => $"unknown type 0x{type:X2}",
    };

    private static RawIdx Parse(byte[] b, string source)
    {
        if (b.Length < 4)
            throw new DataException($"{source}: {b.Length} bytes is too short for an IDX file (the header alone is at least 4 bytes).");
        if (b[0] != 0 || b[1] != 0)
            throw new DataException($"{source}: not an IDX file: it should start with two zero bytes, but starts with 0x{b[0]:X2} 0x{b[1]:X2}.");
        byte type = b[2];
        int size = ElementSize(type);
        if (size == 0)
            throw new DataException($"{source}: unknown IDX element type 0x{type:X2} (expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E).");
        int ndim = b[3];
        long headerLength = 4 + 4L * ndim;
        if (b.Length < headerLength)
            throw new DataException($"{source}: the IDX header declares {ndim} dimensions ({headerLength} header bytes) but the file has only {b.Length} bytes.");
        var dims = new int[ndim];
        long available = b.Length - headerLength;
        // Int128 with saturation: the product of up to 255 dimensions is computed exactly (or known to be absurd)
        // and compared with the bytes actually present before any array is sized from it.
        Int128 count = 1;
        bool absurd = false;
        for (int d = 0; d < ndim; d++)
        {
            uint dim = BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(4 + 4 * d));
            if (dim > int.MaxValue)
                throw new DataException($"{source}: IDX dimension {d} is {dim}, which is larger than supported ({int.MaxValue}); the header is corrupt or not IDX.");
            dims[d] = (int)dim;
            count *= dim;
            if (count > ulong.MaxValue) { absurd = true; count = ulong.MaxValue; }
        }
        Int128 needed = count * size;
        if (absurd || needed != available)
        {
            string need = absurd ? "more data than any file holds" : $"{needed} bytes of data";
            throw new DataException($"{source}: the IDX header says shape {Tensor.ShapeStr(dims)} of {TypeName(type)} elements, which needs {need}, but {available} bytes follow the header. The file is truncated, corrupt, or not this format.");
        }
        return new RawIdx(type, dims, b, (int)headerLength, (int)count);
    }

    private sealed record RawIdx(byte Type, int[] Dims, byte[] Bytes, int Offset, int Count)
    {
        public float[] ToFloat(bool scale)
        {
            var r = new float[Count];
            var s = Bytes.AsSpan(Offset);
            switch (Type)
            {
                case 0x08:
                    // Divide rather than multiply by 1/255 so values match PyTorch's img.float().div(255) bit for bit.
                    if (scale) for (int i = 0; i < r.Length; i++) r[i] = s[i] / 255f;
                    else for (int i = 0; i < r.Length; i++) r[i] = s[i];
                    break;
                case 0x09: for (int i = 0; i < r.Length; i++) r[i] = (sbyte)s[i]; break;
                case 0x0B: for (int i = 0; i < r.Length; i++) r[i] = BinaryPrimitives.ReadInt16BigEndian(s[(2 * i)..]); break;
                case 0x0C: for (int i = 0; i < r.Length; i++) r[i] = BinaryPrimitives.ReadInt32BigEndian(s[(4 * i)..]); break;
                case 0x0D: for (int i = 0; i < r.Length; i++) r[i] = BinaryPrimitives.ReadSingleBigEndian(s[(4 * i)..]); break;
                default: for (int i = 0; i < r.Length; i++) r[i] = (float)BinaryPrimitives.ReadDoubleBigEndian(s[(8 * i)..]); break;
            }
            return r;
        }

        public double[] ToDouble()
        {
            var r = new double[Count];
            var s = Bytes.AsSpan(Offset);
            for (int i = 0; i < r.Length; i++) r[i] = BinaryPrimitives.ReadDoubleBigEndian(s[(8 * i)..]);
            return r;
        }

        public long[] ToLong()
        {
            var r = new long[Count];
            var s = Bytes.AsSpan(Offset);
            switch (Type)
            {
                case 0x08: for (int i = 0; i < r.Length; i++) r[i] = s[i]; break;
                case 0x09: for (int i = 0; i < r.Length; i++) r[i] = (sbyte)s[i]; break;
                case 0x0B: for (int i = 0; i < r.Length; i++) r[i] = BinaryPrimitives.ReadInt16BigEndian(s[(2 * i)..]); break;
                default: for (int i = 0; i < r.Length; i++) r[i] = BinaryPrimitives.ReadInt32BigEndian(s[(4 * i)..]); break;
            }
            return r;
        }
    }
}
