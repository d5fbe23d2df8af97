using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Kindling.IO;
using Kindling.NN;

namespace Kindling.Tests;

/// <summary>
/// torch.save state dicts written by PyTorch 1.13 (tools/parity/gen_torch_save.py) load with PyTorch's values; hostile
/// or damaged files are refused with errors naming the problem, and nothing in them is ever run.
/// </summary>
public class TorchSaveTests
{
    private static string Fixture(string name) => Path.Combine(Repo.Root, "tests", "Kindling.Tests", "Fixtures", "torch_save", name);

    /// <summary>Asserts that every tensor PyTorch described in NAME.json was read with its dtype, shape and exact values.</summary>
    private static Dictionary<string, Tensor> AssertMatchesPyTorch(string name)
    {
        var loaded = TorchSave.Load(Fixture(name + ".pt"));
        var expected = JsonNode.Parse(File.ReadAllText(Fixture(name + ".json")))!.AsObject().Where(kv => !kv.Key.StartsWith("__", StringComparison.Ordinal)).ToList();
        Assert.Equal(expected.Select(kv => kv.Key), loaded.Keys); // same names, same order
        foreach (var (key, node) in expected)
        {
            var t = loaded[key];
            string dtype = node!["dtype"]!.GetValue<string>();
            var want = dtype switch
            {
                "float32" or "float16" or "bfloat16" => DType.Float32,
                "float64" => DType.Float64,
                "bool" => DType.Bool,
                _ => DType.Int64,
            };
            Assert.True(want == t.DType, $"{key}: dtype {t.DType}, expected {want} for torch.{dtype}");
            Assert.Equal(node["shape"]!.AsArray().Select(v => v!.GetValue<int>()), t.Shape);
            var values = node["values"]!.AsArray();
            Assert.Equal(values.Count, t.NumEl);
            switch (t.DType)
            {
                case DType.Bool:
                    Assert.Equal(values.Select(v => v!.GetValue<bool>()), t.ToInt64Array().Select(v => v != 0));
                    break;
                case DType.Int64:
                    Assert.Equal(values.Select(v => v!.GetValue<long>()), t.ToInt64Array());
                    break;
                default:
                    // JSON holds PyTorch's values as doubles: float32 values round-trip exactly.
                    Assert.Equal(values.Select(v => v!.GetValue<double>()), t.ToDoubleArray());
                    break;
            }
        }
        return loaded;
    }

    [Fact]
    public void StateDictOfAnMlpLoadsAndGivesPyTorchsOutput()
    {
        AssertMatchesPyTorch("mlp");
        var model = new Sequential(new Linear(4, 8), new BatchNorm1d(8), new ReLU(), new Linear(8, 3));
        TorchSave.LoadModule(Fixture("mlp.pt"), model);
        model.Eval();
        var json = JsonNode.Parse(File.ReadAllText(Fixture("mlp.json")))!;
        var x = Tensor.FromArray(json["__input__"]!["values"]!.AsArray().Select(v => (float)v!.GetValue<double>()).ToArray(), 5, 4);
        var want = json["__output__"]!["values"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        float[] got;
        using (Autograd.NoGrad()) got = model.Call(x).ToArray();
        for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - got[i]) <= 1e-5, $"output {i}: PyTorch {want[i]}, Kindling {got[i]}");
        Assert.Equal(3L, model.NamedBuffers().First(b => b.Name == "1.num_batches_tracked").Buffer.ToInt64Array()[0]);
    }

    [Fact]
    public void PickleProtocol4LoadsToo() => AssertMatchesPyTorch("mlp_protocol4");

    [Fact]
    public void EveryDTypeLoadsOrConverts() => AssertMatchesPyTorch("dtypes");

    [Fact]
    public void ViewsWithOffsetsStridesAndSharedStoragesLoadAsPyTorchSeesThem()
    {
        var t = AssertMatchesPyTorch("views");
        // Each is its own copy: changing one does not change another that shared its storage.
        t["full"].Fill_(0);
        Assert.Equal(12.0, t["row2"].ToDoubleArray()[0]);
    }

    [Fact]
    public void CheckpointDictsAreFlattenedAndParametersLoad() => AssertMatchesPyTorch("checkpoint");

    [Fact]
    public void ModuleLoadingChecksNamesAndShapesAndLeavesTheModuleUnchangedOnError()
    {
        var model = new Sequential(new Linear(4, 8), new BatchNorm1d(8), new ReLU(), new Linear(8, 4));
        var before = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToDoubleArray());
        var e = Assert.Throws<ArgumentException>(() => TorchSave.LoadModule(Fixture("mlp.pt"), model));
        Assert.Contains("mlp.pt", e.Message);
        Assert.Contains("3.weight", e.Message);
        foreach (var (k, v) in model.StateDict()) Assert.Equal(before[k], v.ToDoubleArray());
    }

    [Theory]
    [InlineData("legacy.pt", "legacy torch.save format")]
    [InlineData("whole_model.pt", "save model.state_dict() instead of the model")]
    [InlineData("torchscript.pt", "TorchScript archive")]
    [InlineData("hostile_system.pt", "refusing global 'posix.system'")]
    public void FormatsThatAreNotStateDictsAreRefused(string file, string expected)
    {
        var e = Assert.Throws<TorchSaveException>(() => TorchSave.Load(Fixture(file)));
        Assert.Contains(expected, e.Message);
        Assert.Contains(file, e.Message);
        Assert.False(File.Exists("/tmp/kindling-pwned"));
    }

    [Fact]
    public void CliInitAcceptsTorchSaveFilesAndRefusesHostileOnes()
    {
        var dir = Directory.CreateTempSubdirectory("kindling-torch-cli-");
        try
        {
            var csv = Path.Combine(dir.FullName, "d.csv");
            var r = new Random(3);
            File.WriteAllLines(csv, new[] { "a,b,c,d,y" }.Concat(Enumerable.Range(0, 60).Select(i => FormattableString.Invariant($"{r.NextDouble():F3},{r.NextDouble():F3},{r.NextDouble():F3},{r.NextDouble():F3},{i % 3}"))));
            // The fixture's nn.Sequential(Linear(4, 8), BatchNorm1d(8), ReLU(), Linear(8, 3)) is the CLI's --hidden 8 --batch-norm model.
            string[] train = ["train", "--data", csv, "--target", "y", "--hidden", "8", "--batch-norm", "--epochs", "1", "--out", Path.Combine(dir.FullName, "run")];
            var ok = CliTests.Run([.. train, "--init", Fixture("mlp.pt")]);
            Assert.True(ok.Code == 0, ok.Err + ok.Out);
            var bad = CliTests.Run([.. train, "--init", Fixture("hostile_system.pt"), "--overwrite"]);
            Assert.Equal(1, bad.Code);
            Assert.Single(bad.Err.Trim().Split('\n'));
            Assert.Contains("refusing global 'posix.system'", bad.Err);
        }
        finally { dir.Delete(true); }
    }

    // ------------------------------------------------------------ hostile and damaged files built here

    /// <summary>Writes pickle opcodes by hand so each test controls every byte.</summary>
    private sealed class Pickle
    {
        private readonly List<byte> _b = [0x80, 0x02];
        public Pickle Op(char c) { _b.Add((byte)c); return this; }
        public Pickle Raw(params byte[] b) { _b.AddRange(b); return this; }
        public Pickle Global(string module, string name) { Op('c'); _b.AddRange(Encoding.ASCII.GetBytes(module + "\n" + name + "\n")); return this; }
        public Pickle Str(string s) { var u = Encoding.UTF8.GetBytes(s); Op('X'); _b.AddRange(BitConverter.GetBytes(u.Length)); _b.AddRange(u); return this; }
        public Pickle Int(long v) { _b.Add(0x8a); _b.Add(8); _b.AddRange(BitConverter.GetBytes(v)); return this; }
        public Pickle Mark() => Op('(');
        public Pickle Tuple() => Op('t');
        public Pickle Reduce() => Op('R');
        public Pickle False() => Raw(0x89);
        public Pickle EmptyOrderedDict() => Global("collections", "OrderedDict").Op(')').Reduce();
        public Pickle Tuple(params long[] v) { Mark(); foreach (var x in v) Int(x); return Tuple(); }

        /// <summary>Pushes _rebuild_tensor_v2(storage('0', FloatStorage, numel), offset, size, stride, False, OrderedDict()).</summary>
        public Pickle Tensor(long numel, long offset, long[] size, long[] stride, string key = "0", string storage = "FloatStorage")
        {
            Global("torch._utils", "_rebuild_tensor_v2").Mark();
            Mark().Str("storage").Global("torch", storage).Str(key).Str("cpu").Int(numel).Tuple().Op('Q');
            Int(offset).Tuple(size).Tuple(stride).False().EmptyOrderedDict().Tuple();
            return Reduce();
        }

        /// <summary>{name: tensor} as an OrderedDict, then STOP.</summary>
        public byte[] StateDict(Action<Pickle> value, string name = "w")
        {
            EmptyOrderedDict().Mark().Str(name);
            value(this);
            Op('u').Op('.');
            return [.. _b];
        }

        public byte[] Stop() { Op('.'); return [.. _b]; }
    }

    private static string WriteZip(byte[] pickle, params (string Name, byte[] Data)[] records)
    {
        var path = Path.Combine(Path.GetTempPath(), "kindling-torch-" + Guid.NewGuid().ToString("N")[..8] + ".pt");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            void Add(string name, byte[] data) { using var s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open(); s.Write(data); }
            Add("archive/data.pkl", pickle);
            foreach (var (n, d) in records) Add("archive/" + n, d);
        }
        return path;
    }

    private static string Refused(byte[] pickle, params (string, byte[])[] records)
    {
        var path = WriteZip(pickle, records);
        try { return Assert.Throws<TorchSaveException>(() => TorchSave.Load(path)).Message; }
        finally { File.Delete(path); }
    }

    private static readonly (string, byte[]) Floats16 = ("data/0", new byte[16 * 4]);

    [Fact]
    public void AHandBuiltStateDictLoads()
    {
        // The builder itself is right: a valid pickle with a 2×3 view at offset 4 of a 16-float storage.
        var data = new byte[64];
        for (int i = 0; i < 16; i++) BitConverter.GetBytes((float)i).CopyTo(data, i * 4);
        var path = WriteZip(new Pickle().StateDict(p => p.Tensor(16, 4, [2, 3], [1, 2])), ("data/0", data));
        try { Assert.Equal([4.0, 6.0, 8.0, 5.0, 7.0, 9.0], TorchSave.Load(path)["w"].ToDoubleArray()); }
        finally { File.Delete(path); }
    }

    [Fact]
    public void CodeExecutionGlobalsAreRefusedByName()
    {
        Assert.Contains("refusing global 'posix.system'", Refused(new Pickle().StateDict(p => p.Global("posix", "system").Str("echo pwned").Raw(0x85).Reduce())));
        Assert.Contains("refusing global 'builtins.eval'", Refused(new Pickle().StateDict(p => p.Str("builtins").Str("eval").Raw(0x93))));
        Assert.Contains("refusing global 'torch.load'", Refused(new Pickle().StateDict(p => p.Global("torch", "load"))));
        // An allowed type used as a function is still refused.
        Assert.Contains("REDUCE calls a storage type torch.FloatStorage", Refused(new Pickle().StateDict(p => p.Global("torch", "FloatStorage").Op(')').Reduce())));
    }

    [Fact]
    public void NestedReduceAndForbiddenOpcodesAreRefused()
    {
        // REDUCE whose callable is itself the result of a REDUCE.
        Assert.Contains("REDUCE calls a dict", Refused(new Pickle().StateDict(p => p.EmptyOrderedDict().Op(')').Reduce())));
        Assert.Contains("opcode INST (0x69) is not allowed", Refused(new Pickle().StateDict(p => p.Raw((byte)'i').Raw(Encoding.ASCII.GetBytes("os\nsystem\n")))));
        Assert.Contains("opcode NEWOBJ (0x81)", Refused(new Pickle().StateDict(p => p.Raw(0x81))));
        Assert.Contains("BUILD sets state on a tensor", Refused(new Pickle().StateDict(p => p.Tensor(16, 0, [2], [1]).Op('}').Op('b')), Floats16));
        Assert.Contains("persistent id", Refused(new Pickle().StateDict(p => p.Str("x").Op('Q'))));
    }

    [Fact]
    public void StorageSizesOffsetsAndStridesAreChecked()
    {
        Assert.Contains("claims 1000000000000000 elements", Refused(new Pickle().StateDict(p => p.Tensor(1_000_000_000_000_000, 0, [4], [1])), Floats16));
        Assert.Contains("claims 17 elements", Refused(new Pickle().StateDict(p => p.Tensor(17, 0, [4], [1])), Floats16));
        Assert.Contains("reaches element 16 of a storage of 16", Refused(new Pickle().StateDict(p => p.Tensor(16, 13, [4], [1])), Floats16));
        Assert.Contains("reaches element", Refused(new Pickle().StateDict(p => p.Tensor(16, 0, [3, 3], [8, 1])), Floats16));
        Assert.Contains("reaches element", Refused(new Pickle().StateDict(p => p.Tensor(16, 0, [3, 2], [1L << 40, 1])), Floats16));
        Assert.Contains("more than 2147483647 elements", Refused(new Pickle().StateDict(p => p.Tensor(16, 0, [1L << 20, 1L << 20], [0, 0])), Floats16));
        Assert.Contains("offset integer -1 is not a non-negative", Refused(new Pickle().StateDict(p => p.Tensor(16, -1, [4], [1])), Floats16));
        Assert.Contains("stride[0] is integer -1", Refused(new Pickle().StateDict(p => p.Tensor(16, 15, [4], [-1])), Floats16));
        Assert.Contains("size has 2 dimensions but stride has 1", Refused(new Pickle().StateDict(p => p.Tensor(16, 0, [2, 2], [1])), Floats16));
        Assert.Contains("no record 'archive/data/7'", Refused(new Pickle().StateDict(p => p.Tensor(16, 0, [4], [1], key: "7")), Floats16));
        Assert.Contains("storage key string '../0'", Refused(new Pickle().StateDict(p => p.Tensor(16, 0, [4], [1], key: "../0")), Floats16));
        Assert.Contains("byte 2, not 0 or 1", Refused(new Pickle().StateDict(p => p.Tensor(4, 0, [4], [1], storage: "BoolStorage")), ("data/0", new byte[] { 0, 1, 2, 1 })));
    }

    [Fact]
    public void AStrideZeroViewOfATinyStorageIsCheckedAgainstMemoryBeforeAllocating()
    {
        // Issue 23: one stored float viewed with stride 0 as 2·10⁹ elements (8 GB once copied) is refused, not allocated.
        var one = ("data/0", BitConverter.GetBytes(2.5f));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var m = Refused(new Pickle().StateDict(p => p.Tensor(1, 0, [2_000_000_000], [0])), one);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "the view was materialised before the check");
        Assert.Contains("view of 1 stored element as shape (2000000000) with stride (0)", m);
        Assert.Contains("contiguous", m);
        // A small expanding view is still honoured as PyTorch sees it.
        var path = WriteZip(new Pickle().StateDict(p => p.Tensor(1, 0, [2, 3], [0, 0])), one);
        try { Assert.Equal(Enumerable.Repeat(2.5, 6), TorchSave.Load(path)["w"].ToDoubleArray()); }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ACompressedStorageThatInflatesHugelyIsRefusedBeforeAllocating()
    {
        // 68 MB of zeros deflate to well under 1 MB: the claimed storage matches the record, but the file does not hold it.
        const int n = 17 << 20;
        var path = Path.Combine(Path.GetTempPath(), "kindling-torch-bomb-" + Guid.NewGuid().ToString("N")[..8] + ".pt");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using (var s = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open()) s.Write(new Pickle().StateDict(p => p.Tensor(n, 0, [n], [1])));
            using (var s = zip.CreateEntry("archive/data/0", CompressionLevel.Fastest).Open()) s.Write(new byte[4L * n]);
        }
        try
        {
            Assert.True(new FileInfo(path).Length < 1 << 20);
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.Throws<TorchSaveException>(() => TorchSave.Load(path));
            Assert.Contains("zip bomb", e.Message);
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "the storage was allocated before the check");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void MalformedPicklesAreRefused()
    {
        var ok = new Pickle().StateDict(p => p.Tensor(16, 0, [4], [1]));
        Assert.Contains("without a STOP", Refused(ok[..^1], Floats16));
        Assert.Contains("data.pkl at byte", Refused(ok[..(ok.Length / 2)], Floats16));
        Assert.Contains("bytes follow the STOP", Refused([.. ok, (byte)'N'], Floats16));
        Assert.Contains("memo entry 9 is read before it is written", Refused(new Pickle().StateDict(p => p.Raw((byte)'h', 9))));
        Assert.Contains("stack underflow", Refused(new Pickle().Op('0').Stop()));
        Assert.Contains("not a state dict", Refused(new Pickle().Raw((byte)'K', 3).Stop()));
        Assert.Contains("pickle protocol 9", Refused([0x80, 9, (byte)'N', (byte)'.']));
    }

    [Fact]
    public void DamagedArchivesAreRefused()
    {
        var good = File.ReadAllBytes(Fixture("mlp.pt"));
        var dir = Directory.CreateTempSubdirectory("kindling-torch-damaged-");
        try
        {
            string Write(string name, byte[] bytes) { var p = Path.Combine(dir.FullName, name); File.WriteAllBytes(p, bytes); return p; }
            foreach (int cut in new[] { good.Length / 2, good.Length - 10, 100 })
            {
                var e = Assert.Throws<TorchSaveException>(() => TorchSave.Load(Write($"cut{cut}.pt", good[..cut])));
                Assert.Contains($"cut{cut}.pt", e.Message);
            }
            Assert.Contains("not a torch.save file", Assert.Throws<TorchSaveException>(() => TorchSave.Load(Write("text.pt", Encoding.ASCII.GetBytes("hello world")))).Message);
            Assert.Contains("not a torch.save file", Assert.Throws<TorchSaveException>(() => TorchSave.Load(Write("empty.pt", []))).Message);
            // A storage record whose bytes were corrupted inside the zip (CRC or length no longer match).
            var flipped = (byte[])good.Clone();
            int at = IndexOf(flipped, Encoding.ASCII.GetBytes("mlp/data/0")) + 200;
            flipped[at] ^= 0xFF;
            var loadedOrRefused = Record.Exception(() => TorchSave.Load(Write("flipped.pt", flipped)));
            Assert.True(loadedOrRefused is null or TorchSaveException, loadedOrRefused?.ToString());
            // A zip without data.pkl.
            var noPkl = Path.Combine(dir.FullName, "nopkl.pt");
            using (var z = ZipFile.Open(noPkl, ZipArchiveMode.Create)) z.CreateEntry("archive/data/0");
            Assert.Contains("no data.pkl", Assert.Throws<TorchSaveException>(() => TorchSave.Load(noPkl)).Message);
        }
        finally { dir.Delete(true); }
    }

    private static int IndexOf(byte[] hay, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= hay.Length; i++)
            if (hay.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        return -1;
    }
}
