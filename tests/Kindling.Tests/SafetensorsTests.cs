using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Kindling.IO;
using Kindling.NN;

namespace Kindling.Tests;

public class SafetensorsTests
{
    // ------------------------------------------------------------------ helpers

    /// <summary>A file built by hand: prefix, header text (padded to <paramref name="pad"/> bytes when given), data.</summary>
    private static byte[] Raw(string header, byte[] data, int pad = 0)
    {
        var h = Encoding.UTF8.GetBytes(header).ToList();
        while (h.Count < pad) h.Add((byte)' ');
        return Raw(h.ToArray(), data);
    }

    private static byte[] Raw(byte[] header, byte[] data)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    private static byte[] Raw(string header, int dataLength) => Raw(header, new byte[dataLength]);

    private static string Rejected(byte[] file)
    {
        var e = Assert.Throws<SafetensorsException>(() => Safetensors.Deserialize(file));
        Assert.IsAssignableFrom<FormatException>(e);
        return e.Message;
    }

    private static string TempPath(string name)
    {
        string dir = Path.Combine(Path.GetTempPath(), "kindling-safetensors-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name);
    }

    /// <summary>The committed fixtures, found from the source path (or, when a path map hides it, by walking up from the test binary).</summary>
    private static string FixtureDir([CallerFilePath] string here = "")
    {
        string direct = Path.Combine(Path.GetDirectoryName(here) ?? "", "Fixtures");
        if (File.Exists(Path.Combine(direct, "torch_written.safetensors"))) return direct;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, "tests", "Kindling.Tests", "Fixtures");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("tests/Kindling.Tests/Fixtures not found; regenerate with tools/parity/check_safetensors_interop.py write.");
    }

    private static void AssertSameTensor(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.DType, actual.DType);
        Assert.Equal(expected.Shape, actual.Shape);
        switch (expected.DType)
        {
            case DType.Float32:
                Assert.Equal(expected.ToArray().Select(BitConverter.SingleToInt32Bits), actual.ToArray().Select(BitConverter.SingleToInt32Bits));
                break;
            case DType.Float64:
                Assert.Equal(expected.ToDoubleArray().Select(BitConverter.DoubleToInt64Bits), actual.ToDoubleArray().Select(BitConverter.DoubleToInt64Bits));
                break;
            default:
                Assert.Equal(expected.ToInt64Array(), actual.ToInt64Array());
                break;
        }
    }

    private static Dictionary<string, Tensor> EveryDType() => new()
    {
        ["f32"] = Tensor.FromArray([1.5f, -0f, float.NaN, float.PositiveInfinity, float.Epsilon, 3.4e38f], 2, 3),
        ["f64"] = Tensor.FromArray([Math.PI, -1e-300, double.NegativeInfinity, 0.1], 4),
        ["i64"] = Tensor.FromArray([long.MinValue, -1L, 0L, long.MaxValue], 2, 2),
        ["mask"] = Tensor.FromArray([true, false, true], 3),
        ["scalar"] = Tensor.FromArray([42.25f], 1).Reshape(),
        ["scalar.i64"] = Tensor.FromArray([7L], 1).Reshape(),
        ["empty"] = Tensor.Zeros(0, 3),
        ["empty.bool"] = Tensor.Zeros([2, 0], DType.Bool),
    };

    // NoGrad: these tests compare values only, and keep clear of Module.Call's first-call graph check.
    private static float[] Run(Module m, Tensor x)
    {
        using (Autograd.NoGrad()) return m.Call(x).ToArray();
    }

    private static Sequential Mlp(ulong seed) =>
        new(new Linear(3, 4, generator: new Generator(seed)), new ReLU(), new Linear(4, 2, generator: new Generator(seed + 1)));

    // ------------------------------------------------------------------ round trips

    [Fact]
    public void EveryDTypeRoundTripsBitExactInMemory()
    {
        var src = EveryDType();
        var file = Safetensors.Deserialize(Safetensors.Serialize(src));
        Assert.Equal(src.Keys.Order(), file.Tensors.Keys.Order());
        foreach (var (k, t) in src) AssertSameTensor(t, file.Tensors[k]);
        Assert.Equal(0, file.Tensors["scalar"].Rank);
        Assert.Equal(42.25f, file.Tensors["scalar"].Item());
        Assert.Equal([0, 3], file.Tensors["empty"].Shape);
        Assert.Equal("BOOL", file.StoredDTypes["mask"]);
        Assert.Equal("F64", file.StoredDTypes["f64"]);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void EveryDTypeRoundTripsThroughAFileWithMetadata()
    {
        var src = EveryDType();
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode \"quoted\" \n newline", ["empty"] = "" };
        string path = TempPath("all.safetensors");
        Safetensors.Save(path, src, meta);
        var file = Safetensors.Load(path);
        foreach (var (k, t) in src) AssertSameTensor(t, file.Tensors[k]);
        Assert.Equal(meta.OrderBy(kv => kv.Key), file.Metadata.OrderBy(kv => kv.Key));
        AssertSameTensor(src["i64"], Safetensors.LoadTensor(path, "i64"));
        AssertSameTensor(src["scalar"], Safetensors.LoadTensor(path, "scalar"));
        var e = Assert.Throws<KeyNotFoundException>(() => Safetensors.LoadTensor(path, "nope"));
        Assert.Contains("no tensor named 'nope'", e.Message);
    }

    [Fact]
    public void WriterPadsTheHeaderAndOrdersByElementSizeThenName()
    {
        var bytes = Safetensors.Serialize(new Dictionary<string, Tensor>
        {
            ["b"] = Tensor.Ones(3),
            ["a"] = Tensor.Ones(1),
            ["m"] = Tensor.Zeros([5], DType.Bool),
            ["d"] = Tensor.Zeros([2], DType.Float64),
        });
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, n % 8);
        Assert.Equal(8 + (long)n + 16 + 16 + 5, bytes.Length);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        var names = doc.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(["d", "a", "b", "m"], names);
        Assert.Equal([0, 16], doc.RootElement.GetProperty("d").GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal([32, 37], doc.RootElement.GetProperty("m").GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt32()));
    }

    [Fact]
    public void NonContiguousAndGradTensorsAreWrittenRowMajor()
    {
        var x = Tensor.FromArray([1f, 2, 3, 4, 5, 6], 2, 3);
        var w = Tensor.FromArray([1f, 2], 2);
        w.RequiresGrad = true;
        var file = Safetensors.Deserialize(Safetensors.Serialize(new Dictionary<string, Tensor> { ["t"] = x.Transpose(0, 1), ["w"] = w }));
        Assert.Equal([3, 2], file.Tensors["t"].Shape);
        Assert.Equal([1f, 4, 2, 5, 3, 6], file.Tensors["t"].ToArray());
        Assert.False(file.Tensors["w"].RequiresGrad);
    }

    [Fact]
    public void NonSeekableStreamsAndEmptyFilesLoad()
    {
        var bytes = Safetensors.Serialize(new Dictionary<string, Tensor> { ["x"] = Tensor.Ones(2, 2) });
        using var s = new NonSeekable(bytes);
        Assert.Equal([1f, 1, 1, 1], Safetensors.Load(s).Tensors["x"].ToArray());
        var empty = Safetensors.Deserialize(Safetensors.Serialize(new Dictionary<string, Tensor>()));
        Assert.Empty(empty.Tensors);
        // The reference writer pads with spaces; any amount of trailing whitespace is fine.
        Assert.Empty(Safetensors.Deserialize(Raw("{}", [], pad: 16)).Tensors);
    }

    private sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }

    [Fact]
    public void WritingRejectsTheReservedNameAndNulls()
    {
        var e = Assert.Throws<ArgumentException>(() => Safetensors.Serialize(new Dictionary<string, Tensor> { ["__metadata__"] = Tensor.Ones(1) }));
        Assert.Contains("reserved", e.Message);
        Assert.Throws<ArgumentException>(() => Safetensors.Serialize(new Dictionary<string, Tensor> { ["x"] = null! }));
    }

    // ------------------------------------------------------------------ narrow types written by hand

    [Fact]
    public void F16AndBF16WidenExactlyToFloat32()
    {
        ushort[] f16 = [0x3C00, 0xC100, 0x7BFF, 0x0400, 0x0001, 0x7C00, 0x8000, 0x2E66];
        float[] f16Want = [1f, -2.5f, 65504f, MathF.Pow(2, -14), MathF.Pow(2, -24), float.PositiveInfinity, -0f, (float)BitConverter.UInt16BitsToHalf(0x2E66)];
        ushort[] bf16 = [0x4049, 0xBF80, 0x7F80, 0x0001, 0x3DCD];
        float[] bf16Want = [3.140625f, -1f, float.PositiveInfinity, BitConverter.Int32BitsToSingle(0x00010000), BitConverter.Int32BitsToSingle(0x3DCD0000)];
        var data = new byte[f16.Length * 2 + bf16.Length * 2 + 2];
        for (int i = 0; i < f16.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2 * i), f16[i]);
        for (int i = 0; i < bf16.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(16 + 2 * i), bf16[i]);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(26), 0x7E00); // F16 NaN
        var file = Safetensors.Deserialize(Raw(
            """{"h":{"dtype":"F16","shape":[2,4],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[5],"data_offsets":[16,26]},"nan":{"dtype":"F16","shape":[],"data_offsets":[26,28]}}""", data));
        Assert.Equal(DType.Float32, file.Tensors["h"].DType);
        Assert.Equal([2, 4], file.Tensors["h"].Shape);
        Assert.Equal(f16Want.Select(BitConverter.SingleToInt32Bits), file.Tensors["h"].ToArray().Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(bf16Want.Select(BitConverter.SingleToInt32Bits), file.Tensors["b"].ToArray().Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(0, file.Tensors["nan"].Rank);
        Assert.True(float.IsNaN(file.Tensors["nan"].Item()));
        Assert.Equal("F16", file.StoredDTypes["h"]);
        Assert.Equal("BF16", file.StoredDTypes["b"]);
    }

    [Fact]
    public void IntegerTypesWidenToInt64ExceptU8WhichStaysUInt8()
    {
        var data = new List<byte>();
        foreach (int v in new[] { int.MinValue, -1, 0, int.MaxValue }) data.AddRange(BitConverter.GetBytes(v));          // I32 0..16
        foreach (uint v in new[] { 0u, uint.MaxValue }) data.AddRange(BitConverter.GetBytes(v));                         // U32 16..24
        foreach (short v in new short[] { short.MinValue, 12345 }) data.AddRange(BitConverter.GetBytes(v));             // I16 24..28
        foreach (ushort v in new ushort[] { 65535, 1 }) data.AddRange(BitConverter.GetBytes(v));                         // U16 28..32
        data.AddRange([0x80, 0xFF, 0x7F]);                                                                               // I8 32..35
        data.AddRange([0, 1, 128, 255]);                                                                                 // U8 35..39
        var file = Safetensors.Deserialize(Raw(
            """
            {"i32":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]},
             "u32":{"dtype":"U32","shape":[2],"data_offsets":[16,24]},
             "i16":{"dtype":"I16","shape":[2],"data_offsets":[24,28]},
             "u16":{"dtype":"U16","shape":[2],"data_offsets":[28,32]},
             "i8":{"dtype":"I8","shape":[3],"data_offsets":[32,35]},
             "u8":{"dtype":"U8","shape":[2,2],"data_offsets":[35,39]}}
            """, data.ToArray()));
        foreach (var (name, t) in file.Tensors) Assert.Equal(name == "u8" ? DType.UInt8 : DType.Int64, t.DType);
        Assert.Equal([int.MinValue, -1L, 0, int.MaxValue], file.Tensors["i32"].ToInt64Array());
        Assert.Equal([2, 2], file.Tensors["i32"].Shape);
        Assert.Equal([0L, uint.MaxValue], file.Tensors["u32"].ToInt64Array());
        Assert.Equal([short.MinValue, 12345L], file.Tensors["i16"].ToInt64Array());
        Assert.Equal([65535L, 1], file.Tensors["u16"].ToInt64Array());
        Assert.Equal([-128L, -1, 127], file.Tensors["i8"].ToInt64Array());
        Assert.Equal([0L, 1, 128, 255], file.Tensors["u8"].ToInt64Array());
    }

    // ------------------------------------------------------------------ modules

    [Fact]
    public void ModuleSavedAndLoadedIntoAFreshModuleHasEqualParameters()
    {
        var a = Mlp(1);
        var b = Mlp(100);
        string path = TempPath("mlp.safetensors");
        Safetensors.SaveModule(path, a, new Dictionary<string, string> { ["epoch"] = "3" });
        Assert.Equal(["0.bias", "0.weight", "2.bias", "2.weight"], Safetensors.Load(path).Tensors.Keys.Order(StringComparer.Ordinal));
        Assert.NotEqual(a.StateDict()["0.weight"].ToArray(), b.StateDict()["0.weight"].ToArray());
        Safetensors.LoadModule(path, b);
        var sa = a.StateDict();
        foreach (var (k, t) in b.StateDict()) AssertSameTensor(sa[k], t);
        var x = Tensor.FromArray([0.5f, -1f, 2f], 1, 3);
        Assert.Equal(Run(a, x), Run(b, x));
        Assert.Equal("3", Safetensors.Load(path).Metadata["epoch"]);
    }

    [Fact]
    public void LoadModuleConvertsStoredTypesToTheParameterType()
    {
        var a = Mlp(1);
        var asDouble = a.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.To(DType.Float64));
        string path = TempPath("mlp64.safetensors");
        Safetensors.Save(path, asDouble);
        Assert.Equal("F64", Safetensors.Load(path).StoredDTypes["0.weight"]);
        var b = Mlp(7);
        Safetensors.LoadModule(path, b);
        foreach (var (k, t) in b.StateDict())
        {
            Assert.Equal(DType.Float32, t.DType);
            Assert.Equal(a.StateDict()[k].ToArray(), t.ToArray());
        }
    }

    [Fact]
    public void FailedLoadModuleLeavesTheModuleUnchanged()
    {
        var m = Mlp(5);
        var before = m.StateDict();
        void Unchanged() { foreach (var (k, t) in m.StateDict()) AssertSameTensor(before[k], t); }

        // Wrong shape for one parameter: nothing, not even the well-shaped ones, is copied.
        var state = Mlp(9).StateDict();
        state["2.weight"] = Tensor.Zeros(3, 4);
        string bad = TempPath("badshape.safetensors");
        Safetensors.Save(bad, state);
        var e = Assert.Throws<ArgumentException>(() => Safetensors.LoadModule(bad, m));
        Assert.Contains("2.weight", e.Message);
        Assert.Contains(bad, e.Message);
        Unchanged();

        // Missing key (strict), extra key (strict).
        var missing = Mlp(9).StateDict();
        missing.Remove("0.bias");
        Safetensors.Save(bad, missing);
        Assert.Contains("missing keys: 0.bias", Assert.Throws<ArgumentException>(() => Safetensors.LoadModule(bad, m)).Message);
        Unchanged();
        var extra = Mlp(9).StateDict();
        extra["3.weight"] = Tensor.Ones(1);
        Safetensors.Save(bad, extra);
        Assert.Contains("unexpected keys: 3.weight", Assert.Throws<ArgumentException>(() => Safetensors.LoadModule(bad, m)).Message);
        Unchanged();

        // A corrupt file whose earlier tensors are fine: the whole file is validated before anything is copied.
        var good = Safetensors.Serialize(Mlp(9).StateDict());
        File.WriteAllBytes(bad, good.Take(good.Length - 1).ToArray());
        Assert.Throws<SafetensorsException>(() => Safetensors.LoadModule(bad, m));
        Unchanged();

        // Non-strict loading accepts a subset.
        Safetensors.Save(bad, missing);
        Safetensors.LoadModule(bad, m, strict: false);
        AssertSameTensor(before["0.bias"], m.StateDict()["0.bias"]);
        AssertSameTensor(missing["0.weight"], m.StateDict()["0.weight"]);
    }

    // ------------------------------------------------------------------ atomic save

    [Fact]
    public void SaveIsAtomicAndLeavesNoTempFile()
    {
        string path = TempPath("atomic.safetensors");
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["x"] = Tensor.Ones(2) });
        Assert.False(File.Exists(path + ".tmp"));
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["x"] = Tensor.Zeros(3) });
        Assert.False(File.Exists(path + ".tmp"));
        Assert.Equal([0f, 0, 0], Safetensors.Load(path).Tensors["x"].ToArray());
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));

        // A save that fails leaves the previous file intact and no temp file behind.
        Assert.Throws<ArgumentException>(() => Safetensors.Save(path, new Dictionary<string, Tensor> { ["__metadata__"] = Tensor.Ones(1) }));
        Assert.Equal([0f, 0, 0], Safetensors.Load(path).Tensors["x"].ToArray());
        Assert.False(File.Exists(path + ".tmp"));
    }

    // ------------------------------------------------------------------ malformed files: one test per rule

    [Fact]
    public void TruncatedPrefixIsRejected()
    {
        Assert.Contains("shorter than the 8-byte", Rejected([1, 2, 3]));
        Assert.Contains("shorter than the 8-byte", Rejected([]));
        string path = TempPath("tiny.safetensors");
        File.WriteAllBytes(path, [0, 0, 0, 0, 0]);
        var e = Assert.Throws<SafetensorsException>(() => Safetensors.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("5 bytes long", e.Message);
    }

    [Fact]
    public void HeaderLongerThanTheFileIsRejected()
    {
        var f = Raw("{}", []);
        BinaryPrimitives.WriteUInt64LittleEndian(f, 3);
        Assert.Contains("says 3 bytes but only 2 bytes follow", Rejected(f));
        BinaryPrimitives.WriteUInt64LittleEndian(f, ulong.MaxValue);
        Assert.Contains("above the 100000000-byte limit", Rejected(f));
        BinaryPrimitives.WriteUInt64LittleEndian(f, 100_000_001);
        Assert.Contains("above the 100000000-byte limit", Rejected(f));
    }

    [Fact]
    public void HeaderLimitIsCheckedBeforeReadingAFile()
    {
        string path = TempPath("huge-header.safetensors");
        var f = Raw("{}", []);
        BinaryPrimitives.WriteUInt64LittleEndian(f, 1UL << 40);
        File.WriteAllBytes(path, f);
        var e = Assert.Throws<SafetensorsException>(() => Safetensors.Load(path));
        Assert.Contains("limit", e.Message);
    }

    [Fact]
    public void HeaderThatIsNotUtf8JsonObjectIsRejected()
    {
        byte[] notUtf8 = [(byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}'];
        Assert.Contains("not valid UTF-8", Rejected(Raw(notUtf8, [])));
        Assert.Contains("not valid JSON", Rejected(Raw("{\"a\":", 0)));
        Assert.Contains("not valid JSON", Rejected(Raw("", 0)));
        Assert.Contains("not valid JSON", Rejected(Raw("{} // comment", 0)));
        Assert.Contains("must be a JSON object", Rejected(Raw("[1, 2]", 0)));
        Assert.Contains("must be a JSON object", Rejected(Raw("\"x\"", 0)));
        Assert.Contains("not valid JSON", Rejected(Raw("{} {}", 0)));
        Assert.Contains("not valid JSON", Rejected(Raw("{}\0\0", 0)));
    }

    [Fact]
    public void DuplicateKeysAreRejected()
    {
        const string t = """{"dtype":"U8","shape":[1],"data_offsets":[0,1]}""";
        Assert.Contains("repeats the key \"a\"", Rejected(Raw($$"""{"a":{{t}},"a":{{t}}}""", 1)));
        Assert.Contains("repeats the key \"a\"", Rejected(Raw($$"""{"a":{{t}},"\u0061":{{t}}}""", 1)));
        Assert.Contains("repeats the key \"__metadata__\"", Rejected(Raw("""{"__metadata__":{},"__metadata__":{}}""", 0)));
        Assert.Contains("\"__metadata__\" repeats the key \"k\"", Rejected(Raw("""{"__metadata__":{"k":"1","k":"2"}}""", 0)));
        Assert.Contains("\"dtype\" appears twice", Rejected(Raw("""{"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}}""", 1)));
    }

    [Fact]
    public void MalformedTensorEntriesAreRejected()
    {
        Assert.Contains("tensor 'a': unsupported dtype \"F8_E4M3\"", Rejected(Raw("""{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}""", 1)));
        Assert.Contains("unsupported dtype \"f32\"", Rejected(Raw("""{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}""", 4)));
        Assert.Contains("\"dtype\" must be a string", Rejected(Raw("""{"a":{"dtype":1,"shape":[1],"data_offsets":[0,1]}}""", 1)));
        Assert.Contains("missing \"shape\"", Rejected(Raw("""{"a":{"dtype":"U8","data_offsets":[0,1]}}""", 1)));
        Assert.Contains("missing \"data_offsets\"", Rejected(Raw("""{"a":{"dtype":"U8","shape":[1]}}""", 1)));
        Assert.Contains("missing \"dtype\"", Rejected(Raw("""{"a":{"shape":[1],"data_offsets":[0,1]}}""", 1)));
        Assert.Contains("unknown field \"offsets\"", Rejected(Raw("""{"a":{"dtype":"U8","shape":[1],"offsets":[0,1]}}""", 1)));
        Assert.Contains("tensor 'a': expected an object", Rejected(Raw("""{"a":[1]}""", 0)));
    }

    [Fact]
    public void BadShapesAreRejected()
    {
        Assert.Contains("\"shape\" entry -2 is negative", Rejected(Raw("""{"a":{"dtype":"U8","shape":[-2],"data_offsets":[0,0]}}""", 0)));
        Assert.Contains("\"shape\" entry 2.0 is not an integer", Rejected(Raw("""{"a":{"dtype":"U8","shape":[2.0],"data_offsets":[0,2]}}""", 2)));
        Assert.Contains("\"shape\" entry 1e1 is not an integer", Rejected(Raw("""{"a":{"dtype":"U8","shape":[1e1],"data_offsets":[0,10]}}""", 10)));
        Assert.Contains("does not fit in 64 bits", Rejected(Raw("""{"a":{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,0]}}""", 0)));
        Assert.Contains("entries must be non-negative integers, got the string \"2\"", Rejected(Raw("""{"a":{"dtype":"U8","shape":["2"],"data_offsets":[0,2]}}""", 2)));
        Assert.Contains("\"shape\" must be an array", Rejected(Raw("""{"a":{"dtype":"U8","shape":2,"data_offsets":[0,2]}}""", 2)));
    }

    [Fact]
    public void OverflowingShapesAreRejectedWithoutAllocating()
    {
        // 2^32 × 2^32 wraps to 0 in unchecked 64-bit math, which would match data_offsets [0, 0].
        Assert.Contains("overflows 64 bits", Rejected(Raw("""{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}""", 0)));
        Assert.Contains("overflows 64 bits", Rejected(Raw("""{"a":{"dtype":"U8","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,0]}}""", 0)));
        // 2^32 elements fit in 64 bits but not in a Kindling tensor; the header must not cause a 16 GB allocation.
        Assert.Contains("Kindling tensors hold at most 2147483591", Rejected(Raw("""{"a":{"dtype":"F32","shape":[65536,65536],"data_offsets":[0,17179869184]}}""", 0)));
        // An empty tensor may not smuggle in a dimension Kindling cannot index.
        Assert.Contains("exceeds 2147483647", Rejected(Raw("""{"a":{"dtype":"U8","shape":[0,4294967296],"data_offsets":[0,0]}}""", 0)));
        // A correct byte count still cannot point past the file.
        Assert.Contains("buffer has only 4 bytes", Rejected(Raw("""{"a":{"dtype":"F32","shape":[1000000],"data_offsets":[0,4000000]}}""", 4)));
    }

    [Fact]
    public void BadDataOffsetsAreRejected()
    {
        Assert.Contains("exactly [begin, end], got 3", Rejected(Raw("""{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}""", 1)));
        Assert.Contains("exactly [begin, end], got 1", Rejected(Raw("""{"a":{"dtype":"U8","shape":[1],"data_offsets":[1]}}""", 1)));
        Assert.Contains("begin > end", Rejected(Raw("""{"a":{"dtype":"U8","shape":[0],"data_offsets":[2,1]}}""", 2)));
        Assert.Contains("\"data_offsets\" entry -1 is negative", Rejected(Raw("""{"a":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}""", 1)));
        Assert.Contains("lie beyond any possible file", Rejected(Raw("""{"a":{"dtype":"U8","shape":[0],"data_offsets":[18446744073709551615,18446744073709551615]}}""", 0)));
    }

    [Fact]
    public void WrongByteLengthIsRejected()
    {
        var m = Rejected(Raw("""{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}""", 20));
        Assert.Contains("tensor 'w'", m);
        Assert.Contains("needs 24 bytes (6 × 4)", m);
        Assert.Contains("span 20", m);
        Assert.Contains("needs 2 bytes", Rejected(Raw("""{"h":{"dtype":"BF16","shape":[],"data_offsets":[0,4]}}""", 4)));
    }

    [Fact]
    public void OverlappingTensorsAreRejected()
    {
        var m = Rejected(Raw("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12));
        Assert.Contains("tensor 'b' (bytes 4..12) overlaps tensor 'a'", m);
        // Two names for the same bytes are an overlap too.
        Assert.Contains("overlaps", Rejected(Raw("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4)));
    }

    [Fact]
    public void HolesAreRejected()
    {
        Assert.Contains("hole of 4 bytes between tensor 'a' (ends at 4) and tensor 'b' (starts at 8)",
            Rejected(Raw("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12)));
        Assert.Contains("the first tensor must start at 0",
            Rejected(Raw("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8)));
    }

    [Fact]
    public void TrailingAndMissingBytesAreRejected()
    {
        Assert.Contains("3 trailing bytes belong to no tensor", Rejected(Raw("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 7)));
        Assert.Contains("2 trailing bytes", Rejected(Raw("{}", 2)));
        Assert.Contains("(truncated file)", Rejected(Raw("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 7)));
        // A real file cut short by one byte.
        var good = Safetensors.Serialize(new Dictionary<string, Tensor> { ["x"] = Tensor.Ones(4) });
        Assert.Contains("truncated", Rejected(good[..^1]));
        Assert.Contains("1 trailing bytes", Rejected([.. good, 0]));
    }

    [Fact]
    public void BadMetadataIsRejected()
    {
        Assert.Contains("\"__metadata__\" value for \"epoch\" must be a string, got the number 3", Rejected(Raw("""{"__metadata__":{"epoch":3}}""", 0)));
        Assert.Contains("value for \"x\" must be a string, got null", Rejected(Raw("""{"__metadata__":{"x":null}}""", 0)));
        Assert.Contains("value for \"x\" must be a string, got an object", Rejected(Raw("""{"__metadata__":{"x":{}}}""", 0)));
        Assert.Contains("\"__metadata__\" must be an object", Rejected(Raw("""{"__metadata__":["a"]}""", 0)));
    }

    [Fact]
    public void BoolBytesMustBeZeroOrOne()
    {
        Assert.Contains("BOOL element 1 is byte 2", Rejected(Raw("""{"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}""", [1, 2])));
    }

    [Fact]
    public void ErrorsFromFilesNameTheFile()
    {
        string path = TempPath("hole.safetensors");
        File.WriteAllBytes(path, Raw("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8));
        var e = Assert.Throws<SafetensorsException>(() => Safetensors.Load(path));
        Assert.StartsWith($"safetensors '{path}': tensor 'a'", e.Message);
    }

    // ------------------------------------------------------------------ PyTorch interop

    /// <summary>Reads the fixture written by tools/parity/check_safetensors_interop.py (PyTorch 1.13) and compares every value.</summary>
    [Fact]
    public void ReadsTheTorchWrittenFixture()
    {
        string dir = FixtureDir();
        var file = Safetensors.Load(Path.Combine(dir, "torch_written.safetensors"));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "torch_written.json")));
        var expected = doc.RootElement.GetProperty("tensors");
        Assert.Equal(expected.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal), file.Tensors.Keys.Order(StringComparer.Ordinal));
        foreach (var p in expected.EnumerateObject())
        {
            var t = file.Tensors[p.Name];
            Assert.Equal(p.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()), t.Shape);
            string torchType = p.Value.GetProperty("dtype").GetString()!;
            var want = p.Value.GetProperty("values").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            var kind = torchType is "float32" or "float16" or "bfloat16" ? DType.Float32 : torchType == "uint8" ? DType.UInt8 : DType.Int64;
            Assert.Equal(kind, t.DType);
            // float16/bfloat16 → float32 → double is exact, as is torch's own .double(): compare bit for bit.
            Assert.Equal(want.Select(BitConverter.DoubleToInt64Bits), t.ToDoubleArray().Select(BitConverter.DoubleToInt64Bits));
        }
        Assert.Equal("F16", file.StoredDTypes["extra.f16"]);
        Assert.Equal("BF16", file.StoredDTypes["extra.bf16"]);
        Assert.Equal("I32", file.StoredDTypes["extra.i32"]);
        Assert.Equal("U8", file.StoredDTypes["extra.u8"]);
        Assert.Equal("pt", file.Metadata["format"]);

        // The torch weights drive a Kindling module to torch's output.
        var m = Mlp(3);
        m.LoadStateDict(file.Tensors.Where(kv => !kv.Key.StartsWith("extra.")).ToDictionary(), strict: true);
        var fwd = doc.RootElement.GetProperty("forward");
        var x = Tensor.FromArray(fwd.GetProperty("input")[0].EnumerateArray().Select(v => v.GetSingle()).ToArray(), 1, 3);
        var y = Run(m, x);
        var want2 = fwd.GetProperty("output").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        for (int i = 0; i < want2.Length; i++) Assert.Equal(want2[i], y[i], 1e-6);
    }

    /// <summary>
    /// Writes a Kindling module for PyTorch to read. Check by hand with
    /// <c>PYENV_VERSION=system python3 tools/parity/check_safetensors_interop.py read $TMPDIR/kindling-safetensors-interop/kindling_written.safetensors</c>,
    /// which loads it into torch's Sequential with <c>load_state_dict(strict=True)</c> and prints OK.
    /// </summary>
    [Fact]
    public void WritesAFileForTorch()
    {
        string dir = Path.Combine(Path.GetTempPath(), "kindling-safetensors-interop");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "kindling_written.safetensors");
        var m = Mlp(42);
        Safetensors.SaveModule(path, m, new Dictionary<string, string> { ["format"] = "pt", ["writer"] = "Kindling" });
        var back = Safetensors.Load(path);
        Assert.All(back.StoredDTypes.Values, t => Assert.Equal("F32", t));
        var x = Tensor.FromArray([0.5f, -1f, 2f], 1, 3);
        File.WriteAllText(Path.ChangeExtension(path, ".forward.txt"), string.Join(" ", Run(m, x).Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))));
    }
}
