using System.Text.Json.Nodes;
using Kindling.Registry;

namespace Kindling.Tests;

/// <summary>
/// The activations of tools/parity/gen_activation_modules.py (softplus, ...) against PyTorch 1.13, each module built by the
/// registry from its name and PyTorch keywords: float64 outputs and gradients to 1e-10 relative over edges (the
/// threshold and just either side, far tails to −1000 and 1e4, ±1e-8, 0) and random inputs; float32 outputs within
/// 2 float32 ulps of PyTorch-float32; finite-difference gradients away from the threshold.
/// </summary>
public class ActivationModuleParityTests
{
    private static readonly Lazy<JsonArray> Cases = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, "tools", "parity", "activations", "cases.json")))!["cases"]!.AsArray());

    public static IEnumerable<object[]> Indices() => Enumerable.Range(0, Cases.Value.Count).Select(i => new object[] { i });

    private static double[] D(JsonNode n) => n.AsArray().Select(v => v!.GetValue<double>()).ToArray();

    private static NN.Module Build(JsonObject c) => Components.Activations.Get(c["name"]!.GetValue<string>())
        .Build(c["options"]!.AsObject().ToDictionary(kv => kv.Key, kv => (object?)kv.Value!.GetValue<double>()));

    [Theory]
    [MemberData(nameof(Indices))]
    public void MatchesPyTorchInBothPrecisions(int index)
    {
        var c = Cases.Value[index]!.AsObject();
        string what = $"{c["name"]} {c["options"]!.ToJsonString()}";
        var m = Build(c);
        var x = Tensor.FromArray(D(c["input"]!)).RequiresGrad_();
        var y = m.Call(x);
        y.Sum().Backward();
        var (ey, eg, gy, gg) = (D(c["output"]!), D(c["grad"]!), y.ToDoubleArray(), x.Grad!.ToDoubleArray());
        for (int i = 0; i < ey.Length; i++)
        {
            Assert.True(Math.Abs(gy[i] - ey[i]) <= 1e-10 * Math.Abs(ey[i]) + 1e-300, $"{what} float64 output at x = {x.ToDoubleArray()[i]:R}: {gy[i]:R} vs {ey[i]:R}");
            Assert.True(Math.Abs(gg[i] - eg[i]) <= 1e-10 * Math.Abs(eg[i]) + 1e-300, $"{what} float64 gradient at x = {x.ToDoubleArray()[i]:R}: {gg[i]:R} vs {eg[i]:R}");
        }
        var x32 = Tensor.FromArray(D(c["input32"]!).Select(v => (float)v).ToArray());
        var (e32, g32) = (D(c["output32"]!), m.Call(x32).ToDoubleArray());
        for (int i = 0; i < e32.Length; i++)
            Assert.True(Math.Abs(g32[i] - e32[i]) <= 2 * 1.1920928955078125e-7 * Math.Abs(e32[i]) + 1e-45, $"{what} float32 output at x = {x32.ToDoubleArray()[i]:R}: {g32[i]:R} vs {e32[i]:R}");
        // Finite differences on random inputs (a kink-free region: the threshold is where PyTorch switches formulas).
        var xr = (Tensor.Randn([3, 7], new Generator((ulong)index + 5), DType.Float64) * 3).RequiresGrad_();
        GradCheck.Check(a => m.Call(a[0]), [xr]);
    }
}
