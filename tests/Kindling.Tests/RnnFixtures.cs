using System.Text.Json.Nodes;

namespace Kindling.Tests;

/// <summary>Reading tools/parity/rnn/*.json (written by tools/parity/gen_rnn_cases.py) and comparing with tolerance.</summary>
internal static class RnnFixtures
{
    private static readonly Dictionary<string, JsonNode> Cache = [];

    public static JsonNode Load(string file)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(file, out var n))
                Cache[file] = n = JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, "tools", "parity", "rnn", file)))!;
            return n;
        }
    }

    public static double[] D(JsonNode n) => n.AsArray().Select(v => v!.GetValue<double>()).ToArray();
    public static long[] L(JsonNode n) => n.AsArray().Select(v => v!.GetValue<long>()).ToArray();

    /// <summary>A {"shape", "data"} object as a tensor of <paramref name="dtype"/>.</summary>
    public static Tensor T(JsonNode n, DType dtype)
    {
        var shape = n["shape"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
        var t = Tensor.FromArray(D(n["data"]!), shape);
        return dtype == DType.Float64 ? t : t.To(dtype);
    }

    public static Dictionary<string, Tensor> State(JsonNode n, DType dtype) =>
        n.AsObject().ToDictionary(kv => kv.Key, kv => T(kv.Value!, dtype));

    /// <summary>|got − want| ≤ atol + rtol·|want| element by element, naming the first failure.</summary>
    public static void Close(JsonNode want, Tensor? got, double atol, double rtol, string what)
    {
        Assert.True(got != null, $"{what}: no value (expected one)");
        var shape = want["shape"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
        Assert.True(shape.SequenceEqual(got!.Shape), $"{what}: shape {Tensor.ShapeStr(got.Shape)}, PyTorch {Tensor.ShapeStr(shape)}");
        Close(D(want["data"]!), got.ToDoubleArray(), atol, rtol, what);
    }

    public static void Close(double[] want, double[] got, double atol, double rtol, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got[i]) <= atol + rtol * Math.Abs(want[i]),
                $"{what}[{i}]: Kindling {got[i]:R}, PyTorch {want[i]:R} (diff {Math.Abs(want[i] - got[i]):E2})");
    }
}
