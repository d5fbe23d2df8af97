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
/// The file is streamed: the header is read first and checked against the limits (at most <see cref="Array.MaxLength"/>
/// elements, and an output that fits in the memory available) and against the stream (the plain file's length; for gzip
/// the trailer's size field and deflate's maximum ratio) before anything is allocated from it. The payload is then
/// converted in chunks straight into the output array, and a gzip stream that holds more than the header declares (a
/// "gzip bomb") is rejected as soon as the declared payload has been read. Every problem is a <see cref="DataException"/>.
/// </remarks>
public static class Idx
{
    /// <summary>
    /// Reads an IDX file with its natural element type: integer types (u8, i8, i16, i32) as int64, f32 as float32,
    /// f64 as float64, with the shape from the header.
    /// </summary>
    public static Tensor Read(string path) => FromFile(path, Want.Natural, scale: false);

    /// <summary>
    /// Reads an IDX file of images as float32 with the header's shape, e.g. (N, 28, 28). Unsigned-byte pixels are divided
    /// by 255 into [0, 1] when <paramref name="scale"/> is true (the default); other element types are converted unscaled.
    /// </summary>
    public static Tensor ReadImages(string path, bool scale = true) => FromFile(path, Want.Float, scale);

    /// <summary>
    /// Reads an IDX file of unsigned bytes (type 0x08: MNIST and Fashion-MNIST images) as a uint8 tensor with the
    /// header's shape, one byte per pixel: a quarter of <see cref="ReadImages"/>' float32. Convert per batch
    /// (<see cref="TensorDataset.FeatureDivisor"/>, or <c>x.ToFloat32() / 255</c>). Other element types are refused.
    /// </summary>
    public static Tensor ReadBytes(string path) => FromFile(path, Want.Bytes, scale: false);

    /// <summary>Reads a one-dimensional IDX file of integer class labels as int64 (N).</summary>
    public static Tensor ReadLabels(string path) => FromFile(path, Want.Labels, scale: false);

    /// <summary>Parses IDX content already in memory (gzipped or not); <paramref name="source"/> names it in error messages.</summary>
    public static Tensor Read(byte[] content, string source = "IDX data")
    {
        ArgumentNullException.ThrowIfNull(content);
        using var ms = new MemoryStream(content, writable: false);
        return Load(ms, source, Want.Natural, scale: false);
    }

    private enum Want { Natural, Float, Labels, Bytes }

    /// <summary>Deflate cannot expand data by more than about 1032:1; a declared size beyond that cannot be in the file.</summary>
    private const long MaxDeflateRatio = 1032;

    private static Tensor FromFile(string path, Want want, bool scale)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) throw new DataException($"IDX file '{path}' is a folder.");
        if (!File.Exists(path)) throw new DataException($"IDX file '{path}' does not exist.");
        // Checked before opening: opening a FIFO for reading blocks until a writer appears.
        if (Kindling.IO.FileKind.Of(path) is not Kindling.IO.FileType.Regular)
            throw new DataException($"{path}: {Kindling.IO.FileKind.NotRegular(path)}; an IDX file is read from disk.");
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            if (!fs.CanSeek) throw new DataException($"{path}: not a regular file (a pipe or device); an IDX file is read from disk.");
            return Load(fs, path, want, scale);
        }
        catch (IOException e) { throw new DataException($"{path}: could not be read: {e.Message}", e); }
    }

    private static Tensor Load(Stream raw, string source, Want want, bool scale)
    {
        long rawLength = raw.Length;
        Span<byte> magic = stackalloc byte[2];
        int got = raw.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        raw.Position = 0;
        bool gzip = got == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
        if (!gzip) return Parse(raw, source, want, scale, plainLength: rawLength, gzipSize: null, compressed: 0);
        // The gzip trailer's last 4 bytes hold the uncompressed size mod 2^32 (for a single-member file): a cheap
        // consistency check before decompressing anything.
        uint? isize = null;
        if (rawLength >= 18)
        {
            Span<byte> t = stackalloc byte[4];
            raw.Position = rawLength - 4;
            raw.ReadExactly(t);
            isize = BinaryPrimitives.ReadUInt32LittleEndian(t);
            raw.Position = 0;
        }
        try
        {
            using var gz = new GZipStream(raw, CompressionMode.Decompress, leaveOpen: true);
            return Parse(gz, source, want, scale, plainLength: null, gzipSize: isize, compressed: rawLength);
        }
        catch (InvalidDataException e)
        {
            throw new DataException($"{source}: the file starts like gzip but is not valid gzip data (truncated or corrupt download?): {e.Message}", e);
        }
    }

    private static void ReadExactly(Stream s, Span<byte> buffer, string source, string what)
    {
        int n = s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (n < buffer.Length) throw new DataException($"{source}: the data ends after {n} of the {buffer.Length} bytes of {what}; the file is truncated, corrupt, or not IDX.");
    }

    private static Tensor Parse(Stream s, string source, Want want, bool scale, long? plainLength, uint? gzipSize, long compressed)
    {
        Span<byte> b = stackalloc byte[4];
        int first = s.ReadAtLeast(b, 4, throwOnEndOfStream: false);
        if (first < 4)
            throw new DataException($"{source}: {first} bytes is too short for an IDX file (the header alone is at least 4 bytes).");
        if (b[0] != 0 || b[1] != 0)
            throw new DataException($"{source}: not an IDX file: it should start with two zero bytes, but starts with 0x{b[0]:X2} 0x{b[1]:X2}.");
        byte type = b[2];
        int size = ElementSize(type);
        if (size == 0)
            throw new DataException($"{source}: unknown IDX element type 0x{type:X2} (expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E).");
        int ndim = b[3];
        long headerLength = 4 + 4L * ndim;
        if (plainLength is long len0 && len0 < headerLength)
            throw new DataException($"{source}: the IDX header declares {ndim} dimensions ({headerLength} header bytes) but the file has only {len0} bytes.");
        var dimBytes = new byte[4 * ndim];
        ReadExactly(s, dimBytes, source, $"the {ndim}-dimension IDX header");
        var dims = new int[ndim];
        // Int128 with saturation: the product of up to 255 dimensions is computed exactly (or known to be absurd).
        Int128 count = 1;
        bool absurd = false;
        for (int d = 0; d < ndim; d++)
        {
            uint dim = BinaryPrimitives.ReadUInt32BigEndian(dimBytes.AsSpan(4 * d));
            if (dim > int.MaxValue)
                throw new DataException($"{source}: IDX dimension {d} is {dim}, which is larger than supported ({int.MaxValue}); the header is corrupt or not IDX.");
            dims[d] = (int)dim;
            count *= dim;
            if (count > ulong.MaxValue) { absurd = true; count = ulong.MaxValue; }
        }
        Int128 needed = count * size;
        string shape = $"shape {Tensor.ShapeStr(dims)} of {TypeName(type)} elements";
        if (plainLength is long len && (absurd || needed != len - headerLength))
        {
            string need = absurd ? "more data than any file holds" : $"{needed} bytes of data";
            throw new DataException($"{source}: the IDX header says {shape}, which needs {need}, but {len - headerLength} bytes follow the header. The file is truncated, corrupt, or not this format.");
        }
        if (plainLength is null)
        {
            if (absurd || needed > (Int128)compressed * MaxDeflateRatio + 1024)
                throw new DataException($"{source}: the IDX header says {shape}, {(absurd ? "more data than any file holds" : $"{needed} bytes")}, more than {compressed} gzip-compressed bytes can expand to. The file is corrupt or not this format.");
            // The trailer's size is the last member's only: a multi-member file (cat a.gz b.gz, which gzip allows) records
            // less than the whole. So the trailer refuses only more data than the header declares (a bomb); less is
            // checked as the data is read (a truncated file ends early).
            if (gzipSize is uint isz && headerLength + (long)needed < 1L << 32 && isz > headerLength + (long)needed)
                throw new DataException($"{source}: the IDX header says {shape} ({headerLength + (long)needed} bytes with the header), but the gzip trailer records {isz} bytes (mod 4 GiB) of uncompressed data. The file is corrupt, truncated, or holds more than its header declares.");
        }
        if (want == Want.Labels)
        {
            if (ndim != 1)
                throw new DataException($"{source}: a label file must have 1 dimension, but the IDX header has {ndim} ({Tensor.ShapeStr(dims)}). Is this an image file?");
            if (type is 0x0D or 0x0E)
                throw new DataException($"{source}: a label file must hold integers, but the IDX header says {TypeName(type)}.");
        }
        if (want == Want.Bytes && type != 0x08)
            throw new DataException($"{source}: ReadBytes reads unsigned-byte images (IDX type 0x08), but the header says {TypeName(type)}; use Idx.ReadImages or Idx.Read for this file.");
        var outType = want switch
        {
            Want.Float => DType.Float32, Want.Labels => DType.Int64, Want.Bytes => DType.UInt8,
            _ => type switch { 0x0D => DType.Float32, 0x0E => DType.Float64, _ => DType.Int64 },
        };
        int outSize = outType switch { DType.Float32 => 4, DType.UInt8 => 1, _ => 8 };
        if (count > Array.MaxLength)
            throw new DataException($"{source}: the IDX header says {shape} = {count} elements, more than one tensor holds ({Array.MaxLength}).");
        long outBytes = (long)count * outSize;
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (outBytes > available * 0.8)
            throw new DataException($"{source}: the IDX header says {shape}, {outBytes / 1e9:F1} GB as {Tensor.DTypeName(outType)}, but only {available / 1e9:F1} GB of memory is available.");
        int n = (int)count;
        Array result = outType switch { DType.Float32 => new float[n], DType.Float64 => new double[n], DType.UInt8 => new byte[n], _ => new long[n] };
        // Stream the payload in chunks of whole elements, converting as it comes: the raw bytes are never held whole.
        var chunk = new byte[Math.Max(size, (1 << 16) / size * size)];
        long done = 0;
        while (done < n)
        {
            int take = (int)Math.Min(chunk.Length / size, n - done);
            int read = s.ReadAtLeast(chunk.AsSpan(0, take * size), take * size, throwOnEndOfStream: false);
            if (read < take * size)
                throw new DataException($"{source}: the IDX header says {shape} ({needed} bytes of data), but the data ends after {done * size + read} bytes. The file is truncated.");
            Convert(chunk.AsSpan(0, take * size), type, result, (int)done, take, scale && want == Want.Float);
            done += take;
        }
        if (plainLength is null && s.ReadByte() >= 0)
            throw new DataException($"{source}: the gzip data holds more than the {needed} bytes its IDX header declares ({shape}); the file is corrupt or not this format.");
        return result switch
        {
            float[] f => Tensor.Wrap(f, dims),
            double[] d => Tensor.Wrap(d, dims),
            long[] l => Tensor.Wrap(l, dims),
            byte[] u => Tensor.Wrap(u, dims),
            _ => throw new InvalidOperationException(),
        };
    }

    private static void Convert(ReadOnlySpan<byte> s, byte type, Array result, int at, int count, bool scale)
    {
        switch (result)
        {
            case byte[] r:
                s[..count].CopyTo(r.AsSpan(at, count));
                break;
            case float[] r:
                switch (type)
                {
                    case 0x08:
                        // Divide rather than multiply by 1/255 so values match PyTorch's img.float().div(255) bit for bit.
                        if (scale) for (int i = 0; i < count; i++) r[at + i] = s[i] / 255f;
                        else for (int i = 0; i < count; i++) r[at + i] = s[i];
                        break;
                    case 0x09: for (int i = 0; i < count; i++) r[at + i] = (sbyte)s[i]; break;
                    case 0x0B: for (int i = 0; i < count; i++) r[at + i] = BinaryPrimitives.ReadInt16BigEndian(s[(2 * i)..]); break;
                    case 0x0C: for (int i = 0; i < count; i++) r[at + i] = BinaryPrimitives.ReadInt32BigEndian(s[(4 * i)..]); break;
                    case 0x0D: for (int i = 0; i < count; i++) r[at + i] = BinaryPrimitives.ReadSingleBigEndian(s[(4 * i)..]); break;
                    default: for (int i = 0; i < count; i++) r[at + i] = (float)BinaryPrimitives.ReadDoubleBigEndian(s[(8 * i)..]); break;
                }
                break;
            case double[] r:
                for (int i = 0; i < count; i++) r[at + i] = BinaryPrimitives.ReadDoubleBigEndian(s[(8 * i)..]);
                break;
            case long[] r:
                switch (type)
                {
                    case 0x08: for (int i = 0; i < count; i++) r[at + i] = s[i]; break;
                    case 0x09: for (int i = 0; i < count; i++) r[at + i] = (sbyte)s[i]; break;
                    case 0x0B: for (int i = 0; i < count; i++) r[at + i] = BinaryPrimitives.ReadInt16BigEndian(s[(2 * i)..]); break;
                    default: for (int i = 0; i < count; i++) r[at + i] = BinaryPrimitives.ReadInt32BigEndian(s[(4 * i)..]); break;
                }
                break;
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
}
