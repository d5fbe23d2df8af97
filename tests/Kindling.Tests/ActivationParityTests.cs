using System.Text.Json.Nodes;
using Kindling.Kernels;
using Kindling.NN;
using Kindling.Registry;

namespace Kindling.Tests;

/// <summary>
/// The elementwise activations against PyTorch 1.13 (tools/parity/gen_activations.py → tools/parity/activations.json):
/// values and the gradient of Σ y·w on the kinks and edges of each function and 200 random inputs, in float64 (to the
/// last bits) and in float32 at every SIMD level (judged against PyTorch's float64 truth, allowed twice PyTorch
/// float32's own error or a few ulp), through the module and its registry entry.
/// </summary>
[Collection("Isa level")]
public class ActivationParityTests
{
    private static readonly Lazy<JsonArray> Cases = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, "tools", "parity", "activations.json")))!["cases"]!.AsArray());

    private static double[] D(JsonNode n) => n.AsArray().Select(v => v!.GetValue<double>()).ToArray();
    private static JsonNode Case(string name, string dtype) =>
        Cases.Value.First(c => c!["name"]!.GetValue<string>() == name && c["dtype"]!.GetValue<string>() == dtype)!;

    public static TheoryData<string, int> NamesAndLevels()
    {
        var d = new TheoryData<string, int>();
        foreach (var n in new[] { "hardswish", "mish", "silu", "relu", "sigmoid", "tanh", "softplus", "gelu" })
            foreach (int l in new[] { 0, 128, 256, 512 }) d.Add(n, l);
        return d;
    }

    private static (double[] y, double[] grad) Run(string name, double[] x, double[] w, DType dt)
    {
        // Through the registry's module where there is one (softplus has none: the tensor op).
        Func<Tensor, Tensor> f = Components.Activations.TryGet(name, out var e) ? e.Build().Call : t => t.Softplus();
        var xt = Tensor.FromArray(x).To(dt).Detach().RequiresGrad_();
        var y = f(xt);
        (y * Tensor.FromArray(w).To(dt)).Sum().Backward();
        return (y.ToDoubleArray(), xt.Grad!.ToDoubleArray());
    }

    [Theory]
    [InlineData("hardswish")] [InlineData("mish")] [InlineData("silu")] [InlineData("relu")]
    [InlineData("sigmoid")] [InlineData("tanh")] [InlineData("softplus")] [InlineData("gelu")]
    public void Float64MatchesPyTorch(string name)
    {
        var c = Case(name, "float64");
        var x = D(c["x"]!);
        var (y, grad) = Run(name, x, D(c["w"]!), DType.Float64);
        // GELU's erf is a rational approximation good to ~1e-16 relative, but PyTorch's is a different one: 1e-9.
        double tol = name == "gelu" ? 1e-9 : 1e-13;
        var w = D(c["w"]!);
        Compare(D(c["y"]!), y, tol, null, $"{name} float64", x);
        Compare(D(c["grad"]!), grad, tol, w, $"{name}' float64", x);

        // A derivative may cancel by nature (1 − y² near |y| = 1): the last bits of y, which differ between libms, then
        // show up ×1/(1 − y²); allowed as 4 ulp of the weight times (1 + |x|).
        static void Compare(double[] want, double[] got, double tol, double[]? w, string what, double[] x)
        {
            for (int i = 0; i < want.Length; i++)
                Assert.True(Math.Abs(want[i] - got[i]) <= tol * Math.Abs(want[i]) + (w == null ? 0 : 8.9e-16 * Math.Abs(w[i]) * (1 + Math.Abs(x[i]))) || want[i] == got[i],
                    $"{what}({x[i]:R}): {got[i]:R}, PyTorch {want[i]:R}");
        }
    }

    [SkippableTheory]
    [MemberData(nameof(NamesAndLevels))]
    public void Float32MatchesPyTorchAtEveryLevel(string name, int level)
    {
        Skip.If((IsaLevel)level > Isa.Supported, $"this CPU runs up to {Isa.Supported}");
        var c32 = Case(name, "float32");
        var x = D(c32["x"]!); var w = D(c32["w"]!);
        (double[] y, double[] grad) got;
        using (Isa.Force((IsaLevel)level)) got = Run(name, x, w, DType.Float32);
        Judge(D(c32["y64"]!), D(c32["y"]!), got.y, w, x, $"{name} float32 at {(IsaLevel)level}", grad: false);
        Judge(D(c32["grad64"]!), D(c32["grad"]!), got.grad, w, x, $"{name}' float32 at {(IsaLevel)level}", grad: true);
    }

    /// <summary>
    /// |Kindling − truth| ≤ max(2·|PyTorch float32 − truth|, 4 ulp of the truth) — and, for gradients, 2 ulp of the
    /// weight times (1 + |x|), the cancellation some derivatives have by nature (hardswish's x/3 + ½, mish near its minimum).
    /// </summary>
    private static void Judge(double[] truth, double[] torch32, double[] got, double[] w, double[] x, string what, bool grad)
    {
        for (int i = 0; i < truth.Length; i++)
        {
            double t = truth[i];
            if (double.IsNaN(t)) { Assert.True(double.IsNaN(got[i]), $"{what}({x[i]:R}): {got[i]:R}, want NaN"); continue; }
            if (Math.Abs(t) > float.MaxValue) { Assert.Equal((double)(float)t, got[i]); continue; }
            double tol = Math.Max(2 * Math.Abs(torch32[i] - t), 4 * 5.96e-8 * Math.Abs(t)) + 1e-38;
            if (grad) tol += 2 * 5.96e-8 * Math.Abs(w[i]) * (1 + Math.Abs(x[i]));
            Assert.True(Math.Abs(got[i] - t) <= tol, $"{what}({x[i]:R}): {got[i]:R}, truth {t:R}, PyTorch float32 {torch32[i]:R}");
        }
    }

    [Fact]
    public void NewActivationsAreRegisteredAndExposedAsModules()
    {
        Assert.IsType<Hardswish>(Components.Activations.Get("hardswish").Build());
        Assert.IsType<Mish>(Components.Activations.Get("mish").Build());
        Assert.Equal("HardswishBackward", Tensor.FromArray([1.0]).RequiresGrad_().Hardswish().GradFn!.Name);
        Assert.Equal("MishBackward", Tensor.FromArray([1.0]).RequiresGrad_().Mish().GradFn!.Name);
    }
}
