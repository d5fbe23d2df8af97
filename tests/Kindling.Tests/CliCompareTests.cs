using System.Globalization;
using System.Text.Json.Nodes;
using System.Xml.Linq;

namespace Kindling.Tests;

/// <summary>
/// <c>kindling compare</c> end to end: several seeds, intervals, paired tests and the "best" badge only on a
/// significant winner, on the embedded data where the truth is known by construction.
/// </summary>
public class CliCompareTests
{
    private static string[] Col(string csv, string name) => CliHarness.Column(csv, name);
    private static double[] Num(string csv, string name) => CliHarness.Numbers(csv, name);

    /// <summary>The rows of report.html's comparison table that carry the "best" badge.</summary>
    private static List<string> BestRows(string dir)
    {
        var doc = XDocument.Parse(File.ReadAllText(Path.Combine(dir, "report.html")).Replace("<!DOCTYPE html>", ""));
        var table = doc.Descendants("table").First(t => (string?)t.Attribute("class") == "comparison");
        return table.Descendants("tr").Where(tr => (string?)tr.Attribute("class") == "best").Select(tr => tr.Elements("td").First().Nodes().OfType<XText>().First().Value).ToList();
    }

    [Fact]
    public void EveryLossOverSeveralSeedsWithIntervalsAndCalibration()
    {
        var dir = Path.Combine(CliHarness.Tmp("cmp-seeds"), "cmp");
        var r = CliHarness.Ok("compare", "--data", "digits", "--epochs", "2", "--seeds", "3", "--out", dir);
        // Every loss at every seed, each a run folder of its own with that seed.
        var runs = Path.Combine(dir, "runs.csv");
        Assert.Equal(["cross_entropy", "cross_entropy", "cross_entropy", "mse", "mse", "mse"], Col(runs, "loss"));
        Assert.Equal(["42", "43", "44", "42", "43", "44"], Col(runs, "seed"));
        var acc = Num(runs, "accuracy");
        for (int i = 0; i < 6; i++)
        {
            string loss = Col(runs, "loss")[i], seed = Col(runs, "seed")[i];
            var run = Path.Combine(dir, loss, "seed-" + seed);
            Assert.Equal(seed, CliHarness.Config(run)["seed"]!.ToString());
            Assert.Equal(loss, CliHarness.Config(run)["resolved_loss"]!.GetValue<string>());
            Assert.Equal(acc[i], JsonNode.Parse(File.ReadAllText(Path.Combine(run, "test_metrics.json")))!["accuracy"]!.GetValue<double>(), 12);
        }
        Assert.NotEqual(acc[0], acc[1]); // the seeds differ (initialisation and batch order), not three copies of one run
        // summary.csv: the mean of the seeds and a t-interval around it (t(0.975, 2) = 4.303).
        var summary = Path.Combine(dir, "summary.csv");
        double mean = Num(summary, "accuracy_mean")[0], sd = Num(summary, "accuracy_std")[0];
        Assert.Equal(acc.Take(3).Average(), mean, 12);
        double sample = Math.Sqrt(acc.Take(3).Sum(a => (a - mean) * (a - mean)) / 2);
        Assert.Equal(sample, sd, 12);
        Assert.Equal(mean - 4.302652729911275 * sd / Math.Sqrt(3), Num(summary, "accuracy_ci_lo")[0], 9);
        foreach (var m in new[] { "log_loss", "brier", "ece" }) Assert.All(Num(runs, m), v => Assert.InRange(v, 1e-6, 2.0));
        // The curves: the drawn mean is the mean of the seeds' validation curves, with a band around it.
        var svg = XDocument.Parse(File.ReadAllText(Path.Combine(dir, "compare_metric.svg")));
        var line = svg.Descendants().First(e => (string?)e.Attribute("data-series") == "cross_entropy");
        var drawn = ((string)line.Attribute("data-y")!).Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var perSeed = new[] { 42, 43, 44 }.Select(s => Num(Path.Combine(dir, "cross_entropy", $"seed-{s}", "epochs.csv"), "val_metric")).ToArray();
        Assert.Equal(Enumerable.Range(0, 2).Select(e => perSeed.Average(c => c[e])).ToArray(), drawn, (x, y) => Math.Abs(x - y) < 1e-12);
        Assert.Contains(svg.Descendants(), e => (string?)e.Attribute("data-band") == "cross_entropy");
        foreach (var l in new[] { "cross_entropy", "mse" }) Assert.True(File.Exists(Path.Combine(dir, $"reliability_{l}.svg")));
        var html = System.Net.WebUtility.HtmlDecode(File.ReadAllText(Path.Combine(dir, "report.html")));
        Assert.Contains("Loss comparison over 3 seeds", html);
        Assert.Contains("Paired tests", html);
        // The verdict is printed, and the badge follows the call in calls.csv, never the larger mean alone.
        var calls = Path.Combine(dir, "calls.csv");
        bool called = Col(calls, "significant")[0] == "1";
        Assert.Equal(called ? [Col(calls, "better")[0]] : new List<string>(), BestRows(dir));
        Assert.Contains(called ? "significantly higher accuracy" : "no significant difference in accuracy", r.Out);
    }

    [Fact]
    public void TheSameLossUnderTwoNamesIsNeverAWinner()
    {
        // nll on log-softmax outputs is cross-entropy: the two train the same models, so no difference may be called.
        var dir = Path.Combine(CliHarness.Tmp("cmp-same"), "cmp");
        var r = CliHarness.Ok("compare", "--data", "digits", "--epochs", "2", "--seeds", "3", "--losses", "cross_entropy,nll", "--out", dir);
        Assert.Contains("cross_entropy and nll: no significant difference in accuracy", r.Out);
        Assert.Empty(BestRows(dir));
        Assert.Equal("0", Col(Path.Combine(dir, "calls.csv"), "significant")[0]);
    }

    [Fact]
    public void AClearlyBetterLossIsCalledAndBadged()
    {
        // After two epochs L1 on softmax outputs (its gradient vanishes on confident mistakes) trails cross-entropy by
        // about ten points: a difference no seed and no test-row sample explains.
        var dir = Path.Combine(CliHarness.Tmp("cmp-better"), "cmp");
        var r = CliHarness.Ok("compare", "--data", "digits", "--epochs", "2", "--seeds", "3", "--losses", "l1,cross_entropy", "--out", dir);
        Assert.Contains("cross_entropy reaches a significantly higher accuracy than l1 here", r.Out);
        Assert.Equal(["cross_entropy"], BestRows(dir));
        Assert.Equal(["0", "1"], Col(Path.Combine(dir, "summary.csv"), "best"));
    }

    [Fact]
    public void ResultsDoNotDependOnHowManyRunsShareTheCores()
    {
        var a = Path.Combine(CliHarness.Tmp("cmp-t1"), "cmp");
        var b = Path.Combine(CliHarness.Tmp("cmp-t2"), "cmp");
        CliHarness.Ok("compare", "--data", "digits", "--epochs", "2", "--seeds", "2", "--threads", "1", "--out", a);
        CliHarness.Ok("compare", "--data", "digits", "--epochs", "2", "--seeds", "2", "--threads", "2", "--out", b);
        foreach (var m in new[] { "accuracy", "log_loss", "brier", "ece" }) Assert.Equal(Num(Path.Combine(a, "runs.csv"), m), Num(Path.Combine(b, "runs.csv"), m));
    }

    [Fact]
    public void RegressionComparesRmseAndMaeWithResiduals()
    {
        var dir = Path.Combine(CliHarness.Tmp("cmp-reg"), "cmp");
        var r = CliHarness.Ok("compare", "--data", "diabetes", "--epochs", "3", "--seeds", "2", "--out", dir);
        Assert.Equal(["mse", "l1", "huber"], Col(Path.Combine(dir, "summary.csv"), "loss"));
        foreach (var m in new[] { "rmse", "mae" })
        {
            var runs = Num(Path.Combine(dir, "runs.csv"), m);
            Assert.Equal(runs.Take(2).Average(), Num(Path.Combine(dir, "summary.csv"), m + "_mean")[0], 9);
        }
        var svg = XDocument.Parse(File.ReadAllText(Path.Combine(dir, "residuals.svg")));
        foreach (var l in new[] { "mse", "l1", "huber" })
        {
            // Each loss's residual histogram: fractions of its rows (within the drawn 0.5–99.5% range, so at most 1).
            var ys = ((string)svg.Descendants().First(e => (string?)e.Attribute("data-series") == l).Attribute("data-y")!).Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture));
            Assert.InRange(ys.Sum(), 0.95, 1.0 + 1e-9);
        }
        // The diabetes target has light tails (excess kurtosis about −0.9): said, not warned.
        Assert.Contains("the target's tails are light (excess kurtosis -0.", r.Out);
        Assert.Contains("their MAE is", r.Out);
        var pairs = File.ReadAllText(Path.Combine(dir, "pairs.csv"));
        Assert.Contains("row:rmse", pairs);
        Assert.Contains("row_paired_t:mae", pairs);
    }

    [Fact]
    public void BadSeedsAndTwiceNamedLossesAreOneLineErrors()
    {
        var r = CliTests.Run(["compare", "--seeds", "0", "--epochs", "1", "--out", Path.Combine(CliHarness.Tmp("cmp-bad"), "c")]);
        Assert.Equal(1, r.Code);
        Assert.Contains("--seeds must be between 1 and 1000, got 0", r.Err);
        r = CliTests.Run(["compare", "--losses", "mse,mse_loss", "--epochs", "1", "--out", Path.Combine(CliHarness.Tmp("cmp-bad"), "c")]);
        Assert.Equal(1, r.Code);
        Assert.Contains("names a loss twice (mse)", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
    }
}
