using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using Kindling.NN;

namespace Kindling.IO;

/// <summary>
/// A safetensors file or buffer broke one of the format's rules. The message names the file (or buffer), the tensor
/// when one is involved, and the rule that was broken.
/// </summary>
public sealed class SafetensorsException : FormatException
{
    /// <summary>Creates the exception with a message naming the file, the tensor and the broken rule.</summary>
    public SafetensorsException(string message) : base(message) { }

    /// <summary>Creates the exception wrapping the lower-level error that revealed the problem.</summary>
    public SafetensorsException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The contents of a safetensors file: its tensors (in header order) and its free-form metadata.</summary>
public sealed class SafetensorsFile
{
    internal SafetensorsFile(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata,
        IReadOnlyDictionary<string, string> storedDTypes)
    {
        Tensors = tensors;
        Metadata = metadata;
        StoredDTypes = storedDTypes;
    }

    /// <summary>The tensors by name, already converted to Kindling types (see <see cref="Safetensors"/> for the mapping).</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors { get; }

    /// <summary>The <c>__metadata__</c> string map; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The dtype each tensor had in the file (<c>"F16"</c>, <c>"I32"</c>, ...), before conversion.</summary>
    public IReadOnlyDictionary<string, string> StoredDTypes { get; }
}

/// <summary>
/// Reads and writes the Hugging Face safetensors format, the portable way to exchange weights with PyTorch
/// (<c>safetensors.torch.save_file</c> / <c>load_file</c>).
/// <para>
/// Layout: an 8-byte little-endian unsigned header length N, then N bytes of UTF-8 JSON (an object mapping each tensor
/// name to <c>{"dtype", "shape", "data_offsets": [begin, end]}</c>, plus an optional <c>"__metadata__"</c> object of
/// strings), then the data buffer. Offsets are relative to the buffer; data is little-endian and row-major.
/// </para>
/// <para>
/// Writing: float32 → <c>F32</c>, float64 → <c>F64</c>, int64 → <c>I64</c>, uint8 → <c>U8</c>, bool → <c>BOOL</c>; the header is padded
/// with spaces so the buffer starts 8-byte aligned, and tensors are laid out by decreasing element size then by name,
/// as the reference writer does. Reading: <c>F32</c>, <c>F16</c> and <c>BF16</c> → float32 (exactly);
/// <c>F64</c> → float64; <c>U8</c> → uint8 (as stored: image bytes stay 1 byte each); <c>I64</c>, <c>I32</c>,
/// <c>I16</c>, <c>I8</c>, <c>U32</c>, <c>U16</c> → int64; <c>BOOL</c> → bool.
/// </para>
/// <para>
/// Reading is strict; each of these throws <see cref="SafetensorsException"/>: a file shorter than 8 bytes; a header
/// length above <see cref="MaxHeaderSize"/> or beyond the end of the file; a header that is not UTF-8, not a single
/// JSON object, or that repeats a key; a tensor entry with a missing, unknown or repeated field, an unsupported dtype,
/// a shape entry or offset that is not a non-negative integer, <c>begin &gt; end</c>, a byte length other than element
/// count × dtype size, or more than <see cref="int.MaxValue"/> elements (Kindling tensors are int-indexed); tensors
/// that overlap, leave a hole, do not start at 0, or do not end exactly at the end of the file; a non-string metadata
/// value; a <c>BOOL</c> byte other than 0 or 1. Every header number is checked before anything is allocated from it.
/// </para>
/// </summary>
public static class Safetensors
{
    /// <summary>Largest accepted header, in bytes: the reference implementation's limit (100 MB).</summary>
    public const long MaxHeaderSize = 100_000_000;

    private const string MetadataKey = "__metadata__";
    private const int ChunkBytes = 1 << 20;

    // ================================================================ dtypes

    private enum StType { F64, F32, F16, BF16, I64, I32, I16, I8, U32, U16, U8, Bool }

    private static int SizeOf(StType t) => t switch
    {
        StType.F64 or StType.I64 => 8,
        StType.F32 or StType.I32 or StType.U32 => 4,
        StType.F16 or StType.BF16 or StType.I16 or StType.U16 => 2,
        _ => 1,
    };

    private static DType KindlingType(StType t) => t switch
    {
        StType.F64 => DType.Float64,
        StType.F32 or StType.F16 or StType.BF16 => DType.Float32,
        StType.Bool => DType.Bool,
        StType.U8 => DType.UInt8,
        _ => DType.Int64,
    };

    private static string Name(StType t) => t == StType.Bool ? "BOOL" : t.ToString();

    private static readonly Dictionary<string, StType> ByName =
        Enum.GetValues<StType>().ToDictionary(Name, t => t, StringComparer.Ordinal);

    private static StType ForWriting(DType d) => d switch
    {
        DType.Float32 => StType.F32,
        DType.Float64 => StType.F64,
        DType.Int64 => StType.I64,
        DType.UInt8 => StType.U8,
        _ => StType.Bool,
    };

    private sealed record Entry(string Name, StType Type, int[] Shape, int Count, long Begin, long End);

    // ================================================================ writing

    /// <summary>
    /// Writes <paramref name="tensors"/> (and optional string <paramref name="metadata"/>) to <paramref name="path"/>
    /// atomically: the data goes to <c>path + ".tmp"</c>, is flushed to disk, then renamed over <paramref name="path"/>,
    /// so a crash leaves either the old file or the complete new one, never a partial file.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor is null or named <c>__metadata__</c>.</exception>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var plan = Plan(tensors, metadata); // argument errors surface before the temp file exists
        string tmp = path + ".tmp";
        try
        {
            // Reserving the whole size first (posix_fallocate) makes a full disk fail here, before any data is written.
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 16, PreallocationSize = 8L + plan.Header.Length + plan.DataLength };
            using (var fs = new FileStream(tmp, options))
            {
                WritePlan(fs, plan);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Writes the safetensors encoding of <paramref name="tensors"/> to <paramref name="stream"/> at its current position.</summary>
    /// <exception cref="ArgumentException">A tensor is null or named <c>__metadata__</c>.</exception>
    public static void Write(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        WritePlan(stream, Plan(tensors, metadata));
    }

    /// <summary>The safetensors encoding of <paramref name="tensors"/> as a byte array (for files under 2 GB).</summary>
    /// <exception cref="ArgumentException">A tensor is null or named <c>__metadata__</c>, or the result would exceed the largest byte array.</exception>
    public static byte[] Serialize(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var plan = Plan(tensors, metadata);
        long total = 8L + plan.Header.Length + plan.DataLength;
        if (total > Array.MaxLength)
            throw new ArgumentException($"Safetensors.Serialize: the encoding needs {total} bytes, more than a byte array holds; use Save or Write with a stream.");
        var ms = new MemoryStream((int)total);
        WritePlan(ms, plan);
        return ms.GetBuffer().Length == total ? ms.GetBuffer() : ms.ToArray();
    }

    /// <summary>Saves <paramref name="module"/>'s <see cref="Module.StateDict"/> with <see cref="Save"/>; PyTorch reads it with <c>load_state_dict</c>.</summary>
    public static void SaveModule(string path, Module module, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        Save(path, module.StateDict(), metadata);
    }

    private sealed record Plan_(byte[] Header, List<(string Name, Tensor T, StType Type)> Items, long DataLength);

    private static Plan_ Plan(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var items = new List<(string Name, Tensor T, StType Type)>(tensors.Count);
        foreach (var (name, t) in tensors)
        {
            if (name == MetadataKey)
                throw new ArgumentException($"Safetensors: \"{MetadataKey}\" is reserved for the metadata map and cannot name a tensor.", nameof(tensors));
            if (t is null) throw new ArgumentException($"Safetensors: tensor '{name}' is null.", nameof(tensors));
            if (!IsValidUtf16(name))
                throw new ArgumentException($"Safetensors: tensor name '{Escape(name)}' contains a lone UTF-16 surrogate, which UTF-8 (and so the safetensors header) cannot hold; it would be silently replaced by U+FFFD.", nameof(tensors));
            items.Add((name, t.Detach().Contiguous(), ForWriting(t.DType)));
        }
        // Larger elements first keeps every tensor aligned to its element size (the reference writer's order).
        items.Sort((a, b) =>
        {
            int c = SizeOf(b.Type).CompareTo(SizeOf(a.Type));
            return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
        });

        var json = new ArrayBufferWriter<byte>();
        // Relaxed escaping keeps non-ASCII names readable; the header is never embedded in HTML.
        using (var w = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject(MetadataKey);
                foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    if (v is null) throw new ArgumentException($"Safetensors: metadata value for '{k}' is null; safetensors metadata values must be strings.", nameof(metadata));
                    if (!IsValidUtf16(k) || !IsValidUtf16(v))
                        throw new ArgumentException($"Safetensors: metadata entry '{Escape(k)}' contains a lone UTF-16 surrogate, which UTF-8 cannot hold.", nameof(metadata));
                    w.WriteString(k, v);
                }
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, t, type) in items)
            {
                long end = offset + (long)t.NumEl * SizeOf(type);
                w.WriteStartObject(name);
                w.WriteString("dtype", Name(type));
                w.WriteStartArray("shape");
                foreach (int d in t.Dims) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(end);
                w.WriteEndArray();
                w.WriteEndObject();
                offset = end;
            }
            w.WriteEndObject();
            w.Flush();
            var header = new byte[(json.WrittenCount + 7) / 8 * 8];
            json.WrittenSpan.CopyTo(header);
            header.AsSpan(json.WrittenCount).Fill((byte)' '); // pad so the data buffer starts 8-byte aligned
            return new Plan_(header, items, offset);
        }
    }

    private static bool IsValidUtf16(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { i++; continue; }
            if (char.IsSurrogate(s[i])) return false;
        }
        return true;
    }

    private static string Escape(string s) => string.Concat(s.Select(c => char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString()));

        private static void WritePlan(Stream s, Plan_ plan)
    {
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)plan.Header.Length);
        s.Write(prefix);
        s.Write(plan.Header);
        byte[] scratch = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            foreach (var (_, t, type) in plan.Items)
            {
                int size = SizeOf(type), per = ChunkBytes / size;
                for (int at = 0; at < t.NumEl; at += per)
                {
                    int n = Math.Min(per, t.NumEl - at);
                    var dst = scratch.AsSpan(0, n * size);
                    switch (type)
                    {
                        case StType.F32:
                            if (BitConverter.IsLittleEndian) { s.Write(MemoryMarshal.AsBytes(t.F32Span.Slice(at, n))); continue; }
                            for (int i = 0; i < n; i++) BinaryPrimitives.WriteSingleLittleEndian(dst[(4 * i)..], t.F32Span[at + i]);
                            break;
                        case StType.F64:
                            if (BitConverter.IsLittleEndian) { s.Write(MemoryMarshal.AsBytes(t.F64Span.Slice(at, n))); continue; }
                            for (int i = 0; i < n; i++) BinaryPrimitives.WriteDoubleLittleEndian(dst[(8 * i)..], t.F64Span[at + i]);
                            break;
                        case StType.I64:
                            if (BitConverter.IsLittleEndian) { s.Write(MemoryMarshal.AsBytes(t.I64Span.Slice(at, n))); continue; }
                            for (int i = 0; i < n; i++) BinaryPrimitives.WriteInt64LittleEndian(dst[(8 * i)..], t.I64Span[at + i]);
                            break;
                        case StType.U8: s.Write(t.Span<byte>().Slice(at, n)); continue;
                        default:
                        {
                            var src = t.BoolSpan.Slice(at, n);
                            for (int i = 0; i < n; i++) dst[i] = src[i] ? (byte)1 : (byte)0;
                            break;
                        }
                    }
                    s.Write(dst);
                }
            }
        }
        finally { ArrayPool<byte>.Shared.Return(scratch); }
    }

    // ================================================================ reading

    /// <summary>Reads every tensor and the metadata of the safetensors file at <paramref name="path"/>.</summary>
    /// <exception cref="SafetensorsException">The file breaks a format rule (see <see cref="Safetensors"/>).</exception>
    public static SafetensorsFile Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Read(fs, path, only: null);
    }

    /// <summary>
    /// Reads a safetensors encoding from <paramref name="stream"/>, from its current position to its end.
    /// <paramref name="source"/> names the stream in error messages.
    /// </summary>
    /// <exception cref="SafetensorsException">The data breaks a format rule (see <see cref="Safetensors"/>).</exception>
    public static SafetensorsFile Load(Stream stream, string source = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream.CanSeek) return Read(stream, source, only: null);
        // Lengths must be known before the header numbers can be trusted, so buffer what the stream really holds.
        var ms = new MemoryStream();
        stream.CopyTo(ms);
        ms.Position = 0;
        return Read(ms, source, only: null);
    }

    /// <summary>Reads one tensor of the file at <paramref name="path"/>, skipping the others' data (the whole header is still validated).</summary>
    /// <exception cref="SafetensorsException">The file breaks a format rule.</exception>
    /// <exception cref="KeyNotFoundException">The file has no tensor named <paramref name="name"/>.</exception>
    public static Tensor LoadTensor(string path, string name)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(name);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Read(fs, path, only: name).Tensors[name];
    }

    /// <summary>Decodes a safetensors encoding held in memory (e.g. from <see cref="Serialize"/>).</summary>
    /// <exception cref="SafetensorsException">The bytes break a format rule (see <see cref="Safetensors"/>).</exception>
    public static SafetensorsFile Deserialize(ReadOnlySpan<byte> bytes, string source = "buffer")
    {
        var (header, dataStart) = SplitHeader(bytes.Length, bytes, source);
        var (entries, meta) = ParseHeader(bytes.Slice(8, header), bytes.Length - dataStart, source);
        var data = bytes[dataStart..];
        var arrays = new Array[entries.Count];
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            arrays[i] = NewArray(e);
            Decode(e, data.Slice((int)e.Begin, (int)(e.End - e.Begin)), arrays[i], 0, source);
        }
        return Build(entries, arrays, meta);
    }

    /// <summary>
    /// Loads the file's tensors into <paramref name="module"/> with <see cref="Module.LoadStateDict"/>, converting each
    /// to its parameter's type. The file is fully read and checked first, so on any error the module is unchanged.
    /// </summary>
    /// <exception cref="SafetensorsException">The file breaks a format rule.</exception>
    /// <exception cref="ArgumentException">Names or shapes do not match the module (with <paramref name="strict"/>, missing or extra names too).</exception>
    public static void LoadModule(string path, Module module, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        var file = Load(path);
        try { module.LoadStateDict(file.Tensors, strict); }
        catch (ArgumentException e) { throw new ArgumentException($"Safetensors.LoadModule('{path}'): {e.Message}", e); }
    }

    private static SafetensorsException Err(string source, string message) => new($"safetensors '{source}': {message}");

    /// <summary>Validates the length prefix against the real length; returns the header length and where the data starts.</summary>
    private static (int Header, int DataStart) SplitHeader(long total, ReadOnlySpan<byte> prefix, string source)
    {
        if (total < 8)
            throw Err(source, $"it is {total} bytes long, shorter than the 8-byte header-length prefix (truncated or not a safetensors file).");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderSize)
            throw Err(source, $"the header length prefix says {n} bytes, above the {MaxHeaderSize}-byte limit (corrupt or not a safetensors file).");
        if (n > (ulong)(total - 8))
            throw Err(source, $"the header length prefix says {n} bytes but only {total - 8} bytes follow it (truncated file).");
        return ((int)n, 8 + (int)n);
    }

    private static SafetensorsFile Read(Stream s, string source, string? only)
    {
        long start = s.Position, total = s.Length - start;
        Span<byte> prefix = stackalloc byte[8];
        if (total >= 8) ReadExactly(s, prefix, source);
        var (headerLen, dataStart) = SplitHeader(total, prefix, source);
        var header = new byte[headerLen]; // bounded by MaxHeaderSize and by the real length
        ReadExactly(s, header, source);
        var (entries, meta) = ParseHeader(header, total - dataStart, source);
        CheckMemory(entries, only, source);
        if (only != null && !entries.Any(e => e.Name == only))
            throw new KeyNotFoundException($"safetensors '{source}': no tensor named '{only}'; it has "
                + (entries.Count == 0 ? "no tensors." : string.Join(", ", entries.Take(20).Select(e => $"'{e.Name}'")) + (entries.Count > 20 ? ", ..." : "") + "."));

        var arrays = new Array?[entries.Count];
        byte[] buf = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            // Decode in file order so a plain sequential read suffices.
            foreach (int i in Enumerable.Range(0, entries.Count).OrderBy(i => entries[i].Begin))
            {
                var e = entries[i];
                if (only != null && e.Name != only) continue;
                var arr = NewArray(e); // size already checked against the real file length
                long pos = start + dataStart + e.Begin;
                if (s.Position != pos) s.Position = pos;
                int size = SizeOf(e.Type), per = ChunkBytes / size;
                for (int at = 0; at < e.Count; at += per)
                {
                    int n = Math.Min(per, e.Count - at);
                    var chunk = buf.AsSpan(0, n * size);
                    ReadExactly(s, chunk, source);
                    Decode(e, chunk, arr, at, source);
                }
                arrays[i] = arr;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buf); }
        if (only != null)
        {
            int k = entries.FindIndex(e => e.Name == only);
            return Build([entries[k]], [arrays[k]!], meta);
        }
        return Build(entries, arrays!, meta);
    }

    /// <summary>
    /// Refuses a file whose decoded tensors cannot fit in memory before allocating any of them. U8 stays one byte per
    /// element; Kindling has no other 8- to 32-bit integer dtypes, so I8/I16/U16/I32/U32 widen to int64 and F16/BF16 to
    /// float32: the check is on the decoded size, which the message states.
    /// </summary>
    private static void CheckMemory(List<Entry> entries, string? only, string source)
    {
        long decoded = 0;
        foreach (var e in entries)
            if (only == null || e.Name == only)
                decoded += (long)e.Count * (KindlingType(e.Type) switch { DType.Float32 => 4, DType.Bool or DType.UInt8 => 1, _ => 8 });
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (decoded > available * 0.8)
            throw Err(source, $"the tensors need {decoded / 1e9:F1} GB once decoded (narrow integer types widen to int64), but only {available / 1e9:F1} GB of memory is available.");
    }

    private static void ReadExactly(Stream s, Span<byte> dst, string source)
    {
        try { s.ReadExactly(dst); }
        catch (EndOfStreamException e) { throw new SafetensorsException($"safetensors '{source}': the file ended early while reading (was it modified during the load?).", e); }
    }

    private static SafetensorsFile Build(List<Entry> entries, Array[] arrays, Dictionary<string, string> meta)
    {
        var tensors = new Dictionary<string, Tensor>(entries.Count, StringComparer.Ordinal);
        var types = new Dictionary<string, string>(entries.Count, StringComparer.Ordinal);
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            tensors[e.Name] = new Tensor(arrays[i], e.Shape, KindlingType(e.Type));
            types[e.Name] = Name(e.Type);
        }
        return new SafetensorsFile(tensors, meta, types);
    }

    private static Array NewArray(Entry e) => KindlingType(e.Type) switch
    {
        DType.Float32 => new float[e.Count],
        DType.Float64 => new double[e.Count],
        DType.Int64 => new long[e.Count],
        DType.UInt8 => new byte[e.Count],
        _ => new bool[e.Count],
    };

    /// <summary>Converts <paramref name="src"/> (whole elements of <paramref name="e"/>'s file type) into <paramref name="dst"/> from index <paramref name="at"/>.</summary>
    private static void Decode(Entry e, ReadOnlySpan<byte> src, Array dst, int at, string source)
    {
        int n = src.Length / SizeOf(e.Type);
        switch (e.Type)
        {
            case StType.F32:
            {
                var d = ((float[])dst).AsSpan(at, n);
                if (BitConverter.IsLittleEndian) src.CopyTo(MemoryMarshal.AsBytes(d));
                else for (int i = 0; i < n; i++) d[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(4 * i)..]);
                break;
            }
            case StType.F64:
            {
                var d = ((double[])dst).AsSpan(at, n);
                if (BitConverter.IsLittleEndian) src.CopyTo(MemoryMarshal.AsBytes(d));
                else for (int i = 0; i < n; i++) d[i] = BinaryPrimitives.ReadDoubleLittleEndian(src[(8 * i)..]);
                break;
            }
            case StType.I64:
            {
                var d = ((long[])dst).AsSpan(at, n);
                if (BitConverter.IsLittleEndian) src.CopyTo(MemoryMarshal.AsBytes(d));
                else for (int i = 0; i < n; i++) d[i] = BinaryPrimitives.ReadInt64LittleEndian(src[(8 * i)..]);
                break;
            }
            case StType.F16:
            {
                var d = ((float[])dst).AsSpan(at, n);
                for (int i = 0; i < n; i++) d[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]));
                break;
            }
            case StType.BF16:
            {
                // bfloat16 is the top half of a float32, so widening is exact.
                var d = ((float[])dst).AsSpan(at, n);
                for (int i = 0; i < n; i++) d[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]) << 16);
                break;
            }
            case StType.I32:
            {
                var d = ((long[])dst).AsSpan(at, n);
                for (int i = 0; i < n; i++) d[i] = BinaryPrimitives.ReadInt32LittleEndian(src[(4 * i)..]);
                break;
            }
            case StType.U32:
            {
                var d = ((long[])dst).AsSpan(at, n);
                for (int i = 0; i < n; i++) d[i] = BinaryPrimitives.ReadUInt32LittleEndian(src[(4 * i)..]);
                break;
            }
            case StType.I16:
            {
                var d = ((long[])dst).AsSpan(at, n);
                for (int i = 0; i < n; i++) d[i] = BinaryPrimitives.ReadInt16LittleEndian(src[(2 * i)..]);
                break;
            }
            case StType.U16:
            {
                var d = ((long[])dst).AsSpan(at, n);
                for (int i = 0; i < n; i++) d[i] = BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]);
                break;
            }
            case StType.I8:
            {
                var d = ((long[])dst).AsSpan(at, n);
                for (int i = 0; i < n; i++) d[i] = (sbyte)src[i];
                break;
            }
            case StType.U8:
                src.CopyTo(((byte[])dst).AsSpan(at, n));
                break;
            default:
            {
                var d = ((bool[])dst).AsSpan(at, n);
                for (int i = 0; i < n; i++)
                {
                    // Any other byte would be a bool that is neither true nor false in .NET and undefined in PyTorch.
                    if (src[i] > 1)
                        throw Err(source, $"tensor '{e.Name}': BOOL element {at + i} is byte {src[i]}; BOOL bytes must be 0 or 1.");
                    d[i] = src[i] != 0;
                }
                break;
            }
        }
    }

    // ================================================================ header

    private static (List<Entry> Entries, Dictionary<string, string> Metadata) ParseHeader(ReadOnlySpan<byte> header, long bufferLength, string source)
    {
        if (!Utf8.IsValid(header))
            throw Err(source, "the header is not valid UTF-8.");
        var entries = new List<Entry>();
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(header, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw Err(source, $"the header must be a JSON object, but it starts with {Describe(reader)}.");
            // JsonDocument would silently keep the last of two equal keys; a duplicate tensor name is ambiguous, so reject it.
            var keys = new HashSet<string>(StringComparer.Ordinal);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string key = reader.GetString()!;
                if (!keys.Add(key)) throw Err(source, $"the header repeats the key \"{key}\"; every tensor name (and __metadata__) must appear once.");
                reader.Read();
                if (key == MetadataKey) ParseMetadata(ref reader, meta, source);
                else entries.Add(ParseEntry(ref reader, key, source));
            }
            // The root object has closed; anything but whitespace (the reference's padding) after it is an error.
            if (reader.Read())
                throw Err(source, $"the header has {Describe(reader)} after its JSON object; only space padding may follow.");
        }
        catch (JsonException e)
        {
            throw new SafetensorsException($"safetensors '{source}': the header is not valid JSON ({e.Message}).", e);
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader.GetString refuses escapes that decode to invalid UTF-16 (a lone surrogate such as "\ud800").
            throw new SafetensorsException($"safetensors '{source}': the header has a string that is not valid Unicode (a lone surrogate escape such as \\ud800): {e.Message}", e);
        }
        CheckLayout(entries, bufferLength, source);
        return (entries, meta);
    }

    private static string Describe(Utf8JsonReader r) => r.TokenType switch
    {
        JsonTokenType.None => "nothing",
        JsonTokenType.String => $"the string \"{r.GetString()}\"",
        JsonTokenType.Number => $"the number {Encoding.UTF8.GetString(r.ValueSpan)}",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.True or JsonTokenType.False => r.TokenType.ToString().ToLowerInvariant(),
        JsonTokenType.Null => "null",
        _ => r.TokenType.ToString(),
    };

    private static void ParseMetadata(ref Utf8JsonReader r, Dictionary<string, string> meta, string source)
    {
        if (r.TokenType != JsonTokenType.StartObject)
            throw Err(source, $"\"{MetadataKey}\" must be an object of string values, got {Describe(r)}.");
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            string k = r.GetString()!;
            r.Read();
            if (r.TokenType != JsonTokenType.String)
                throw Err(source, $"\"{MetadataKey}\" value for \"{k}\" must be a string, got {Describe(r)}.");
            if (!meta.TryAdd(k, r.GetString()!))
                throw Err(source, $"\"{MetadataKey}\" repeats the key \"{k}\".");
        }
    }

    private static Entry ParseEntry(ref Utf8JsonReader r, string name, string source)
    {
        string where = $"tensor '{name}'";
        if (r.TokenType != JsonTokenType.StartObject)
            throw Err(source, $"{where}: expected an object with \"dtype\", \"shape\" and \"data_offsets\", got {Describe(r)}.");
        string? dtype = null;
        List<ulong>? shape = null, offsets = null;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            string field = r.GetString()!;
            r.Read();
            switch (field)
            {
                case "dtype" when dtype is null:
                    if (r.TokenType != JsonTokenType.String) throw Err(source, $"{where}: \"dtype\" must be a string, got {Describe(r)}.");
                    dtype = r.GetString()!;
                    break;
                case "shape" when shape is null:
                    shape = ReadUInts(ref r, source, where, "shape");
                    break;
                case "data_offsets" when offsets is null:
                    offsets = ReadUInts(ref r, source, where, "data_offsets");
                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw Err(source, $"{where}: the field \"{field}\" appears twice.");
                default:
                    throw Err(source, $"{where}: unknown field \"{field}\" (expected only \"dtype\", \"shape\", \"data_offsets\").");
            }
        }
        if (dtype is null) throw Err(source, $"{where}: missing \"dtype\".");
        if (shape is null) throw Err(source, $"{where}: missing \"shape\".");
        if (offsets is null) throw Err(source, $"{where}: missing \"data_offsets\".");
        if (!ByName.TryGetValue(dtype, out var type))
            throw Err(source, $"{where}: unsupported dtype \"{dtype}\"; Kindling reads {string.Join(", ", ByName.Keys)}.");
        if (offsets.Count != 2)
            throw Err(source, $"{where}: \"data_offsets\" must be exactly [begin, end], got {offsets.Count} numbers.");
        ulong begin = offsets[0], end = offsets[1];
        if (begin > end)
            throw Err(source, $"{where}: data_offsets [{begin}, {end}] has begin > end.");

        ulong count = 1;
        foreach (ulong d in shape)
        {
            // Checked arithmetic: a crafted shape must not wrap around to a small, plausible count.
            try { count = checked(count * d); }
            catch (OverflowException)
            {
                throw Err(source, $"{where}: the element count of shape [{string.Join(", ", shape)}] overflows 64 bits.");
            }
        }
        if (count > (ulong)Array.MaxLength)
            throw Err(source, $"{where}: shape [{string.Join(", ", shape)}] has {count} elements; Kindling tensors hold at most {Array.MaxLength} (the largest .NET array).");
        foreach (ulong d in shape)
            if (d > int.MaxValue)
                throw Err(source, $"{where}: dimension {d} in shape [{string.Join(", ", shape)}] exceeds {int.MaxValue}, the largest Kindling dimension.");
        ulong bytes = count * (ulong)SizeOf(type); // ≤ int.MaxValue * 8: cannot overflow
        if (end - begin != bytes)
            throw Err(source, $"{where}: dtype {dtype} with shape [{string.Join(", ", shape)}] needs {bytes} bytes ({count} × {SizeOf(type)}), but data_offsets [{begin}, {end}] span {end - begin}.");
        // begin/end may still be huge here; CheckLayout bounds them by the real buffer length before any use.
        if (end > long.MaxValue)
            throw Err(source, $"{where}: data_offsets [{begin}, {end}] lie beyond any possible file.");
        return new Entry(name, type, shape.Select(d => (int)d).ToArray(), (int)count, (long)begin, (long)end);
    }

    private static List<ulong> ReadUInts(ref Utf8JsonReader r, string source, string where, string field)
    {
        if (r.TokenType != JsonTokenType.StartArray)
            throw Err(source, $"{where}: \"{field}\" must be an array of non-negative integers, got {Describe(r)}.");
        var list = new List<ulong>();
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            if (r.TokenType != JsonTokenType.Number)
                throw Err(source, $"{where}: \"{field}\" entries must be non-negative integers, got {Describe(r)}.");
            if (!r.TryGetUInt64(out ulong v))
            {
                string raw = Encoding.UTF8.GetString(r.ValueSpan);
                string why = raw.StartsWith('-') ? "is negative"
                    : raw.AsSpan().IndexOfAny(".eE") >= 0 ? "is not an integer"
                    : "does not fit in 64 bits";
                throw Err(source, $"{where}: \"{field}\" entry {raw} {why}; entries must be non-negative integers.");
            }
            list.Add(v);
        }
        return list;
    }

    /// <summary>Tensors must tile the buffer exactly: sorted by offset, each starts where the previous ended, the first at 0, the last at the end.</summary>
    private static void CheckLayout(List<Entry> entries, long bufferLength, string source)
    {
        var sorted = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        long expected = 0;
        string? prev = null;
        foreach (var e in sorted)
        {
            if (e.Begin < expected)
                throw Err(source, $"tensor '{e.Name}' (bytes {e.Begin}..{e.End}) overlaps tensor '{prev}' (which ends at {expected}); tensors must not overlap.");
            if (e.Begin > expected)
                throw Err(source, prev is null
                    ? $"tensor '{e.Name}' starts at byte {e.Begin}, but the first tensor must start at 0 (hole of {e.Begin} bytes)."
                    : $"there is a hole of {e.Begin - expected} bytes between tensor '{prev}' (ends at {expected}) and tensor '{e.Name}' (starts at {e.Begin}); tensors must be contiguous.");
            if (e.End > bufferLength)
                throw Err(source, $"tensor '{e.Name}' ends at byte {e.End} of the data buffer, but the buffer has only {bufferLength} bytes (truncated file).");
            expected = e.End;
            prev = e.Name;
        }
        if (expected != bufferLength)
            throw Err(source, $"the tensors end at byte {expected} of the data buffer but it has {bufferLength} bytes: {bufferLength - expected} trailing bytes belong to no tensor.");
    }
}
