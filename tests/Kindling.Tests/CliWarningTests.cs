namespace Kindling.Tests;

/// <summary>
/// The three warnings README promises (MSE on class labels, imbalanced classes without class weights, heavy-tailed
/// targets under MSE), each by its exact text on data that triggers it and by its absence on data that does not.
/// Training rows are the whole --data file (--test FILE, --val-split 0), so the counts in the text are known.
/// </summary>
public class CliWarningTests
{
    private const string MseOnLabels = "warning: mse on class labels: it trains more slowly and gives poorer probabilities than cross-entropy, whose gradient does not vanish on confident mistakes (see `kindling compare`).";
    private const string Imbalance = "warning: classes are imbalanced (200 vs 40 samples); consider --class-weights balanced or --loss focal.";
    private const string HeavyTails = "warning: the target has heavy outliers (1.0 % beyond 4 standard deviations); MSE squares them — consider --loss huber.";

    private static (string Out, string Html) Train(string dir, string data, string test, params string[] more)
    {
        var run = Path.Combine(dir, "run-" + Guid.NewGuid().ToString("N")[..6]);
        var r = CliHarness.Ok(["train", "--data", data, "--test", test, "--val-split", "0", "--epochs", "1", "--out", run, .. more]);
        return (r.Out, File.ReadAllText(Path.Combine(run, "report.html")));
    }

    /// <summary>The run's warnings, without the baseline verdicts (CliBaselineTests owns those; on these noise data they fire).</summary>
    private static string[] Warnings(string stdout) => stdout.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("warning:") && !BaselineVerdict(l)).ToArray();

    private static bool BaselineVerdict(string l) => l.StartsWith("warning: the network barely beats") || l.StartsWith("warning: the network does not clearly beat a linear model") || l.StartsWith("warning: a linear model trained the same way does significantly better");

    /// <summary>The report lists the warning's text in its warnings list (not just the CSS class every report has).</summary>
    private static void InReport(string html, string warning) =>
        Assert.Contains("<li>" + warning["warning: ".Length..] + "</li>", System.Net.WebUtility.HtmlDecode(html));

    [Fact]
    public void MseOnClassLabelsWarnsAndCrossEntropyDoesNot()
    {
        var dir = CliHarness.Tmp("warn-mse");
        // Three balanced classes (80 each).
        string Row(int i, Random r) => $"{r.NextDouble():F4},{r.NextDouble():F4},{i % 3}";
        var data = CliHarness.Csv(dir, "d.csv", "a,b,label", 240, Row);
        var test = CliHarness.Csv(dir, "t.csv", "a,b,label", 30, Row, seed: 8);
        var (mse, mseHtml) = Train(dir, data, test, "--loss", "mse");
        Assert.Equal([MseOnLabels], Warnings(mse));
        InReport(mseHtml, MseOnLabels);
        var (ce, ceHtml) = Train(dir, data, test);
        Assert.Empty(Warnings(ce));
        Assert.DoesNotContain("on class labels", ceHtml);
    }

    [Fact]
    public void ImbalancedClassesWarnUnlessWeighted()
    {
        var dir = CliHarness.Tmp("warn-imb");
        var data = CliHarness.Csv(dir, "d.csv", "a,b,label", 240, (i, r) => $"{r.NextDouble():F4},{r.NextDouble():F4},{(i % 6 == 0 ? 1 : 0)}"); // 200 vs 40
        var test = CliHarness.Csv(dir, "t.csv", "a,b,label", 30, (i, r) => $"{r.NextDouble():F4},{r.NextDouble():F4},{i % 2}", seed: 8);
        var (plain, html) = Train(dir, data, test);
        Assert.Equal([Imbalance], Warnings(plain));
        InReport(html, Imbalance);
        var (weighted, wHtml) = Train(dir, data, test, "--class-weights", "balanced");
        Assert.DoesNotContain(Warnings(weighted), w => w.Contains("imbalanced")); // (a model of noise may still answer one class: that warning is another)
        Assert.DoesNotContain("imbalanced", wHtml);
        // 3:1 is below the 4:1 threshold: no warning either.
        var mild = CliHarness.Csv(dir, "m.csv", "a,b,label", 240, (i, r) => $"{r.NextDouble():F4},{r.NextDouble():F4},{(i % 4 == 0 ? 1 : 0)}");
        Assert.DoesNotContain(Warnings(Train(dir, mild, test).Out), w => w.Contains("imbalanced"));
    }

    [Fact]
    public void HeavyTailedTargetsWarnUnderMseOnly()
    {
        var dir = CliHarness.Tmp("warn-tail");
        // 400 rows, 4 of them (1 %) far out: |y − mean| > 4σ.
        string Heavy(int i, Random r) { double a = r.NextDouble(), b = r.NextDouble(); return $"{a:F4},{b:F4},{(i % 100 == 0 ? 1000 : a + b):F4}"; }
        string Normal(int i, Random r) { double a = r.NextDouble(), b = r.NextDouble(); return $"{a:F4},{b:F4},{a + b + 0.1 * (r.NextDouble() - 0.5):F4}"; }
        var heavy = CliHarness.Csv(dir, "h.csv", "a,b,y", 400, Heavy);
        var normal = CliHarness.Csv(dir, "n.csv", "a,b,y", 400, Normal);
        var test = CliHarness.Csv(dir, "t.csv", "a,b,y", 30, Normal, seed: 8);
        var (mse, html) = Train(dir, heavy, test);
        Assert.Equal([HeavyTails], Warnings(mse));
        InReport(html, HeavyTails);
        Assert.Empty(Warnings(Train(dir, heavy, test, "--loss", "huber").Out));
        Assert.Empty(Warnings(Train(dir, normal, test).Out));
    }
}
