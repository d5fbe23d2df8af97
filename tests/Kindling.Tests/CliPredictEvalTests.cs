using System.Globalization;
using Kindling.IO;

namespace Kindling.Tests;

/// <summary>
/// predict and eval checked against an independent computation: the saved model.safetensors and scaler.safetensors
/// applied by hand (plain double loops: standardise, Linear, ReLU, Linear, softmax) to the CSV's rows.
/// </summary>
public class CliPredictEvalTests
{
    /// <summary>The run's MLP applied by hand to raw feature rows: outputs (logits or scaled values) per row.</summary>
    private static double[][] ApplyByHand(string run, double[][] rows)
    {
        var m = Safetensors.Load(Path.Combine(run, "model.safetensors")).Tensors;
        var s = Safetensors.Load(Path.Combine(run, "scaler.safetensors")).Tensors;
        var mean = s["features.mean"].ToDoubleArray();
        var std = s["features.std"].ToDoubleArray();
        double[] Layer(double[] x, string name, bool relu)
        {
            var w = m[name + ".weight"];
            var wv = w.ToDoubleArray();
            var bv = m[name + ".bias"].ToDoubleArray();
            int o = w.Size(0), i = w.Size(1);
            Assert.Equal(i, x.Length);
            var y = new double[o];
            for (int r = 0; r < o; r++)
            {
                double acc = bv[r];
                for (int c = 0; c < i; c++) acc += wv[r * i + c] * x[c];
                y[r] = relu ? Math.Max(0, acc) : acc;
            }
            return y;
        }
        return rows.Select(x => Layer(Layer(x.Select((v, j) => (v - mean[j]) / std[j]).ToArray(), "0", true), "2", false)).ToArray();
    }

    private static double[][] Features(string csv, int cols) =>
        File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',').Take(cols).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();

    private static double Metric(string stdout, string name)
    {
        var line = stdout.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith(name + " "));
        var v = line[name.Length..].Trim();
        return v.EndsWith('%') ? double.Parse(v[..^1], CultureInfo.InvariantCulture) / 100 : double.Parse(v, CultureInfo.InvariantCulture);
    }

    [Fact]
    public void ClassificationPredictionsAndEvalMatchTheModelAppliedByHand()
    {
        var dir = CliHarness.Tmp("pe-class");
        string Row(int i, Random r) { double a = r.NextDouble(), b = r.NextDouble(), c = r.NextDouble(); return $"{a:F4},{b:F4},{c:F4},{(a + b < 0.7 ? "low" : a + b < 1.3 ? "mid" : "high")}"; }
        var data = CliHarness.Csv(dir, "d.csv", "a,b,c,kind", 240, Row);
        var other = CliHarness.Csv(dir, "o.csv", "a,b,c,kind", 60, Row, seed: 11);
        var run = Path.Combine(dir, "run");
        CliHarness.Ok("train", "--data", data, "--target", "kind", "--hidden", "16", "--epochs", "3", "--out", run);
        var classes = CliHarness.Config(run)["class_names"]!.AsArray().Select(v => v!.GetValue<string>()).ToArray();
        Assert.Equal(new[] { "high", "low", "mid" }, classes);

        var pred = Path.Combine(dir, "pred.csv");
        CliHarness.Ok("predict", run, "--data", other, "--out", pred);
        var logits = ApplyByHand(run, Features(other, 3));
        var predicted = CliHarness.Column(pred, "prediction");
        Assert.Equal(60, predicted.Length);
        var truth = File.ReadAllLines(other).Skip(1).Select(l => l.Split(',')[3]).ToArray();
        double ce = 0; int right = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            double mx = logits[i].Max(), z = logits[i].Sum(v => Math.Exp(v - mx));
            var p = logits[i].Select(v => Math.Exp(v - mx) / z).ToArray();
            for (int k = 0; k < classes.Length; k++)
                Assert.Equal(p[k], double.Parse(CliHarness.Column(pred, "p_" + classes[k])[i], CultureInfo.InvariantCulture), 1e-5);
            int arg = Array.IndexOf(p, p.Max());
            Assert.Equal(classes[arg], predicted[i]);
            right += classes[arg] == truth[i] ? 1 : 0;
            ce -= Math.Log(p[Array.IndexOf(classes, truth[i])]);
        }
        var e = CliHarness.Ok("eval", run, "--data", other);
        Assert.Equal(right / 60.0, Metric(e.Out, "accuracy"), 1e-3);
        Assert.Equal(ce / 60, Metric(e.Out, "loss"), 1e-4);
    }

    [Fact]
    public void RegressionPredictionsAndEvalMatchTheModelAppliedByHand()
    {
        var dir = CliHarness.Tmp("pe-reg");
        string Row(int i, Random r) { double a = r.NextDouble(), b = r.NextDouble(); return $"{a:F4},{b:F4},{100 + 30 * a - 20 * b + 5 * r.NextDouble():F4}"; }
        var data = CliHarness.Csv(dir, "d.csv", "a,b,price", 240, Row);
        var other = CliHarness.Csv(dir, "o.csv", "a,b,price", 50, Row, seed: 12);
        var run = Path.Combine(dir, "run");
        CliHarness.Ok("train", "--data", data, "--target", "price", "--hidden", "16", "--epochs", "3", "--out", run);
        var s = Safetensors.Load(Path.Combine(run, "scaler.safetensors")).Tensors;
        double tm = s["target.mean"].ItemDouble(), ts = s["target.std"].ItemDouble();
        var pred = Path.Combine(dir, "pred.csv");
        CliHarness.Ok("predict", run, "--data", other, "--out", pred);
        var byHand = ApplyByHand(run, Features(other, 2)).Select(o => o[0] * ts + tm).ToArray();
        var got = CliHarness.Numbers(pred, "prediction");
        Assert.Equal(byHand.Length, got.Length);
        for (int i = 0; i < got.Length; i++) Assert.Equal(byHand[i], got[i], 1e-3); // values near 100: float32 output, 1e-5 relative
        var truth = File.ReadAllLines(other).Skip(1).Select(l => double.Parse(l.Split(',')[2], CultureInfo.InvariantCulture)).ToArray();
        double rmse = Math.Sqrt(byHand.Zip(truth).Average(z => (z.First - z.Second) * (z.First - z.Second)));
        double mae = byHand.Zip(truth).Average(z => Math.Abs(z.First - z.Second));
        var e = CliHarness.Ok("eval", run, "--data", other);
        Assert.Equal(rmse, Metric(e.Out, "rmse"), 1e-3);
        Assert.Equal(mae, Metric(e.Out, "mae"), 1e-3);
    }
}
