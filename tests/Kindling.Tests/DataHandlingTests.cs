using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Kindling.IO;
using static Kindling.Tests.CliTests;

namespace Kindling.Tests;

/// <summary>
/// The command's data handling on files that reproduce what a user met on real data: official test splits, target
/// scaling, leak-free imputation, dates and identifiers, exact plateau resume, and metrics that expose a
/// majority-class model. Each file is generated here (or is a small committed derivative of scikit-learn's data).
/// </summary>
public class DataHandlingTests
{
    private static string Tmp(string name)
    {
        var d = Path.Combine(Path.GetTempPath(), "kindling-data-tests", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }

    private static JsonNode Metrics(string dir) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "test_metrics.json")))!;

    private static void Ok(Result r) => Assert.True(r.Code == 0, $"exit {r.Code}\n{r.Err}\n{r.Out}");

    private static void UserError(Result r, string fragment)
    {
        Assert.True(r.Code == 1, $"expected exit 1, got {r.Code}\n{r.Err}\n{r.Out}");
        var lines = r.Err.Trim().Split('\n');
        Assert.Single(lines);
        Assert.Contains(fragment, r.Err);
        Assert.DoesNotContain("   at ", r.Err);
    }

    // ------------------------------------------------------------------ 1. official test split

    /// <summary>Writes an IDX folder shaped like Fashion-MNIST's (28×28 images) with train and t10k files.</summary>
    private static string IdxFolder(string dir, int nTrain, int nTest, bool withTest = true)
    {
        var rng = new Random(7);
        void Write(string prefix, int n)
        {
            var labels = new byte[n];
            var images = new byte[n * 784];
            for (int i = 0; i < n; i++)
            {
                labels[i] = (byte)(i % 10);
                // Class-dependent blobs so the model can learn something; noise keeps every image distinct.
                for (int p = 0; p < 784; p++) images[i * 784 + p] = (byte)Math.Clamp((p / 78 == labels[i] ? 180 : 20) + rng.Next(60), 0, 255);
            }
            File.WriteAllBytes(Path.Combine(dir, $"{prefix}-images-idx3-ubyte"), [0, 0, 8, 3, .. BE(n), .. BE(28), .. BE(28), .. images]);
            File.WriteAllBytes(Path.Combine(dir, $"{prefix}-labels-idx1-ubyte"), [0, 0, 8, 1, .. BE(n), .. labels]);
        }
        Write("train", nTrain);
        if (withTest) Write("t10k", nTest);
        return dir;
    }

    private static byte[] BE(int v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];

    [Fact]
    public void ADatasetWithAnOfficialTestSplitIsEvaluatedOnIt()
    {
        var dir = Tmp("official");
        var data = IdxFolder(Directory.CreateDirectory(Path.Combine(dir, "idx")).FullName, 300, 70);
        var run = Path.Combine(dir, "run");
        var r = Run(["train", "--data", data, "--epochs", "2", "--hidden", "16", "--out", run]);
        Ok(r);
        // All 300 training images train or validate (none is held out as "test"); the 70 t10k images are the test set.
        Assert.Contains("270 train, 30 validation, 70 test rows (the official 70-row test set)", r.Out);
        // --test pointing at the training images themselves is refused, not scored as "test" rows.
        var trainOnly = IdxFolder(Directory.CreateDirectory(Path.Combine(dir, "trainonly")).FullName, 300, 0, withTest: false);
        UserError(Run(["train", "--data", data, "--test", trainOnly, "--epochs", "1", "--out", Path.Combine(dir, "bad")]), "is (part of) the training set");
        Assert.False(Directory.Exists(Path.Combine(dir, "bad")), "a run that fails before training leaves nothing behind");
    }

    // ------------------------------------------------------------------ 2. multi-output regression

    [Fact]
    public void EveryRegressionTargetIsScaledAndReportedInItsUnits()
    {
        var dir = Tmp("linnerud");
        var csv = Path.Combine(Repo.Root, "tests", "Kindling.Tests", "Fixtures", "data", "linnerud.csv");
        var r = Run(["train", "--data", csv, "--target", "Weight,Waist,Pulse", "--epochs", "200", "--out", dir]);
        Ok(r);
        var scale = Safetensors.Load(Path.Combine(dir, "scaler.safetensors")).Tensors;
        var mean = scale["target.mean"].ToDoubleArray();
        Assert.Equal(3, mean.Length);
        // Training means of the three targets (in their units: pounds, inches, beats per minute).
        Assert.InRange(mean[0], 150, 200); Assert.InRange(mean[1], 30, 40); Assert.InRange(mean[2], 45, 65);
        var m = Metrics(dir);
        foreach (var t in new[] { "Weight", "Waist", "Pulse" }) Assert.NotNull(m[$"rmse[{t}]"]);
        // Unscaled, the three-output model gave RMSE 114.9 on this data; scaled it is in the range of the targets' spread.
        Assert.True(m["rmse"]!.GetValue<double>() < 40, $"rmse {m["rmse"]}");
        // predict answers in the original units too.
        var pred = Path.Combine(dir, "pred.csv");
        Ok(Run(["predict", dir, "--data", csv, "--out", pred]));
        var weights = File.ReadAllLines(pred).Skip(1).Select(l => double.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        Assert.InRange(weights.Average(), 120, 230);
    }

    // ------------------------------------------------------------------ 3. imputation on the training split only

    [Fact]
    public void FillValuesComeFromTrainingRowsAndAreReusedByPredict()
    {
        var dir = Tmp("impute");
        var train = new StringBuilder("a,b,y\n");
        var rng = new Random(3);
        double sumA = 0; int nA = 0;
        for (int i = 0; i < 120; i++)
        {
            double a = Math.Round(rng.NextDouble() * 10, 3), b = Math.Round(rng.NextDouble(), 3);
            bool missing = i % 10 == 3;
            if (!missing) { sumA += a; nA++; }
            train.Append(missing ? "" : a.ToString(CultureInfo.InvariantCulture)).Append(',').Append(b.ToString(CultureInfo.InvariantCulture)).Append(',').Append(a > 5 ? 1 : 0).Append('\n');
        }
        // The test file's values in column a are huge: a fill computed over all rows would move far from the training mean.
        var test = new StringBuilder("a,b,y\n");
        for (int i = 0; i < 30; i++) test.Append(i % 2 == 0 ? "1000" : "").Append(",0.5,").Append(i % 2).Append('\n');
        File.WriteAllText(Path.Combine(dir, "train.csv"), train.ToString());
        File.WriteAllText(Path.Combine(dir, "test.csv"), test.ToString());
        var run = Path.Combine(dir, "run");
        Ok(Run(["train", "--data", Path.Combine(dir, "train.csv"), "--test", Path.Combine(dir, "test.csv"), "--target", "y", "--missing", "mean", "--val-split", "0", "--epochs", "3", "--out", run]));
        var fill = Safetensors.Load(Path.Combine(run, "scaler.safetensors")).Tensors["features.fill"].ToArray();
        Assert.Equal(sumA / nA, fill[0], 3);
        // One row with an empty cell: predict fills it with the saved value, exactly as if the user had typed it.
        File.WriteAllText(Path.Combine(dir, "one.csv"), "a,b\n,0.25\n");
        File.WriteAllText(Path.Combine(dir, "typed.csv"), $"a,b\n{fill[0].ToString("R", CultureInfo.InvariantCulture)},0.25\n");
        Ok(Run(["predict", run, "--data", Path.Combine(dir, "one.csv"), "--out", Path.Combine(dir, "p1.csv")]));
        Ok(Run(["predict", run, "--data", Path.Combine(dir, "typed.csv"), "--out", Path.Combine(dir, "p2.csv")]));
        Assert.Equal(File.ReadAllLines(Path.Combine(dir, "p2.csv")), File.ReadAllLines(Path.Combine(dir, "p1.csv")));
    }

    // ------------------------------------------------------------------ 4. dates and identifiers

    [Fact]
    public void DatesAndIdentifiersAreRefusedAndDropWorks()
    {
        var dir = Tmp("dates");
        var sb = new StringBuilder("Date,Ticker,Open,Volume,Close\n");
        var rng = new Random(11);
        double price = 100;
        for (int i = 0; i < 80; i++)
        {
            price += rng.NextDouble() - 0.5;
            sb.Append(new DateTime(2021, 1, 1).AddDays(i).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append(",T").Append(i.ToString("D3", CultureInfo.InvariantCulture))
              .Append(',').Append((price + rng.NextDouble()).ToString("F2", CultureInfo.InvariantCulture)).Append(',').Append(i % 7 == 0 ? "" : rng.Next(1000, 9000).ToString(CultureInfo.InvariantCulture))
              .Append(',').Append(price.ToString("F2", CultureInfo.InvariantCulture)).Append('\n');
        }
        var csv = Path.Combine(dir, "stock.csv");
        File.WriteAllText(csv, sb.ToString());
        UserError(Run(["train", "--data", csv, "--target", "Close", "--epochs", "1", "--out", Path.Combine(dir, "a")]), "--drop Date");
        UserError(Run(["train", "--data", csv, "--target", "Close", "--drop", "Date", "--missing", "mean", "--epochs", "1", "--out", Path.Combine(dir, "b")]), "--drop Ticker");
        var r = Run(["train", "--data", csv, "--target", "Close", "--drop", "Date,Ticker", "--missing", "mean", "--epochs", "2", "--out", Path.Combine(dir, "c")]);
        Ok(r);
        Assert.Contains(", 2 features", r.Out);
        var r2 = Run(["train", "--data", csv, "--target", "Close", "--features", "Open", "--epochs", "2", "--out", Path.Combine(dir, "d")]);
        Ok(r2);
        Assert.Contains(", 1 features", r2.Out);
    }

    // ------------------------------------------------------------------ 5. plateau resume

    [Fact]
    public void ResumeUnderThePlateauSchedulerIsExact()
    {
        var dir = Tmp("plateau");
        string[] common = ["train", "--data", "breast_cancer", "--lr", "0.01", "--scheduler", "plateau", "--epochs", "14", "--threads", "2", "--seed", "1"];
        string full = Path.Combine(dir, "full"), part = Path.Combine(dir, "part");
        Ok(Run([.. common, "--out", full]));
        var lrs = File.ReadAllLines(Path.Combine(full, "epochs.csv")).Skip(1).Select(l => l.Split(',')[5]).ToList();
        // The schedule must lower the rate after the interruption point, or this test would prove nothing.
        int reductionsAfter = Enumerable.Range(10, lrs.Count - 10).Count(i => lrs[i] != lrs[i - 1]);
        Assert.True(reductionsAfter >= 1, "plateau never lowered the rate after epoch 10: " + string.Join(" ", lrs));
        Assert.Equal(130, Run([.. common, "--out", part], new() { ["KINDLING_STOP_AFTER_STEPS"] = "66" }).Code);
        Ok(Run(["train", "--resume", part]));
        Assert.Equal(File.ReadAllBytes(Path.Combine(full, "model.safetensors")), File.ReadAllBytes(Path.Combine(part, "model.safetensors")));
        Assert.Equal(lrs, File.ReadAllLines(Path.Combine(part, "epochs.csv")).Skip(1).Select(l => l.Split(',')[5]).ToList());
        // Resuming a finished run says so and leaves its report alone.
        var report = File.ReadAllText(Path.Combine(part, "report.html"));
        var again = Run(["train", "--resume", part]);
        Ok(again);
        Assert.Contains("already finished", again.Out);
        Assert.Equal(report, File.ReadAllText(Path.Combine(part, "report.html")));
    }

    // ------------------------------------------------------------------ 6. majority-class model

    [Fact]
    public void AMajorityClassModelIsExposedByItsMetrics()
    {
        var dir = Tmp("imbalanced");
        var sb = new StringBuilder("a,b,c,y\n");
        var rng = new Random(5);
        for (int i = 0; i < 1000; i++)
        {
            int y = rng.NextDouble() < 0.06 ? 1 : 0;
            sb.Append(string.Join(',', Enumerable.Range(0, 3).Select(_ => (rng.NextDouble() - 0.5).ToString("F4", CultureInfo.InvariantCulture)))).Append(',').Append(y).Append('\n');
        }
        File.WriteAllText(Path.Combine(dir, "imb.csv"), sb.ToString());
        var run = Path.Combine(dir, "run");
        var r = Run(["train", "--data", Path.Combine(dir, "imb.csv"), "--epochs", "5", "--out", run]);
        Ok(r);
        Assert.Contains("warning: the model predicts '0' for", r.Out);
        var m = Metrics(run);
        Assert.True(m["accuracy"]!.GetValue<double>() > 0.9);
        Assert.Equal(0.5, m["balanced_accuracy"]!.GetValue<double>(), 3);
        Assert.InRange(m["roc_auc"]!.GetValue<double>(), 0, 1);
        Assert.InRange(m["pr_auc"]!.GetValue<double>(), 0, 1);
        var html = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("Per-class metrics (test)", html);
        Assert.Contains("ROC curve (test)", html);
        Assert.Contains("the model predicts", html);
        // A balanced, learnable binary task gets no such warning.
        var ok = Run(["train", "--data", "breast_cancer", "--epochs", "5", "--out", Path.Combine(dir, "bc")]);
        Ok(ok);
        Assert.DoesNotContain("the model predicts", ok.Out);
    }

    // ------------------------------------------------------------------ metric definitions (scikit-learn's)

    [Fact]
    public void MetricsFollowScikitLearnsDefinitions()
    {
        // scikit-learn's documented examples: roc_auc_score([0,0,1,1],[0.1,0.4,0.35,0.8]) = 0.75,
        // average_precision_score(same) = 0.8333…
        long[] y = [0, 0, 1, 1];
        double[] s = [0.1, 0.4, 0.35, 0.8];
        Assert.Equal(0.75, Cli.Metrics.RocAuc(y, s), 12);
        Assert.Equal(5.0 / 6, Cli.Metrics.AveragePrecision(y, s), 12);
        // Ties count one half: all scores equal gives 0.5.
        Assert.Equal(0.5, Cli.Metrics.RocAuc([0, 1, 0, 1], [1, 1, 1, 1]), 12);
        Assert.True(double.IsNaN(Cli.Metrics.RocAuc([1, 1], [0.2, 0.3])));
        // balanced_accuracy_score([0,1,0,0,1,0],[0,1,0,0,0,1]) = 0.625 (scikit-learn's example).
        var cm = Cli.Metrics.Confusion([0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 0, 1], 2);
        Assert.Equal(0.625, Cli.Metrics.BalancedAccuracy(cm), 12);
        var pc = Cli.Metrics.PerClass(cm, ["a", "b"]);
        Assert.Equal(0.75, pc[0].Recall, 12); Assert.Equal(0.75, pc[0].Precision, 12);
        Assert.Equal(0.5, pc[1].Recall, 12); Assert.Equal(0.5, pc[1].Precision, 12); Assert.Equal(2, pc[1].Support);
    }

    // ------------------------------------------------------------------ guidance and CSV reading

    [Fact]
    public void CsvDialectsAreReadAndDropsAreCounted()
    {
        var dir = Tmp("dialects");
        var rng = new Random(9);
        var sb = new StringBuilder("Exported by a lab instrument\n# a comment line\n\"sepal length\";\"petal width\";\"species\"\n");
        for (int i = 0; i < 90; i++)
        {
            int k = i % 3;
            string a = i == 5 ? "NA" : (k + rng.NextDouble()).ToString("F3", CultureInfo.InvariantCulture);
            sb.Append(a).Append(';').Append((2 * k + rng.NextDouble()).ToString("F3", CultureInfo.InvariantCulture)).Append(';').Append(new[] { "setosa", "versicolor", "virginica" }[k]).Append('\n');
        }
        var csv = Path.Combine(dir, "iris.csv");
        File.WriteAllText(csv, sb.ToString());
        var r = Run(["train", "--data", csv, "--skip-rows", "1", "--target", "species", "--missing", "drop", "--epochs", "3", "--out", Path.Combine(dir, "run")]);
        Ok(r);
        Assert.Contains("--missing drop: left out 1 of 90 rows", r.Out);
        Assert.Contains("3 distinct text labels", r.Out);
        Assert.DoesNotContain("integer labels", r.Out);
        Assert.Contains("2 features", r.Out);
        // The library's option names never leak into the command's messages.
        var err = Run(["train", "--data", csv, "--skip-rows", "1", "--target", "species", "--epochs", "1", "--out", Path.Combine(dir, "err")]);
        UserError(err, "--missing");
        Assert.DoesNotContain("MissingValueMode", err.Err);
        Assert.DoesNotContain("CsvOptions", err.Err);
    }

    [Fact]
    public void CountTargetsAreRecognisedAndPoissonPredictsCounts()
    {
        var dir = Tmp("counts");
        var rng = new Random(2);
        var sb = new StringBuilder("x1,x2,visits\n");
        for (int i = 0; i < 600; i++)
        {
            double x1 = rng.NextDouble() * 2 - 1, x2 = rng.NextDouble() * 2 - 1;
            double lambda = Math.Exp(1 + 1.2 * x1), u = rng.NextDouble(), p = Math.Exp(-lambda), cdf = p;
            int k = 0;
            while (u > cdf && k < 200) { k++; p *= lambda / k; cdf += p; }
            sb.Append(x1.ToString("F4", CultureInfo.InvariantCulture)).Append(',').Append(x2.ToString("F4", CultureInfo.InvariantCulture)).Append(',').Append(k).Append('\n');
        }
        var csv = Path.Combine(dir, "counts.csv");
        File.WriteAllText(csv, sb.ToString());
        var r = Run(["train", "--data", csv, "--target", "visits", "--epochs", "3", "--out", Path.Combine(dir, "mse")]);
        Ok(r);
        Assert.Contains("regression", r.Out);
        Assert.Contains("--loss poisson_nll models counts", r.Out);
        var run = Path.Combine(dir, "poisson");
        var p2 = Run(["train", "--data", csv, "--target", "visits", "--loss", "poisson_nll", "--epochs", "20", "--out", run]);
        Ok(p2);
        Ok(Run(["predict", run, "--data", csv, "--out", Path.Combine(dir, "pred.csv")]));
        var lines = File.ReadAllLines(Path.Combine(dir, "pred.csv"));
        Assert.Equal("row,prediction", lines[0]);
        var preds = lines.Skip(1).Select(l => double.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        Assert.All(preds, v => Assert.True(v > 0, "Poisson predictions are rates > 0 in counts"));
        Assert.InRange(preds.Average(), 1.5, 6); // the data's mean count is about e^1·I0(1.2) ≈ 3.6
    }

    [Fact]
    public void RunFoldersAreNotOverwrittenByAccident()
    {
        var dir = Tmp("overwrite");
        var run = Path.Combine(dir, "run");
        Ok(Run(["train", "--epochs", "1", "--out", run]));
        UserError(Run(["train", "--epochs", "1", "--out", run]), "--overwrite");
        Ok(Run(["train", "--epochs", "1", "--out", run, "--overwrite"]));
        // predict on an embedded dataset writes a row id first.
        Ok(Run(["predict", run, "--data", "digits", "--out", Path.Combine(dir, "p.csv")]));
        var lines = File.ReadAllLines(Path.Combine(dir, "p.csv"));
        Assert.StartsWith("row,prediction,p_0", lines[0]);
        Assert.StartsWith("1,", lines[1]);
        Assert.Equal(1798, lines.Length);
    }

    [Fact]
    public void TheReportDrawsEveryCurveAndListsEverySetting()
    {
        var dir = Tmp("report");
        var run = Path.Combine(dir, "run");
        Ok(Run(["train", "--data", "diabetes", "--epochs", "30", "--early-stopping", "2", "--scheduler", "cosine", "--batch-size", "32", "--out", run]));
        var html = File.ReadAllText(Path.Combine(run, "report.html"));
        foreach (var s in new[] { "Learning rate", "Loss per step", "Predicted vs actual", "Residuals", "Model summary", "batch size", "early stopping patience 2", "scheduler", "class weights" })
            Assert.Contains(s, html);
        Assert.True(File.Exists(Path.Combine(run, "lr.svg")) && File.Exists(Path.Combine(run, "steps.svg")));
        // The learning-rate chart plots steps.csv's lr column.
        var lrCsv = File.ReadAllLines(Path.Combine(run, "steps.csv")).Skip(1).Select(l => double.Parse(l.Split(',')[3], CultureInfo.InvariantCulture)).ToArray();
        Assert.True(lrCsv.Distinct().Count() > 1, "cosine changes the rate");
        var cmp = Path.Combine(dir, "cmp");
        Ok(Run(["compare", "--data", "digits", "--epochs", "2", "--out", cmp]));
        var chtml = File.ReadAllText(Path.Combine(cmp, "report.html"));
        Assert.DoesNotContain("→ outputs", chtml); // no placeholder where the output size belongs
        Assert.Contains("64 → 128 → 10 MLP", chtml);
    }
}
