using System.Text.Json.Nodes;
using Kindling.Optim;

namespace Kindling.Tests;

/// <summary>
/// The optimizers of tools/parity/gen_optimizers.py (Adamax, ...) step by step against PyTorch 1.13 on a fixed gradient
/// sequence (zeros, scales from 1e-6 to 3, a parameter past one 4096-element block, a step without a gradient), each
/// built by the registry from its PyTorch keywords: float64 within 1e-10 of PyTorch-float64 at every step; float32
/// within 4 float32 ulps of PyTorch-float32 and no further from PyTorch-float64 than 2× PyTorch-float32 is (plus 2 ulps).
/// </summary>
public class OptimizerStepParityTests
{
    private static readonly Lazy<JsonObject> Data = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, "tools", "parity", "optim", "steps.json")))!.AsObject());

    public static IEnumerable<object[]> Configs() => Data.Value["configs"]!.AsArray().Select(c => new object[] { c!["name"]!.GetValue<string>() });

    /// <summary>The generator's gradient: ((k·2654435761 + 12345) mod 2³²)/2³² − 0.5 times the step's scale, k = (t·7919 + j)·100003 + i; 0 at every 7th element.</summary>
    private static Tensor Grad(int t, int j, int[] shape, double scale, DType dtype)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        var v = new double[n];
        for (int i = 0; i < n; i++)
        {
            ulong k = ((ulong)t * 7919 + (ulong)j) * 100003 + (ulong)i;
            v[i] = i % 7 == 0 ? 0 : ((k * 2654435761UL + 12345UL) % 4294967296UL / 4294967296.0 - 0.5) * scale;
        }
        return Tensor.FromArray(v, shape).To(dtype);
    }

    private static double[][] Run(JsonObject spec, DType dtype, out double[] final0)
    {
        var root = Data.Value;
        var shapes = root["shapes"]!.AsArray().Select(s => s!.AsArray().Select(v => v!.GetValue<int>()).ToArray()).ToArray();
        var init = root["init"]!.AsArray().Select(a => a!.AsArray().Select(v => v!.GetValue<double>()).ToArray()).ToArray();
        var scales = root["scales"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        var watch = root["watch0"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
        var ps = shapes.Select((s, j) => Tensor.FromArray(init[j], s).To(dtype).RequiresGrad_()).ToArray();
        var opt = TrainingParityTests.MakeOptimizer(spec, ps);
        var rows = new List<double[]>();
        for (int t = 0; t < root["steps"]!.GetValue<int>(); t++)
        {
            for (int j = 0; j < ps.Length; j++) ps[j].Grad = j == 1 && t == 2 ? null : Grad(t, j, shapes[j], scales[t], dtype);
            opt.Step();
            var p0 = ps[0].ToDoubleArray();
            rows.Add([.. watch.Select(i => p0[i]), .. ps[1].ToDoubleArray()]);
        }
        final0 = ps[0].ToDoubleArray();
        return rows.ToArray();
    }

    private static double[][] Expected(JsonObject c, string dtype) =>
        c[dtype]!.AsArray().Select(step => step!.AsArray().SelectMany(p => p!.AsArray().Select(v => v!.GetValue<double>())).ToArray()).ToArray();

    [Theory]
    [MemberData(nameof(Configs))]
    public void MatchesPyTorchAtEveryStepInBothPrecisions(string name)
    {
        var c = Data.Value["configs"]!.AsArray().Select(x => x!.AsObject()).First(x => x["name"]!.GetValue<string>() == name);
        var spec = c["spec"]!.AsObject();
        var (t32, t64) = (Expected(c, "float32"), Expected(c, "float64"));
        var k64 = Run(spec, DType.Float64, out var f64);
        var k32 = Run(spec, DType.Float32, out var f32);
        const double ulp = 1.1920928955078125e-7;
        for (int s = 0; s < t64.Length; s++)
            for (int i = 0; i < t64[s].Length; i++)
            {
                double e64 = t64[s][i], e32 = t32[s][i];
                Assert.True(Math.Abs(k64[s][i] - e64) <= 1e-10 * Math.Max(Math.Abs(e64), 1e-3), $"{name} float64 step {s + 1} element {i}: Kindling {k64[s][i]:R}, PyTorch {e64:R}");
                double scale = Math.Max(Math.Abs(e32), 1e-3);
                Assert.True(Math.Abs(k32[s][i] - e32) <= 4 * ulp * scale, $"{name} float32 step {s + 1} element {i}: Kindling {k32[s][i]:R}, PyTorch {e32:R}");
                Assert.True(Math.Abs(k32[s][i] - e64) <= 2 * Math.Abs(e32 - e64) + 2 * ulp * scale, $"{name} float32 step {s + 1} element {i}: Kindling {k32[s][i]:R} is further from float64 {e64:R} than 2× PyTorch-float32 {e32:R}");
            }
        // Every element of the 4100-element parameter after the last step (the watched ones above are a sample).
        var (e32f, e64f) = (c["final0_float32"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray(), c["final0_float64"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray());
        // A parameter that has crossed zero carries the rounding of its earlier size: float32's floor is the resolution at
        // the largest magnitude in the tensor (as the loss judge's), float64's 1e-10 of it.
        double big = e64f.Max(Math.Abs);
        for (int i = 0; i < e64f.Length; i++)
        {
            Assert.True(Math.Abs(f64[i] - e64f[i]) <= 1e-10 * Math.Max(Math.Abs(e64f[i]), big * 1e-3), $"{name} float64 final element {i}: {f64[i]:R} vs {e64f[i]:R}");
            Assert.True(Math.Abs(f32[i] - e32f[i]) <= 4 * ulp * Math.Abs(e32f[i]) + 2 * ulp * big, $"{name} float32 final element {i}: {f32[i]:R} vs {e32f[i]:R}");
        }
    }
}
