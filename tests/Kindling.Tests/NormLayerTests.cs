using System.Text.Json.Nodes;
using Kindling.NN;

namespace Kindling.Tests;

/// <summary>
/// BatchNorm1d and LayerNorm against PyTorch 1.13 (tools/parity/gen_norm_cases.py → tools/parity/norm/norm_cases.json):
/// outputs, gradients of input, weight and bias, running statistics and num_batches_tracked over several training steps,
/// evaluation mode and back; in float64 to 1e-10 and in float32 within its rounding. And every backward against float64
/// finite differences.
/// </summary>
public class NormLayerTests
{
    private static readonly Lazy<JsonArray> Cases = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, "tools", "parity", "norm", "norm_cases.json")))!["cases"]!.AsArray());

    public static TheoryData<string> CaseNames()
    {
        var d = new TheoryData<string>();
        foreach (var c in Cases.Value) d.Add(c!["name"]!.GetValue<string>());
        return d;
    }

    private static Tensor T(JsonNode n, DType dtype)
    {
        var shape = n["shape"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
        var data = n["data"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        var t = Tensor.FromArray(data, shape.Length == 0 ? [] : shape);
        return dtype == DType.Float64 ? t : t.ToFloat32();
    }

    private static (Module M, Tensor? W, Tensor? B, BatchNorm1d? Bn) Build(JsonObject c, DType dtype)
    {
        var cfg = c["config"]!;
        Module m;
        Tensor? w, b;
        BatchNorm1d? bn = null;
        if (c["module"]!.GetValue<string>() == "BatchNorm1d")
        {
            bn = new BatchNorm1d(cfg["num_features"]!.GetValue<int>(), cfg["eps"]!.GetValue<double>(), cfg["momentum"]?.GetValue<double>(), cfg["affine"]!.GetValue<bool>(), dtype);
            (m, w, b) = (bn, bn.Weight, bn.Bias);
        }
        else
        {
            var ln = new LayerNorm(cfg["normalized_shape"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray(), cfg["eps"]!.GetValue<double>(), cfg["elementwise_affine"]!.GetValue<bool>(), dtype);
            (m, w, b) = (ln, ln.Weight, ln.Bias);
        }
        Assert.Equal(w != null, c["init"]!["weight"] != null);
        if (w != null)
            using (Autograd.NoGrad()) { w.CopyFrom(T(c["init"]!["weight"]!, dtype)); b!.CopyFrom(T(c["init"]!["bias"]!, dtype)); }
        return (m, w, b, bn);
    }

    /// <summary>
    /// float64: within 1e-10 relative to the tensor's largest value; float32: within 2e-5 of it (a few float32 roundings
    /// of normalised values of order 1, amplified by 1/σ of the batch).
    /// </summary>
    private static void Close(JsonNode expected, Tensor got, DType dtype, string what)
    {
        var e = expected["data"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        Assert.Equal(expected["shape"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray(), got.Shape.ToArray());
        var g = got.ToDoubleArray();
        double scale = Math.Max(1, e.Select(Math.Abs).DefaultIfEmpty(0).Max());
        double tol = (dtype == DType.Float64 ? 1e-10 : 2e-5) * scale;
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(g[i] - e[i]) <= tol, $"{what}[{i}]: {g[i]:R} but PyTorch {e[i]:R} (allowed {tol:E1})");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void MatchesPyTorchStepByStep(string name)
    {
        var c = Cases.Value.Single(x => x!["name"]!.GetValue<string>() == name)!.AsObject();
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            var (m, w, b, bn) = Build(c, dtype);
            int k = 0;
            foreach (var s in c["steps"]!.AsArray())
            {
                string at = $"{name} {dtype} step {k++}";
                bool training = s!["training"]!.GetValue<bool>();
                if (training) m.Train(); else m.Eval();
                Assert.Equal(training, m.Training);
                var x = T(s["input"]!, dtype).RequiresGrad_();
                if (w != null) { w.Grad = null; b!.Grad = null; }
                var y = m.Call(x);
                (y * T(s["grad_output"]!, dtype)).Sum().Backward();
                Close(s["output"]!, y, dtype, at + " output");
                Close(s["grad_input"]!, x.Grad!, dtype, at + " grad input");
                if (w != null)
                {
                    Close(s["grad_weight"]!, w.Grad!, dtype, at + " grad weight");
                    Close(s["grad_bias"]!, b!.Grad!, dtype, at + " grad bias");
                }
                if (bn != null)
                {
                    Close(s["running_mean"]!, bn.RunningMean, dtype, at + " running_mean");
                    Close(s["running_var"]!, bn.RunningVar, dtype, at + " running_var");
                    Assert.Equal(s["num_batches_tracked"]!.GetValue<long>(), bn.NumBatchesTracked.ToInt64Array()[0]);
                }
            }
        }
    }

    private static Tensor Rn(ulong seed, params int[] shape) => (Tensor.Randn(shape, new Generator(seed), DType.Float64) * 2 + 0.5).Detach().RequiresGrad_();

    /// <summary>
    /// BatchNorm1d's backward (through the functional form it runs on) against float64 finite differences, for the input,
    /// weight and bias: training (batch statistics) and evaluation (running statistics), (N, C) and (N, C, L), with and
    /// without affine.
    /// </summary>
    [Theory]
    [InlineData(true, 2, true)]
    [InlineData(true, 3, true)]
    [InlineData(false, 2, true)]
    [InlineData(false, 3, true)]
    [InlineData(true, 3, false)]
    public void BatchNormGradcheck(bool training, int rank, bool affine)
    {
        var rm = Tensor.FromArray(new[] { 0.3, -0.5, 1.2 });
        var rv = Tensor.FromArray(new[] { 0.7, 2.5, 1.1 });
        var x = rank == 2 ? Rn(1, 5, 3) : Rn(2, 4, 3, 2);
        if (!affine) { GradCheck.Check(a => Functional.BatchNorm(a[0], rm.Clone(), rv.Clone(), training: training), [x]); return; }
        GradCheck.Check(a => Functional.BatchNorm(a[0], rm.Clone(), rv.Clone(), a[1], a[2], training, 0.1, 1e-3), [x, Rn(3, 3), Rn(4, 3)]);
    }

    /// <summary>LayerNorm's backward (its functional form) against float64 finite differences for input, weight and bias.</summary>
    [Theory]
    [InlineData(new[] { 4, 6 }, new[] { 6 }, true)]
    [InlineData(new[] { 2, 3, 4 }, new[] { 3, 4 }, true)]
    [InlineData(new[] { 2, 2, 3, 2 }, new[] { 2, 3, 2 }, true)]
    [InlineData(new[] { 3, 5 }, new[] { 5 }, false)]
    public void LayerNormGradcheck(int[] shape, int[] normalized, bool affine)
    {
        var x = Rn(5, shape);
        if (!affine) { GradCheck.Check(a => Functional.LayerNorm(a[0], normalized, eps: 1e-3), [x]); return; }
        GradCheck.Check(a => Functional.LayerNorm(a[0], normalized, a[1], a[2], 1e-3), [x, Rn(6, normalized), Rn(7, normalized)]);
    }

    [Fact]
    public void LayerNormModuleIsItsFunctionalFormInBothModes()
    {
        var ln = new LayerNorm([3, 4], dtype: DType.Float64);
        using (Autograd.NoGrad()) { ln.Weight!.CopyFrom(Rn(8, 3, 4)); ln.Bias!.CopyFrom(Rn(9, 3, 4)); }
        var x = Rn(10, 2, 3, 4);
        var f = Functional.LayerNorm(x, [3, 4], ln.Weight, ln.Bias).ToDoubleArray();
        Assert.Equal(f, ln.Call(x).ToDoubleArray());
        ln.Eval();
        Assert.Equal(f, ln.Call(x).ToDoubleArray());
        Assert.Contains("must end with the normalized shape (3, 4)", Assert.Throws<ArgumentException>(() => ln.Call(Rn(11, 2, 4, 3))).Message);
    }

    [Fact]
    public void BatchNorm1dRefusesABadMomentumAndOneValuePerChannel()
    {
        Assert.Contains("momentum must be in [0, 1] or null", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNorm1d(3, momentum: 1.5)).Message);
        var bn = new BatchNorm1d(3);
        Assert.Contains("more than 1 value per channel", Assert.Throws<ArgumentException>(() => bn.Call(Tensor.Ones(1, 3))).Message);
        Assert.Equal(0, bn.NumBatchesTracked.ToInt64Array()[0]); // a refused batch is not counted
        bn.Eval();
        Assert.Equal(new[] { 1, 3 }, bn.Call(Tensor.Ones(1, 3)).Shape.ToArray()); // one row is fine with running statistics
    }
}
