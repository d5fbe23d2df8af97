using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using Kindling.IO.Torch;
using Kindling.NN;

namespace Kindling.IO;

/// <summary>
/// Reads state dicts written by PyTorch's <c>torch.save(model.state_dict(), path)</c> (the zip format, PyTorch ≥ 1.6's
/// default), without Python and without running any pickle code.
/// <para>
/// The file is a zip holding <c>&lt;name&gt;/data.pkl</c> (a pickle describing the dict) and one raw little-endian
/// record per storage in <c>&lt;name&gt;/data/&lt;key&gt;</c>. The pickle is read by a strict interpreter that knows only
/// the opcodes a state dict uses and only the globals <c>torch._utils._rebuild_tensor_v2</c>,
/// <c>torch._utils._rebuild_parameter</c>, <c>collections.OrderedDict</c> and the <c>torch.*Storage</c> types;
/// anything else (<c>posix.system</c>, a model class, an unknown opcode) is refused with an error naming it.
/// </para>
/// <para>
/// Types: float32, float64, int64 and bool storages load as they are; float16 and bfloat16 become float32 (exactly);
/// int32, int16, int8 and uint8 become int64. Views are honoured (storage offset and strides, several tensors sharing
/// one storage); every tensor is returned as its own contiguous copy. Nested dicts (a checkpoint such as
/// <c>{"model": state_dict, "epoch": 3}</c>) are flattened with dots (<c>model.fc.weight</c>); their non-tensor
/// values (numbers, strings, None) are skipped.
/// </para>
/// <para>
/// The legacy format (before PyTorch 1.6, or <c>_use_new_zipfile_serialization=False</c>) and TorchScript archives
/// (<c>torch.jit.save</c>) are refused with a message saying how to re-save the file.
/// </para>
/// </summary>
public static class TorchSave
{
    /// <summary>Largest accepted data.pkl, in bytes (a state dict's pickle is about 200 bytes per tensor).</summary>
    public const long MaxPickleSize = 256L << 20;

    private const int MaxNesting = 32;

    /// <summary>Largest accepted ratio of a storage record's size to its compressed size (above 64 MB).</summary>
    private const long MaxInflation = 100;

    /// <summary>Reads the state dict in <paramref name="path"/>: names (in the file's order) → tensors.</summary>
    /// <exception cref="TorchSaveException">The file is damaged, in another format, or its pickle asks for anything a state dict does not need.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Load(fs, path);
    }

    /// <summary>Reads a state dict from a seekable <paramref name="stream"/>; <paramref name="source"/> names it in errors.</summary>
    public static Dictionary<string, Tensor> Load(Stream stream, string source = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> head = stackalloc byte[4];
        long start = stream.Position;
        int got = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        stream.Position = start;
        if (got == 4 && head[0] == 0x80 && head[1] <= 5)
            throw Err(source, "this is the legacy torch.save format (PyTorch before 1.6, or _use_new_zipfile_serialization=False), which Kindling does not read; re-save it in PyTorch with torch.save(torch.load(path), path) or export it with safetensors.torch.save_file.");
        if (got < 4 || head[0] != (byte)'P' || head[1] != (byte)'K')
            throw Err(source, "not a torch.save file (it is not a zip archive; torch.save writes a zip since PyTorch 1.6).");
        try
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            return Read(zip, source);
        }
        catch (InvalidDataException e) { throw Err(source, $"the zip archive is damaged or truncated ({e.Message}).", e); }
        catch (EndOfStreamException e) { throw Err(source, "the zip archive is truncated.", e); }
    }

    /// <summary>
    /// Loads the state dict in <paramref name="path"/> into <paramref name="module"/> with <see cref="Module.LoadStateDict"/>
    /// (PyTorch names: an <c>nn.Sequential</c> of the same shape matches a Kindling <see cref="Sequential"/>). The file is
    /// fully read and checked first, so on any error the module is unchanged.
    /// </summary>
    /// <exception cref="TorchSaveException">The file cannot be read (see <see cref="Load(string)"/>).</exception>
    /// <exception cref="ArgumentException">Names or shapes do not match the module (with <paramref name="strict"/>, missing or extra names too).</exception>
    public static void LoadModule(string path, Module module, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        var state = Load(path);
        try { module.LoadStateDict(state, strict); }
        catch (ArgumentException e) { throw new ArgumentException($"TorchSave.LoadModule('{path}'): {e.Message}", e); }
    }

    private static TorchSaveException Err(string source, string message, Exception? inner = null) =>
        inner == null ? new($"torch.save '{source}': {message}") : new($"torch.save '{source}': {message}", inner);

    private static Dictionary<string, Tensor> Read(ZipArchive zip, string source)
    {
        if (zip.Entries.Any(e => e.FullName.EndsWith("/constants.pkl", StringComparison.Ordinal) || e.FullName.Contains("/code/", StringComparison.Ordinal)))
            throw Err(source, "this is a TorchScript archive (torch.jit.save), not a state dict; in PyTorch save model.state_dict() with torch.save instead.");
        var pkls = zip.Entries.Where(e => e.FullName == "data.pkl" || e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)).ToList();
        if (pkls.Count == 0) throw Err(source, "the zip has no data.pkl record, so it is not a torch.save file.");
        if (pkls.Count > 1) throw Err(source, $"the zip has {pkls.Count} data.pkl records ({string.Join(", ", pkls.Select(p => p.FullName))}); torch.save writes one.");
        var pkl = pkls[0];
        string prefix = pkl.FullName[..^"data.pkl".Length];
        if (prefix.Length > 0 && prefix[..^1].Contains('/')) throw Err(source, $"data.pkl is nested too deep ('{pkl.FullName}').");
        var byteorder = zip.GetEntry(prefix + "byteorder");
        if (byteorder != null)
        {
            var order = Encoding.ASCII.GetString(ReadEntry(byteorder, 16, source)).Trim();
            if (order != "little") throw Err(source, $"its storages are stored '{order}'-endian; Kindling reads little-endian files only.");
        }
        if (pkl.Length > MaxPickleSize) throw Err(source, $"data.pkl is {pkl.Length} bytes, above the {MaxPickleSize}-byte limit for a state dict.");
        var root = StateDictUnpickler.Load(ReadEntry(pkl, pkl.Length, source), source);

        var leaves = new List<(string Name, TensorRef T)>();
        Flatten(root, "", leaves, 0, source);
        // A storage is read once, straight into an array of its element type where the machine's byte order allows;
        // a tensor that is the whole of a storage used by no other tensor takes that array without a copy.
        var uses = leaves.GroupBy(l => l.T.Storage.Key).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var storages = new Dictionary<string, Array>(StringComparer.Ordinal);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in leaves)
        {
            if (!storages.TryGetValue(t.Storage.Key, out var data))
            {
                var entry = zip.GetEntry(prefix + "data/" + t.Storage.Key)
                    ?? throw Err(source, $"tensor '{name}' refers to storage '{t.Storage.Key}' but the zip has no record '{prefix}data/{t.Storage.Key}'.");
                long expected = t.Storage.NumEl * t.Storage.Type.ElementSize;
                if (t.Storage.NumEl > Array.MaxLength || entry.Length != expected)
                    throw Err(source, $"storage '{t.Storage.Key}' (tensor '{name}') claims {t.Storage.NumEl} elements of torch.{t.Storage.Type.Name} ({t.Storage.NumEl}×{t.Storage.Type.ElementSize} bytes) but its record holds {entry.Length} bytes.");
                // torch.save stores records uncompressed; a small record that inflates to a huge storage is a zip bomb.
                if (entry.Length > MaxInflation * Math.Max(entry.CompressedLength, 1) && entry.Length > 64L << 20)
                    throw Err(source, $"storage record '{entry.FullName}' inflates from {entry.CompressedLength} to {entry.Length} bytes (more than {MaxInflation}×); torch.save does not compress storages, so this is refused as a zip bomb.");
                if (expected > Array.MaxLength && !(BitConverter.IsLittleEndian && IsDirect(t.Storage.Type)))
                    throw Err(source, $"storage '{t.Storage.Key}' is {expected} bytes, larger than one .NET array can hold.");
                int n = (int)t.Storage.NumEl;
                data = !BitConverter.IsLittleEndian ? new byte[expected] : t.Storage.Type.Name switch
                {
                    "FloatStorage" => new float[n],
                    "DoubleStorage" => new double[n],
                    "LongStorage" => new long[n],
                    _ => new byte[expected],
                };
                ReadInto(entry, data, source);
                storages[t.Storage.Key] = data;
            }
            if (result.ContainsKey(name)) throw Err(source, $"the name '{name}' appears twice after flattening nested dicts.");
            result[name] = Materialize(name, t, data, uses[t.Storage.Key] == 1, source);
        }
        return result;
    }

    private static bool IsDirect(StorageType t) => t.Name is "FloatStorage" or "DoubleStorage" or "LongStorage";

    private static void Flatten(object? v, string prefix, List<(string, TensorRef)> leaves, int depth, string source)
    {
        if (depth > MaxNesting) throw Err(source, $"dicts are nested more than {MaxNesting} deep.");
        switch (v)
        {
            case TensorRef t:
                leaves.Add((prefix.Length == 0 ? throw Err(source, "the file holds a single tensor, not a state dict (a dict of name → tensor).") : prefix, t));
                break;
            case PickleDict d:
                foreach (var (k, x) in d.Items)
                {
                    if (k is not string key) throw Err(source, $"a dict key is a {StateDictUnpickler.Describe(k)}; state dict keys are strings.");
                    Flatten(x, prefix.Length == 0 ? key : prefix + "." + key, leaves, depth + 1, source);
                }
                break;
            case null or string or long or double or bool when depth > 0:
                break; // checkpoint bookkeeping (epoch, loss, ...): not tensors
            default:
                throw Err(source, depth == 0
                    ? $"the file holds a {StateDictUnpickler.Describe(v)}, not a state dict (a dict of name → tensor)."
                    : $"'{prefix}' is a {StateDictUnpickler.Describe(v)}; Kindling reads dicts of tensors (with nested dicts, numbers and strings).");
        }
    }

    private static byte[] ReadEntry(ZipArchiveEntry entry, long maxLength, string source)
    {
        if (entry.Length > maxLength) throw Err(source, $"record '{entry.FullName}' is {entry.Length} bytes, above the {maxLength} expected.");
        var buf = new byte[entry.Length];
        ReadInto(entry, buf, source);
        return buf;
    }

    /// <summary>Fills <paramref name="dest"/> (an array of a primitive type) with the record's bytes, which must be exactly its size.</summary>
    private static void ReadInto(ZipArchiveEntry entry, Array dest, string source)
    {
        var h = GCHandle.Alloc(dest, GCHandleType.Pinned);
        try
        {
            long n = dest switch
            {
                float[] a => 4L * a.Length,
                double[] a => 8L * a.Length,
                long[] a => 8L * a.Length,
                _ => ((byte[])dest).LongLength,
            };
            using var s = entry.Open();
            long got = 0;
            unsafe
            {
                byte* p = (byte*)h.AddrOfPinnedObject();
                while (got < n)
                {
                    int chunk = (int)Math.Min(n - got, 1 << 30);
                    int read = s.ReadAtLeast(new Span<byte>(p + got, chunk), chunk, throwOnEndOfStream: false);
                    got += read;
                    if (read < chunk) break;
                }
            }
            if (got != n) throw Err(source, $"record '{entry.FullName}' is truncated: {got} of {n} bytes.");
        }
        catch (InvalidDataException e) { throw Err(source, $"record '{entry.FullName}' is damaged ({e.Message}).", e); }
        finally { h.Free(); }
    }

    private static Tensor Materialize(string name, TensorRef t, Array data, bool soleUser, string source)
    {
        int rank = t.Size.Length;
        long count = 1, last = t.Offset;
        foreach (var (d, s) in t.Size.Zip(t.Stride))
        {
            count = d == 0 || count == 0 ? 0 : (count > int.MaxValue / Math.Max(d, 1) ? long.MaxValue : count * d);
            if (d > 0) last = SaturatingAdd(last, SaturatingMul(d - 1, s));
        }
        var shape = t.Size.Select(d => d > int.MaxValue ? throw Err(source, $"tensor '{name}' has dimension {d}, above Kindling's limit {int.MaxValue}.") : (int)d).ToArray();
        if (count > int.MaxValue) throw Err(source, $"tensor '{name}' has shape ({string.Join(", ", t.Size)}), more than {int.MaxValue} elements (Kindling tensors are int-indexed).");
        if (count > 0 && last >= t.Storage.NumEl)
            throw Err(source, $"tensor '{name}' (shape ({string.Join(", ", t.Size)}), stride ({string.Join(", ", t.Stride)}), offset {t.Offset}) reaches element {last} of a storage of {t.Storage.NumEl} elements.");
        // A view is materialised here (PyTorch keeps it a view): a stride-0 view of a tiny storage can ask for gigabytes.
        // Its size is checked against the memory before anything is allocated; a view that expands its storage (more
        // elements than stored) past 256 MB is refused whatever the memory, as no state dict PyTorch writes holds one.
        double copied = count * 8.0;
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (copied > available * 0.5 || count > t.Storage.NumEl && copied > 256e6)
            throw Err(source, $"tensor '{name}' is a view of {t.Storage.NumEl:N0} stored element{(t.Storage.NumEl == 1 ? "" : "s")} as shape ({string.Join(", ", t.Size)}) with stride ({string.Join(", ", t.Stride)}): {count:N0} elements, about {copied / 1e9:F1} GB once copied{(copied > available * 0.5 ? $", more than half of the {available / 1e9:F1} GB available" : "")}. Re-save it in PyTorch with the tensor made contiguous (t.contiguous()) if it is meant to be that large.");

        switch (data)
        {
            // The common types, read as such: a block copy (or the storage itself) when the view is row-major, as
            // every parameter PyTorch saves is, and a strided gather otherwise.
            case float[] f: return Shaped(Strided(f, t, count, soleUser), shape);
            case double[] d: return Shaped(Strided(d, t, count, soleUser), shape);
            case long[] l: return Shaped(Strided(l, t, count, soleUser), shape);
        }
        var bytes = (byte[])data;

        // The storage index of each element in row-major order.
        var index = new long[count];
        var pos = new long[rank];
        for (long i = 0; i < count; i++)
        {
            long off = t.Offset;
            for (int k = 0; k < rank; k++) off += pos[k] * t.Stride[k];
            index[i] = off;
            for (int k = rank - 1; k >= 0; k--)
            {
                if (++pos[k] < t.Size[k]) break;
                pos[k] = 0;
            }
        }
        switch (t.Storage.Type.Name)
        {
            case "FloatStorage": return Shaped(Gather(index, i => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(i * 4)))), shape);
            case "HalfStorage": return Shaped(Gather(index, i => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.AsSpan((int)(i * 2)))), shape);
            case "BFloat16Storage": return Shaped(Gather(index, i => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)(i * 2))) << 16)), shape);
            case "DoubleStorage": return Shaped(Gather(index, i => BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan((int)(i * 8)))), shape);
            case "LongStorage": return Shaped(Gather(index, i => BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan((int)(i * 8)))), shape);
            case "IntStorage": return Shaped(Gather(index, i => (long)BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan((int)(i * 4)))), shape);
            case "ShortStorage": return Shaped(Gather(index, i => (long)BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan((int)(i * 2)))), shape);
            case "CharStorage": return Shaped(Gather(index, i => (long)(sbyte)bytes[i]), shape);
            case "ByteStorage": return Shaped(Gather(index, i => (long)bytes[i]), shape);
            default: // BoolStorage
                return Shaped(Gather(index, i => bytes[i] switch
                {
                    0 => false,
                    1 => true,
                    var x => throw Err(source, $"tensor '{name}': bool element at storage index {i} has byte {x}, not 0 or 1."),
                }), shape);
        }
    }

    /// <summary>Wraps the array (no copy: it is ours alone) in a tensor of that shape.</summary>
    private static Tensor Shaped<T>(T[] a, int[] shape) where T : unmanaged => Tensor.Wrap(a, shape);

    private static T[] Gather<T>(long[] index, Func<long, T> read)
    {
        var r = new T[index.Length];
        for (int i = 0; i < r.Length; i++) r[i] = read(index[i]);
        return r;
    }

    private static T[] Strided<T>(T[] src, TensorRef t, long count, bool soleUser) where T : unmanaged
    {
        if (count == 0) return [];
        if (IsRowMajor(t.Size, t.Stride))
            return soleUser && t.Offset == 0 && count == src.Length ? src : src.AsSpan((int)t.Offset, (int)count).ToArray();
        int rank = t.Size.Length;
        var r = new T[count];
        long inner = t.Size[rank - 1], step = t.Stride[rank - 1];
        var pos = new long[rank - 1];
        for (long i = 0; i < count; i += inner)
        {
            long o = t.Offset;
            for (int k = 0; k < rank - 1; k++) o += pos[k] * t.Stride[k];
            for (long j = 0; j < inner; j++) r[i + j] = src[(int)(o + j * step)];
            for (int k = rank - 2; k >= 0; k--)
            {
                if (++pos[k] < t.Size[k]) break;
                pos[k] = 0;
            }
        }
        return r;
    }

    private static bool IsRowMajor(long[] size, long[] stride)
    {
        long expected = 1;
        for (int k = size.Length - 1; k >= 0; k--)
        {
            if (size[k] != 1 && stride[k] != expected) return false;
            expected *= size[k];
        }
        return true;
    }

    private static long SaturatingMul(long a, long b) => a == 0 || b == 0 ? 0 : (a > long.MaxValue / b ? long.MaxValue : a * b);
    private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
}
