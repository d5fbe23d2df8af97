using System.Globalization;
using System.Text.Json.Nodes;

namespace Kindling.Tests;

/// <summary>
/// Honest baselines in every train and eval: the trivial predictor, a linear model trained the same way, and H(Y) against
/// the model's cross-entropy; on data built so the truth is known (a separate --test file and no validation split, so the
/// training rows are exactly the data file's).
/// </summary>
public class CliBaselineTests
{
    private static string F(double v) => CliHarness.F(v);

    private static (string Train, string Test) Files(string dir, string header, Func<int, Random, string> row, int n = 300)
        => (CliHarness.Csv(dir, "train.csv", header, n, row, seed: 3), CliHarness.Csv(dir, "test.csv", header, n / 2, row, seed: 4));

    private static JsonNode Baselines(string run) => JsonNode.Parse(File.ReadAllText(Path.Combine(run, "baselines.json")))!;

    [Fact]
    public void NoiseLabelsAreCalledNoBetterThanThePriorWithExactEntropy()
    {
        var dir = CliHarness.Tmp("base-noise");
        // Labels independent of the features: 70% 'a', 30% 'b' in expectation; the run must say it barely beats the prior.
        var (train, test) = Files(dir, "x1,x2,label", (_, r) => $"{F(r.NextDouble())},{F(r.NextDouble())},{(r.NextDouble() < 0.7 ? "a" : "b")}");
        var run = Path.Combine(dir, "run");
        var r = CliHarness.Ok("train", "--data", train, "--test", test, "--val-split", "0", "--epochs", "5", "--out", run);
        var labels = File.ReadAllLines(train).Skip(1).Select(l => l.Split(',')[2]).ToArray();
        double pa = labels.Count(l => l == "a") / (double)labels.Length;
        double hy = -(pa * Math.Log2(pa) + (1 - pa) * Math.Log2(1 - pa));
        var b = Baselines(run);
        Assert.Equal(hy, b["entropy_bits"]!.GetValue<double>(), 12);
        // The prior predicts the training majority ('a') everywhere: its test accuracy is the share of 'a' in the test file,
        // and its cross-entropy the prior's log-loss on the test labels, in bits.
        var testLabels = File.ReadAllLines(test).Skip(1).Select(l => l.Split(',')[2]).ToArray();
        double share = testLabels.Count(l => l == "a") / (double)testLabels.Length;
        Assert.Equal(share, b["prior"]!["accuracy"]!.GetValue<double>(), 12);
        double priorBits = testLabels.Average(l => -Math.Log2(l == "a" ? pa : 1 - pa));
        Assert.Equal(priorBits, b["prior"]!["cross_entropy_bits"]!.GetValue<double>(), 5);
        // The network's row repeats test_metrics.json (the same evaluation), and the verdict is printed with the figures.
        var tm = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "test_metrics.json")))!;
        Assert.Equal(tm["accuracy"]!.GetValue<double>(), b["network"]!["accuracy"]!.GetValue<double>());
        Assert.Contains("warning: the network barely beats predicting the class prior: accuracy", r.Out);
        Assert.Contains("H(Y)", r.Out);
        Assert.Contains("Baselines (test)", File.ReadAllText(Path.Combine(run, "report.html")));
        // eval shows the same table from the saved baselines.
        var e = CliHarness.Ok("eval", run);
        Assert.Contains("baselines (test)", e.Out);
        Assert.Contains("the network barely beats predicting the class prior", e.Out);
    }

    [Fact]
    public void RegressionOnNoiseIsCalledNoBetterThanTheMean()
    {
        var dir = CliHarness.Tmp("base-mean");
        var (train, test) = Files(dir, "x1,x2,y", (_, r) => $"{F(r.NextDouble())},{F(r.NextDouble())},{F(10 + 3 * r.NextDouble())}");
        var run = Path.Combine(dir, "run");
        var r = CliHarness.Ok("train", "--data", train, "--test", test, "--val-split", "0", "--epochs", "5", "--out", run);
        double mean = File.ReadAllLines(train).Skip(1).Average(l => double.Parse(l.Split(',')[2], CultureInfo.InvariantCulture));
        var ys = File.ReadAllLines(test).Skip(1).Select(l => double.Parse(l.Split(',')[2], CultureInfo.InvariantCulture)).ToArray();
        double rmse = Math.Sqrt(ys.Average(y => (y - mean) * (y - mean)));
        var b = Baselines(run);
        Assert.Equal(rmse, b["mean"]!["rmse"]!.GetValue<double>(), 4); // float32 targets and outputs
        var sorted = File.ReadAllLines(train).Skip(1).Select(l => double.Parse(l.Split(',')[2], CultureInfo.InvariantCulture)).Order().ToArray();
        double median = 0.5 * (sorted[149] + sorted[150]);
        Assert.Equal(ys.Average(y => Math.Abs(y - median)), b["median"]!["mae"]!.GetValue<double>(), 4);
        Assert.Contains("warning: the network barely beats predicting the training mean: R²", r.Out);
    }

    [Fact]
    public void ALinearTruthIsSaidAndANonlinearOneIsNot()
    {
        var dir = CliHarness.Tmp("base-linear");
        // y = 2·x1 − x2 + small noise: a linear model is the truth, so the network cannot clearly beat it.
        var (train, test) = Files(dir, "x1,x2,y", (_, r) => { double a = r.NextDouble(), c = r.NextDouble(); return $"{F(a)},{F(c)},{F(2 * a - c + 0.05 * (r.NextDouble() - 0.5))}"; });
        var r1 = CliHarness.Ok("train", "--data", train, "--test", test, "--val-split", "0", "--epochs", "40", "--out", Path.Combine(dir, "lin"));
        Assert.Matches("warning: (the network does not clearly beat a linear model trained the same way|a linear model trained the same way does significantly better than the network)", r1.Out);
        // The baseline is trained, not left halfway: its RMSE is at the noise floor (uniform noise of width 0.05: sd 0.0144).
        Assert.InRange(Baselines(Path.Combine(dir, "lin"))["linear"]!["rmse"]!.GetValue<double>(), 0.0130, 0.0165);
        // XOR of two signs: no linear model does better than chance, the network does, and nothing is said.
        var xdir = CliHarness.Tmp("base-xor");
        var (xt, xs) = Files(xdir, "x1,x2,label", (_, r) =>
        {
            double a = r.NextDouble() * 2 - 1, c = r.NextDouble() * 2 - 1;
            return $"{F(a)},{F(c)},{(a * c > 0 ? "same" : "differ")}";
        }, n: 600);
        var xrun = Path.Combine(xdir, "run");
        var r2 = CliHarness.Ok("train", "--data", xt, "--test", xs, "--val-split", "0", "--epochs", "60", "--out", xrun);
        var b = Baselines(xrun);
        Assert.True(b["network"]!["accuracy"]!.GetValue<double>() > b["linear"]!["accuracy"]!.GetValue<double>() + 0.2, r2.Out);
        Assert.DoesNotContain("linear model", string.Join('\n', r2.Out.Split('\n').Where(l => l.StartsWith("warning:"))));
    }
}
