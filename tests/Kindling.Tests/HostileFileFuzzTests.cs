using System.Buffers.Binary;
using System.IO.Compression;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Kindling.Tests;

/// <summary>
/// Issue 12's bounded fuzz test: mutated safetensors (model, scaler, checkpoint), config.json, CSV and IDX files go
/// through the command's own loaders (eval, train --resume, train --data). Every case must end in exit 0 (the mutation
/// was harmless) or exit 1 with exactly one "error:" line and no stack trace. The hostile files are generated here
/// from a seed, nothing is stored. KINDLING_FUZZ_CASES sets the number of cases (default 60, about 6 seconds) and
/// KINDLING_FUZZ_SEED the seed.
/// </summary>
[Collection("InProcessCli")]
public class HostileFileFuzzTests(ITestOutputHelper log)
{
    private static (int Code, string Err, Exception? Crash) Cli(params string[] args)
    {
        var (r, crash) = InProcessCli.RunCatching(args);
        return (r.Code, r.Err, crash);
    }

    // ------------------------------------------------------------------ base files

    private sealed record Bases(string Run, string Csv, string CsvRun, string Idx);

    private static readonly Lazy<Bases> Base = new(() =>
    {
        var root = CliRobustnessTests.Tmp("fuzz-base");
        var run = Path.Combine(root, "run");
        var (r, crash) = InProcessCli.RunCatching(["train", "--epochs", "2", "--hidden", "8", "--out", run], new() { ["KINDLING_STOP_AFTER_STEPS"] = "5" });
        Assert.True(r.Code == 130, $"base run: {r.Code} {r.Err} {crash}");
        var rng = new Random(7);
        var sb = new StringBuilder("a,b,colour,label\n");
        string[] colours = ["red", "green", "blue"];
        for (int i = 0; i < 40; i++) sb.Append($"{rng.NextDouble():R},{rng.Next(-50, 50)},{colours[i % 3]},{i % 3}\n");
        var csv = Path.Combine(root, "base.csv");
        File.WriteAllText(csv, sb.ToString());
        var csvRun = Path.Combine(root, "csvrun");
        var cr = Cli("train", "--data", csv, "--epochs", "1", "--hidden", "4", "--out", csvRun);
        Assert.True(cr.Code == 0, $"base CSV run: {cr.Code} {cr.Err} {cr.Crash}");
        var idx = Path.Combine(root, "idx");
        Directory.CreateDirectory(idx);
        var images = new byte[16 + 40 * 784];
        BinaryPrimitives.WriteUInt32BigEndian(images, 0x0803);
        BinaryPrimitives.WriteUInt32BigEndian(images.AsSpan(4), 40);
        BinaryPrimitives.WriteUInt32BigEndian(images.AsSpan(8), 28);
        BinaryPrimitives.WriteUInt32BigEndian(images.AsSpan(12), 28);
        rng.NextBytes(images.AsSpan(16));
        var labels = new byte[8 + 40];
        BinaryPrimitives.WriteUInt32BigEndian(labels, 0x0801);
        BinaryPrimitives.WriteUInt32BigEndian(labels.AsSpan(4), 40);
        for (int i = 0; i < 40; i++) labels[8 + i] = (byte)(i % 10);
        File.WriteAllBytes(Path.Combine(idx, "train-images-idx3-ubyte"), images);
        File.WriteAllBytes(Path.Combine(idx, "train-labels-idx1-ubyte"), labels);
        return new Bases(run, csv, csvRun, idx);
    });

    // ------------------------------------------------------------------ mutators

    private static readonly string[] Numbers = ["0", "-1", "1", "2147483647", "2147483648", "4294967296", "9007199254740993", "9223372036854775807", "18446744073709551615", "1e308", "1.5", "-0"];
    private static readonly string[] Cells = ["", "NaN", "NAN", "nan", "NA", "inf", "-inf", "Infinity", "1e400", "1e39", "-1e39", "\"", "\"\"", ",", "\n", "\r\n", "x\"y", "\u00e9", "\ud83d\ude00", "0x10", "1,5", " 1 ", "9007199254740993", "-", "+", ".", "e5", new string('9', 400)];
    private static readonly string[] DTypes = ["F32", "F64", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "U16", "U32", "BOOL", "F8", "", "f32"];

    /// <summary>Byte-level damage: flips, overwrites, truncation, insertion, duplication.</summary>
    private static byte[] MutateBytes(byte[] b, Random r)
    {
        var list = new List<byte>(b);
        int rounds = 1 + r.Next(3);
        for (int k = 0; k < rounds && list.Count > 0; k++)
        {
            int at = r.Next(list.Count);
            switch (r.Next(7))
            {
                case 0: list[at] ^= (byte)(1 << r.Next(8)); break;
                case 1: list[at] = (byte)(r.Next(2) == 0 ? 0 : 0xFF); break;
                case 2: list.RemoveRange(at, list.Count - at); break;
                case 3: list.InsertRange(at, Enumerable.Range(0, 1 + r.Next(16)).Select(_ => (byte)r.Next(256))); break;
                case 4: { int len = Math.Min(list.Count - at, 1 + r.Next(64)); list.InsertRange(at, list.GetRange(at, len)); break; }
                case 5: list[Math.Min(at, Math.Max(0, Math.Min(list.Count - 1, r.Next(16))))] = (byte)r.Next(256); break; // the headers
                default: list.RemoveAt(at); break;
            }
        }
        return list.ToArray();
    }

    /// <summary>Header-aware damage to a safetensors file: numbers, dtypes, keys and the length prefix.</summary>
    private static byte[] MutateSafetensors(byte[] b, Random r)
    {
        if (r.Next(3) == 0 || b.Length < 8) return MutateBytes(b, r);
        int n = (int)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(b), (ulong)(b.Length - 8));
        var header = Encoding.UTF8.GetString(b, 8, n);
        var data = b[(8 + n)..];
        switch (r.Next(6))
        {
            case 0:
            {
                var ms = Regex.Matches(header, @"-?\d+");
                if (ms.Count > 0) { var m = ms[r.Next(ms.Count)]; header = header[..m.Index] + Numbers[r.Next(Numbers.Length)] + header[(m.Index + m.Length)..]; }
                break;
            }
            case 1:
            {
                var ms = Regex.Matches(header, "\"dtype\":\"([A-Z0-9]+)\"");
                if (ms.Count > 0) { var g = ms[r.Next(ms.Count)].Groups[1]; header = header[..g.Index] + DTypes[r.Next(DTypes.Length)] + header[(g.Index + g.Length)..]; }
                break;
            }
            case 2:
            {
                var ms = Regex.Matches(header, "\"([^\"]+)\":");
                if (ms.Count > 0) { var g = ms[r.Next(ms.Count)].Groups[1]; header = header[..g.Index] + (r.Next(2) == 0 ? "\\ud800" : g.Value + "x") + header[(g.Index + g.Length)..]; }
                break;
            }
            case 3: header = header.Replace("__metadata__", r.Next(2) == 0 ? "__metadata_" : "x"); break;
            case 4:
            {
                var ms = Regex.Matches(header, "\"(epoch|batch|step|best|bad)\":\"([^\"]*)\"");
                if (ms.Count > 0) { var g = ms[r.Next(ms.Count)].Groups[2]; header = header[..g.Index] + Numbers[r.Next(Numbers.Length)] + header[(g.Index + g.Length)..]; }
                else header = header.Replace("[", "[" + Numbers[r.Next(Numbers.Length)] + ",");
                break;
            }
            default:
            {
                var prefix = new byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)(n + r.Next(-9, 10)));
                return [.. prefix, .. b[8..]];
            }
        }
        var h = Encoding.UTF8.GetBytes(header);
        var p = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(p, (ulong)h.Length);
        return [.. p, .. h, .. data];
    }

    /// <summary>Text-level damage to a CSV or JSON file: hostile cells, removed or duplicated characters and lines.</summary>
    private static string MutateText(string s, Random r)
    {
        int rounds = 1 + r.Next(3);
        for (int k = 0; k < rounds; k++)
        {
            if (s.Length == 0) return s;
            int at = r.Next(s.Length);
            switch (r.Next(6))
            {
                case 0:
                {
                    // Replace one whole field with a hostile cell.
                    int start = s.LastIndexOfAny([',', '\n', ':'], Math.Max(0, at - 1)) + 1;
                    int end = s.IndexOfAny([',', '\n', '}'], at);
                    if (end < 0) end = s.Length;
                    if (start <= end) s = s[..start] + Cells[r.Next(Cells.Length)] + s[end..];
                    break;
                }
                case 1: s = s.Remove(at, Math.Min(s.Length - at, 1 + r.Next(8))); break;
                case 2: s = s.Insert(at, Cells[r.Next(Cells.Length)]); break;
                case 3:
                {
                    var lines = s.Split('\n').ToList();
                    int i = r.Next(lines.Count);
                    if (r.Next(2) == 0) lines.RemoveAt(i); else lines.Insert(i, lines[r.Next(lines.Count)]);
                    s = string.Join('\n', lines);
                    break;
                }
                case 4: s = s[..at]; break;
                default:
                {
                    var ms = Regex.Matches(s, @"-?\d+(\.\d+)?(e-?\d+)?");
                    if (ms.Count > 0) { var m = ms[r.Next(ms.Count)]; s = s[..m.Index] + Numbers[r.Next(Numbers.Length)] + s[(m.Index + m.Length)..]; }
                    break;
                }
            }
        }
        return s;
    }

    private static string CopyRun(string dst)
    {
        Directory.CreateDirectory(dst);
        foreach (var f in Directory.GetFiles(Base.Value.Run))
            if (Path.GetFileName(f) != ".lock") File.Copy(f, Path.Combine(dst, Path.GetFileName(f)));
        return dst;
    }

    private static byte[] Gzip(byte[] b)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(b);
        return ms.ToArray();
    }

    /// <summary>Builds case <paramref name="i"/>'s hostile input and the command that reads it.</summary>
    private static (string Kind, string[] Args) MakeCase(int i, Random r, string dir)
    {
        var b = Base.Value;
        switch (i % 6)
        {
            case 0:
            case 1:
            {
                var run = CopyRun(Path.Combine(dir, "run"));
                var file = Path.Combine(run, i % 6 == 0 ? "model.safetensors" : "scaler.safetensors");
                File.WriteAllBytes(file, MutateSafetensors(File.ReadAllBytes(file), r));
                return (Path.GetFileName(file), ["eval", run]);
            }
            case 2:
            {
                var run = CopyRun(Path.Combine(dir, "run"));
                var file = Path.Combine(run, "checkpoint.safetensors");
                File.WriteAllBytes(file, MutateSafetensors(File.ReadAllBytes(file), r));
                return ("checkpoint.safetensors", ["train", "--resume", run, "--epochs", "1"]);
            }
            case 3:
            {
                var run = CopyRun(Path.Combine(dir, "run"));
                var file = Path.Combine(run, r.Next(4) == 0 ? "steps.csv" : "config.json");
                File.WriteAllText(file, MutateText(File.ReadAllText(file), r));
                return (Path.GetFileName(file), Path.GetFileName(file) == "steps.csv" ? ["train", "--resume", run, "--epochs", "1"] : ["eval", run]);
            }
            case 4:
            {
                var csv = Path.Combine(dir, "data.csv");
                File.WriteAllText(csv, MutateText(File.ReadAllText(b.Csv), r));
                int how = r.Next(4);
                return how == 0 ? ("csv (predict)", ["predict", b.CsvRun, "--data", csv, "--out", Path.Combine(dir, "p.csv")])
                    : how == 1 ? ("csv (eval --data)", ["eval", b.CsvRun, "--data", csv])
                    : ("csv (train)", ["train", "--data", csv, "--epochs", "1", "--hidden", "4", "--missing", r.Next(2) == 0 ? "error" : "drop", "--out", Path.Combine(dir, "out")]);
            }
            default:
            {
                var folder = Path.Combine(dir, "idx");
                Directory.CreateDirectory(folder);
                bool images = r.Next(2) == 0, gz = r.Next(3) == 0;
                foreach (var name in new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte" })
                {
                    var bytes = File.ReadAllBytes(Path.Combine(b.Idx, name));
                    if (name.Contains("images") == images) bytes = MutateBytes(bytes, r);
                    if (gz) { bytes = Gzip(bytes); if (r.Next(3) == 0) bytes = MutateBytes(bytes, r); }
                    File.WriteAllBytes(Path.Combine(folder, name + (gz ? ".gz" : "")), bytes);
                }
                return (gz ? "idx.gz" : "idx", ["train", "--data", folder, "--epochs", "1", "--hidden", "4", "--out", Path.Combine(dir, "out")]);
            }
        }
    }

    [Fact]
    public void MutatedFilesEndInExitZeroOrOneLineErrors()
    {
        int cases = int.TryParse(Environment.GetEnvironmentVariable("KINDLING_FUZZ_CASES"), out var c) ? c : 60;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("KINDLING_FUZZ_SEED"), out var s) ? s : 12;
        var root = CliRobustnessTests.Tmp("fuzz");
        var rng = new Random(seed);
        int accepted = 0, rejected = 0;
        var crashes = new List<string>();
        var byKind = new Dictionary<string, (int Tried, int Rejected)>();
        for (int i = 0; i < cases; i++)
        {
            var dir = Path.Combine(root, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Directory.CreateDirectory(dir);
            var (kind, args) = MakeCase(i, rng, dir);
            var (code, err, crash) = Cli(args);
            var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            bool clean = code == 0 || code == 1 && lines.Length == 1 && lines[0].StartsWith("error: ", StringComparison.Ordinal) && !err.Contains("   at ");
            if (!clean) crashes.Add($"case {i} ({kind}, seed {seed}): exit {code}: {(crash != null ? crash.GetType().Name + ": " + crash.Message : err)}");
            else if (code == 0) accepted++;
            else rejected++;
            var k = byKind.GetValueOrDefault(kind);
            byKind[kind] = (k.Tried + 1, k.Rejected + (code == 1 && clean ? 1 : 0));
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
        log.WriteLine($"fuzz: {cases} cases, {rejected} clean rejections, {accepted} accepted (harmless mutations), {crashes.Count} crashes");
        foreach (var (kind, (tried, rej)) in byKind.OrderBy(kv => kv.Key)) log.WriteLine($"  {kind,-24} {tried,5} tried {rej,5} rejected");
        foreach (var x in crashes.Take(20)) log.WriteLine(x);
        Assert.True(crashes.Count == 0, string.Join("\n", crashes.Take(10)));
        Assert.True(rejected > cases / 3, $"only {rejected} of {cases} mutations were rejected: the mutators are not reaching the loaders");
    }
}
