using System.Text.Json.Nodes;
using Kindling.NN;
using Kindling.Parity;
using Kindling.Registry;
using F = Kindling.NN.Functional;

namespace Kindling.Tests;

/// <summary>
/// log_cosh_loss against PyTorch's float64 numbers (tools/parity/gen_log_cosh_cases.py, whose reference is itself
/// checked against 50-digit mpmath): values and gradients to 1e-10 relative in float64 over random, tiny, outlier and
/// edge differences (0, 1e-300, |d| = 1 exactly, 1e300) for every reduction; the float32 path to float32 resolution;
/// finite-difference gradients across the branch point. The contract cases (cases/log_cosh_loss.jsonl) run with every
/// other loss in LossParityTests and LossModuleParityTests.
/// </summary>
public class LogCoshLossTests
{
    private static IEnumerable<JsonObject> Cases() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, "tools", "parity", "log_cosh", "float64.json")))!["cases"]!.AsArray().Select(c => c!.AsObject());

    private static void Close(double[] expected, double[] got, double rel, double abs, string what)
    {
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(got[i] - expected[i]) <= rel * Math.Abs(expected[i]) + abs || (double.IsNaN(got[i]) && double.IsNaN(expected[i])),
                $"{what}[{i}]: expected {expected[i]:R}, got {got[i]:R}");
    }

    [Fact]
    public void Float64MatchesPyTorchTo1e10()
    {
        int n = 0;
        foreach (var c in Cases())
        {
            var x = ParityRunner.ReadTensor(c["input"]!).RequiresGrad_();
            var t = ParityRunner.ReadTensor(c["target"]!).RequiresGrad_();
            Assert.Equal(DType.Float64, x.DType);
            var red = Reductions.Parse(c["reduction"]!.GetValue<string>(), "test");
            var y = F.LogCoshLoss(x, t, red);
            string id = c["id"]!.GetValue<string>();
            Close(ParityRunner.ReadTensor(c["loss"]!).ToDoubleArray(), y.ToDoubleArray(), 1e-10, 1e-300, id + " loss");
            y.Sum().Backward();
            Close(ParityRunner.ReadTensor(c["grad_input"]!).ToDoubleArray(), x.Grad!.ToDoubleArray(), 1e-10, 1e-300, id + " grad input");
            Close(ParityRunner.ReadTensor(c["grad_target"]!).ToDoubleArray(), t.Grad!.ToDoubleArray(), 1e-10, 1e-300, id + " grad target");
            n++;
        }
        Assert.Equal(12, n); // 4 input sets × 3 reductions
    }

    [Fact]
    public void Float32IsTheFloat64AnswerRounded()
    {
        foreach (var c in Cases().Where(c => c["reduction"]!.GetValue<string>() == "none" && c["id"]!.GetValue<string>() != "edges-none"))
        {
            var x = ParityRunner.ReadTensor(c["input"]!).To(DType.Float32);
            var t = ParityRunner.ReadTensor(c["target"]!).To(DType.Float32);
            // The truth for the float32 inputs themselves, from the float64 path checked above.
            var exact = F.LogCoshLoss(x.To(DType.Float64), t.To(DType.Float64), Reduction.None).ToDoubleArray();
            var got = F.LogCoshLoss(x, t, Reduction.None);
            Assert.Equal(DType.Float32, got.DType);
            Close(exact, got.ToDoubleArray(), 6e-8, 1e-45, c["id"]!.GetValue<string>()); // half an ulp of float32
            foreach (var r in new[] { Reduction.Sum, Reduction.Mean })
                Close([F.LogCoshLoss(x.To(DType.Float64), t.To(DType.Float64), r).ItemDouble()], [F.LogCoshLoss(x, t, r).ItemDouble()], 1.2e-7, 0, $"{c["id"]} {r}");
        }
    }

    [Fact]
    public void LongFloat32SumDoesNotDrift()
    {
        // 2²⁴ + 10⁶ elements of log cosh 1 ≈ 0.4338: a running float32 sum would stop growing at 2²⁴·… and be far off.
        int n = (1 << 24) + 1_000_000;
        var x = Tensor.Full([n], 1.0, DType.Float32);
        var y = F.LogCoshLoss(x, Tensor.Zeros([n], DType.Float32), Reduction.Sum).ItemDouble();
        double exact = n * (double)(float)Math.Log(Math.Cosh(1.0));
        Assert.True(Math.Abs(y - exact) <= 1e-7 * exact, $"sum {y:R}, exact {exact:R}");
    }

    [Theory]
    [InlineData(1.7)]   // both sides of the branch at |d| = 1 and around 0
    [InlineData(0.2)]
    [InlineData(30.0)]
    public void GradientsMatchFiniteDifferences(double scale)
    {
        var g = new Generator(7);
        foreach (var red in new[] { Reduction.None, Reduction.Mean, Reduction.Sum })
        {
            var x = (Tensor.Randn([4, 5], g, DType.Float64) * scale).RequiresGrad_();
            var t = (Tensor.Randn([4, 5], g, DType.Float64) * scale).RequiresGrad_();
            GradCheck.Check(a => F.LogCoshLoss(a[0], a[1], red), [x, t]);
        }
    }

    [Fact]
    public void ModuleAndRegistryComeFromTheOneDefinition()
    {
        var x = Tensor.FromArray(new[] { 0.5f, -2f, 3f }, 3);
        var t = Tensor.FromArray(new[] { 0f, 0f, 1f }, 3);
        Assert.Equal(F.LogCoshLoss(x, t, Reduction.Sum).Item(), new LogCoshLoss(Reduction.Sum).Call(x, t).Item());
        var e = Components.LossFor(LossTasks.Regression, "log_cosh")!;
        Assert.Equal("log_cosh_loss", e.Name);
        Assert.Equal(["reduction"], e.Options.Select(o => o.Name));
        Assert.Equal(F.LogCoshLoss(x, t).Item(), e.Call(e.Module(e.Values()), k => k == "input" ? x : t).Item());
        Assert.Null(Components.LossFor(LossTasks.Classification, "log_cosh"));
        Assert.Contains("log_cosh_loss: input (3,) and target (3, 1)", Assert.Throws<ArgumentException>(() => F.LogCoshLoss(x, Tensor.Zeros([3, 1]))).Message);
    }
}
