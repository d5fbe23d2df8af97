using System.Text.Json.Nodes;

namespace Kindling.Tests;

/// <summary>Reads tools/parity/attention/attention_cases.json (tools/parity/gen_attention_cases.py): tensors with NaN as null, bool masks as 0/1.</summary>
internal static class AttentionFixtures
{
    private static readonly Lazy<JsonArray> All = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, "tools", "parity", "attention", "attention_cases.json")))!["cases"]!.AsArray());

    public static IEnumerable<JsonObject> OfKind(params string[] kinds) =>
        All.Value.Select(c => c!.AsObject()).Where(c => kinds.Contains(c["kind"]!.GetValue<string>()));

    public static JsonObject Case(string name) => All.Value.Select(c => c!.AsObject()).Single(c => c["name"]!.GetValue<string>() == name);

    public static TheoryData<string> Names(params string[] kinds)
    {
        var d = new TheoryData<string>();
        foreach (var c in OfKind(kinds)) d.Add(c["name"]!.GetValue<string>());
        return d;
    }

    public static double[] Data(JsonNode n) => n["data"]!.AsArray().Select(Num).ToArray();

    private static double Num(JsonNode? v) => v == null ? double.NaN
        : v.GetValueKind() == System.Text.Json.JsonValueKind.String ? (v.GetValue<string>() == "inf" ? double.PositiveInfinity : double.NegativeInfinity)
        : v.GetValue<double>();
    public static int[] Shape(JsonNode n) => n["shape"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();

    public static Tensor T(JsonNode n, DType dtype = DType.Float64)
    {
        var shape = Shape(n);
        if (n["dtype"]?.GetValue<string>() == "bool")
            return Tensor.FromArray(n["data"]!.AsArray().Select(v => v!.GetValue<int>() != 0).ToArray(), shape);
        var t = Tensor.FromArray(Data(n), shape);
        return dtype == DType.Float64 ? t : t.To(dtype);
    }

    /// <summary>
    /// Equal to within <paramref name="tol"/> relative to max(1, the expected tensor's largest magnitude), shapes equal, and
    /// NaN exactly where the expected value is NaN.
    /// </summary>
    public static void Close(JsonNode expected, Tensor? got, double tol, string what)
    {
        Assert.True(got != null, $"{what}: no value (expected {expected["shape"]!.ToJsonString()})");
        Assert.Equal(Shape(expected), got!.Shape);
        var e = Data(expected);
        var g = got.ToDoubleArray();
        double scale = Math.Max(1, e.Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max());
        double worst = 0; int at = -1;
        for (int i = 0; i < e.Length; i++)
        {
            if (double.IsNaN(e[i]) || double.IsNaN(g[i]))
            {
                Assert.True(double.IsNaN(e[i]) && double.IsNaN(g[i]), $"{what}[{i}]: expected {e[i]}, got {g[i]} (NaN must match NaN)");
                continue;
            }
            double d = Math.Abs(e[i] - g[i]);
            if (d > worst) { worst = d; at = i; }
        }
        Assert.True(worst <= tol * scale, $"{what}: max |difference| {worst:G3} at [{at}] (expected {(at >= 0 ? e[at] : 0)}, got {(at >= 0 ? g[at] : 0)}) exceeds {tol:G3}·{scale:G3}");
    }
}
