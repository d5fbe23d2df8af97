using System.Diagnostics;
using System.Globalization;
using Kindling.Data;
using Kindling.IO;
using Kindling.NN;
using Kindling.Report;

namespace Kindling.Cli;

/// <summary>A baseline's test figures beside the network's.</summary>
public sealed record BaselineRow(string Name, string What, Evaluation Eval, double? CrossEntropyBits);

/// <summary>The network against its baselines on one set of rows, and the one line that says when it does not beat them.</summary>
public sealed class BaselineReport
{
    public required List<BaselineRow> Rows { get; init; }
    /// <summary>Classification: entropy H(Y) of the training labels in bits.</summary>
    public double? EntropyBits { get; init; }
    /// <summary>Classification: 1 − CE(model)/CE(prior) on these rows, the share of the label uncertainty the features explain.</summary>
    public double? Explained { get; init; }
    public List<string> Verdicts { get; init; } = [];
    public double LinearSeconds { get; init; }
}

/// <summary>
/// Honest baselines for every train and eval: the trivial predictor (the training labels' prior — majority class — or
/// the training mean and median), a linear model trained by the same pipeline (no hidden layer; same loss, optimizer,
/// learning rate, batch size and number of epochs, keeping the epoch of lowest validation loss), and for classification
/// the entropy H(Y) of the training labels against the model's test cross-entropy (an estimate of H(Y | X)).
/// </summary>
/// <remarks>
/// Each trivial predictor is a Linear layer with zero weights whose bias is the constant (log prior for classes, logit of
/// the label frequency for one logit or multi-label, the mean or median in the model's output units), so baselines and
/// network go through the very same <see cref="Evaluation.Run"/> and their metrics are the same figures by construction.
/// They are saved in the run folder (baseline_*.safetensors), which is how <c>eval</c> shows them on any data.
/// </remarks>
public static class Baselines
{
    private const string Trivial = "baseline_trivial.safetensors", Median = "baseline_median.safetensors", Linear = "baseline_linear.safetensors";

    /// <summary>After training: fits and saves the baselines, evaluates them on the test rows, writes baselines.json.</summary>
    public static BaselineReport? FitAndEvaluate(string dir, TrainResult r, Problem p, LossChoice loss, TrainConfig c)
    {
        double seconds = Fit(dir, p, loss, c, r.Epochs.Count);
        var b = Evaluate(dir, r.Model, r.Test, p, loss, p.XTest, p.YTest, seconds);
        if (b == null) return null;
        var json = new System.Text.Json.Nodes.JsonObject
        {
            ["entropy_bits"] = b.EntropyBits, ["explained"] = b.Explained, ["linear_seconds"] = seconds, ["network_seconds"] = r.Seconds,
            ["verdicts"] = new System.Text.Json.Nodes.JsonArray(b.Verdicts.Select(v => (System.Text.Json.Nodes.JsonNode?)v).ToArray()),
        };
        foreach (var row in b.Rows)
        {
            var o = new System.Text.Json.Nodes.JsonObject();
            foreach (var (k, v) in row.Eval.Metrics) o[k] = v;
            o["loss"] = row.Eval.Loss;
            if (row.CrossEntropyBits is { } ce) o["cross_entropy_bits"] = ce;
            json[row.Name] = o;
        }
        RunFiles.WriteAtomic(Path.Combine(dir, "baselines.json"), json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        return b;
    }

    /// <summary>
    /// eval: the baselines saved with the run, on the rows being evaluated; a run without them (older Kindling) shows
    /// nothing, and a damaged baseline file is a warning (the model's own evaluation above stands).
    /// </summary>
    public static void ShowForEval(Output output, string run, Sequential model, Evaluation e, Problem p, LossChoice loss, string set)
    {
        try { if (Evaluate(run, model, e, p, loss, p.XTest, p.YTest) is { } b) Show(output, b, set); }
        catch (UserError u) { output.Warning("baselines not shown: " + u.Message); }
    }

    /// <summary>The console's baseline table and its verdict lines.</summary>
    public static void Show(Output output, BaselineReport b, string set)
    {
        output.Table($"baselines ({set})", ConsoleRows(b), "model", "metrics");
        foreach (var v in b.Verdicts) output.Warning(v);
    }

    /// <summary>Fits the trivial predictors and trains the linear model; writes them into <paramref name="dir"/>.</summary>
    public static double Fit(string dir, Problem p, LossChoice loss, TrainConfig c, int epochs)
    {
        int inputs = p.XTrain.Size(1);
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["loss"] = loss.Name };
        if (p.IsClassLike) meta["entropy_bits"] = EntropyBits(p.YTrain.ToInt64Array(), p.NumClasses).ToString("R", CultureInfo.InvariantCulture);
        Safetensors.SaveModule(Path.Combine(dir, Trivial), Constant(inputs, TrivialBias(p, loss, median: false)), meta);
        if (p.Task == "regression") Safetensors.SaveModule(Path.Combine(dir, Median), Constant(inputs, TrivialBias(p, loss, median: true)), meta);
        var sw = Stopwatch.StartNew();
        var linear = TrainLinear(p, loss, c, epochs);
        if (linear != null) Safetensors.SaveModule(Path.Combine(dir, Linear), linear, meta);
        return sw.Elapsed.TotalSeconds;
    }

    /// <summary>The baselines saved in <paramref name="dir"/> evaluated on <paramref name="x"/>, beside the network's evaluation.</summary>
    public static BaselineReport? Evaluate(string dir, Sequential network, Evaluation net, Problem p, LossChoice loss, RowSet x, Tensor y, double linearSeconds = double.NaN)
    {
        string trivialPath = Path.Combine(dir, Trivial);
        if (!File.Exists(trivialPath)) return null;
        int inputs = x.Size(1), outputs = loss.Outputs;
        // A damaged baseline file is one line about that file (RunFolder.Guard), like any other file of the run.
        Sequential Load(string path) => RunFolder.Guard(path, () => { var m = Constant(inputs, new float[outputs]); Safetensors.LoadModule(path, m); return m; });
        var trivialFile = RunFolder.Guard(trivialPath, () => Safetensors.Load(trivialPath));
        double? hy = trivialFile.Metadata.TryGetValue("entropy_bits", out var h) && double.TryParse(h, NumberStyles.Float, CultureInfo.InvariantCulture, out var hv) && hv >= 0 ? hv : null;
        var rows = new List<BaselineRow> { new("network", "the trained model", net, Bits(network, p, x, y)) };
        if (File.Exists(Path.Combine(dir, Linear)))
        {
            var lin = Load(Path.Combine(dir, Linear));
            rows.Add(new("linear", "no hidden layer, same loss and optimizer", Evaluation.Run(lin, loss, p, x, y), Bits(lin, p, x, y)));
        }
        var trivial = Load(trivialPath);
        rows.Add(new(p.IsClassLike ? "prior" : p.Task == "multilabel" ? "majority" : "mean",
            p.IsClassLike ? "the training class frequencies (majority class)" : p.Task == "multilabel" ? "each label's majority value" : "the training mean", Evaluation.Run(trivial, loss, p, x, y), Bits(trivial, p, x, y)));
        if (File.Exists(Path.Combine(dir, Median)))
            rows.Add(new("median", "the training median", Evaluation.Run(Load(Path.Combine(dir, Median)), loss, p, x, y), null));
        double? explained = rows[0].CrossEntropyBits is { } ce && rows.First(r => r.Name == "prior").CrossEntropyBits is { } prior && prior > 0 ? 1 - ce / prior : null;
        var report = new BaselineReport { Rows = rows, EntropyBits = hy, Explained = p.IsClassLike ? explained : null, LinearSeconds = linearSeconds };
        report.Verdicts.AddRange(Verdicts(report, network, rows.Any(r => r.Name == "linear") ? Load(Path.Combine(dir, Linear)) : null, p, x, y, loss.Name));
        return report;
    }

    /// <summary>The lines that say the network does not clearly beat the linear model, or barely beats the trivial one.</summary>
    private static IEnumerable<string> Verdicts(BaselineReport b, Sequential network, Sequential? linear, Problem p, RowSet x, Tensor y, string lossName)
    {
        var net = b.Rows[0];
        var lin = b.Rows.FirstOrDefault(r => r.Name == "linear");
        var trivial = b.Rows[linear != null ? 2 : 1];
        string metric = net.Eval.Main.Name;
        string Show(double v) => Trainer.Show(metric, v);
        if (lin != null && linear != null)
        {
            // A paired test on the same rows: McNemar's exact test on right/wrong (classes), a paired t on squared errors (values).
            PairedTest t = p.Task == "regression"
                ? CompareStatistics.RowSquaredErrorTest([Residuals(network, p, x, y, lossName)], [Residuals(linear, p, x, y, lossName)])
                : CompareStatistics.RowVoteTest([Right(network, p, x, y)], [Right(linear, p, x, y)]);
            bool better = p.Task == "regression" ? t.Difference < 0 : t.Difference > 0;
            string figures = $"test {metric} {Show(net.Eval.Main.Value)} vs {Show(lin.Eval.Main.Value)} " +
                $"({(p.Task == "regression" ? "paired t-test on squared errors" : "McNemar's exact test")}, {CompareSummary.P(t.P)}, n = {t.N} {(p.Task == "regression" ? "test rows" : $"test row{(t.N == 1 ? "" : "s")} where they disagree")})";
            if (t.P < CompareStatistics.Alpha && !better)
                yield return $"a linear model trained the same way does significantly better than the network: {figures}; the hidden layers hurt here (fewer --hidden units, --weight-decay or --dropout, or a linear model).";
            else if (!(better && t.P < CompareStatistics.Alpha))
                yield return $"the network does not clearly beat a linear model trained the same way: {figures}; the difference is within what chance explains on these rows, so a linear model may do as well here.";
        }
        if (p.IsClassLike && b.Explained is { } e && (e < 0.1 || net.Eval.Main.Value - trivial.Eval.Main.Value < 0.02))
            yield return $"the network barely beats predicting the class prior: accuracy {Show(net.Eval.Main.Value)} vs {Show(trivial.Eval.Main.Value)} for always answering the majority class, " +
                $"and it explains {Pct(e)} of the label uncertainty (test cross-entropy {net.CrossEntropyBits:F3} vs {trivial.CrossEntropyBits:F3} bits for the prior).";
        if (p.Task == "regression" && net.Eval.Metrics.TryGetValue("r2", out var r2) && r2 < 0.1)
            yield return $"the network barely beats predicting the training mean: R² {r2:F3} (RMSE {net.Eval.Main.Value:G4} vs {trivial.Eval.Main.Value:G4} for the mean).";
        if (p.Task == "multilabel" && net.Eval.Main.Value - trivial.Eval.Main.Value < 0.02)
            yield return $"the network barely beats predicting each label's majority value: subset accuracy {Show(net.Eval.Main.Value)} vs {Show(trivial.Eval.Main.Value)}.";
    }

    /// <summary>The console table's rows: each model's headline metrics (and cross-entropy in bits for classes).</summary>
    public static List<(string Key, string Value)> ConsoleRows(BaselineReport b)
    {
        var rows = b.Rows.Select(r => (r.Name, string.Join("  ", Shown(r.Eval).Select(kv => $"{kv.Key} {Trainer.Show(kv.Key, kv.Value)}"))
            + (r.CrossEntropyBits is { } ce ? $"  cross-entropy {ce:F3} bits" : ""))).ToList();
        if (b.EntropyBits is { } h)
            rows.Add(("H(Y)", $"{h:F3} bits (training labels); the features explain {Pct(b.Explained)} of the label uncertainty (1 − the network's test cross-entropy / the prior's)"));
        return rows;
    }

    /// <summary>The report's small table.</summary>
    public static ReportTable Table(BaselineReport b, string set)
    {
        var keys = Shown(b.Rows[0].Eval).Select(kv => kv.Key).ToList();
        bool bits = b.Rows.Any(r => r.CrossEntropyBits != null);
        var header = new List<string> { "model" }.Concat(keys).Concat(bits ? ["cross-entropy (bits)"] : []).Append("what it is").ToList();
        var rows = b.Rows.Select(r => (IReadOnlyList<string>)new List<string> { r.Name }
            .Concat(keys.Select(k => r.Eval.Metrics.TryGetValue(k, out var v) ? Trainer.Show(k, v) : "–"))
            .Concat(bits ? [r.CrossEntropyBits is { } ce ? ce.ToString("F3", CultureInfo.InvariantCulture) : "–"] : [])
            .Append(r.What).ToList()).ToList();
        string note = b.EntropyBits is { } h
            ? $"H(Y) of the training labels: {h:F3} bits. The network's test cross-entropy is {Pct(1 - b.Explained)} of the prior's, so its features explain {Pct(b.Explained)} of the label uncertainty (H(Y) vs H(Y | X))."
            : "The trivial predictors are the training mean and median; R² is 0 for the mean by definition on the training rows.";
        if (double.IsFinite(b.LinearSeconds)) note += $" The linear model trained in {b.LinearSeconds:F2} s.";
        return new ReportTable($"Baselines ({set})", header, rows, note);
    }

    private static IEnumerable<KeyValuePair<string, double>> Shown(Evaluation e) =>
        e.Metrics.Where(kv => kv.Key is "accuracy" or "balanced_accuracy" or "macro_f1" or "rmse" or "mae" or "r2" or "subset_accuracy" or "hamming_accuracy");

    private static string Pct(double? v) => v is { } x && double.IsFinite(x) ? (x * 100).ToString("F1", CultureInfo.InvariantCulture) + "%" : "–";

    /// <summary>Entropy of the labels' empirical distribution in bits.</summary>
    public static double EntropyBits(long[] y, int k)
    {
        var counts = new double[k];
        foreach (var v in y) counts[v]++;
        return -counts.Where(c => c > 0).Sum(c => c / y.Length * Math.Log2(c / y.Length));
    }

    /// <summary>−(1/N) Σ log₂ p(yᵢ | xᵢ) for class-like tasks; null otherwise.</summary>
    private static double? Bits(Sequential m, Problem p, RowSet x, Tensor y) =>
        p.IsClassLike ? Calibration.LogLoss(Evaluation.Probabilities(Evaluation.Predict(m, x)).ToDoubleArray(), y.ToInt64Array(), Math.Max(2, p.NumClasses)) / Math.Log(2) : null;

    private static bool[] Right(Sequential m, Problem p, RowSet x, Tensor y)
    {
        var o = Evaluation.Predict(m, x);
        if (p.IsClassLike) return Evaluation.Classes(o).Zip(y.ToInt64Array(), (a, b) => a == b).ToArray();
        var pr = o.ToArray(); var t = y.ToArray(); int k = y.Size(1);
        return Enumerable.Range(0, y.Size(0)).Select(i => Enumerable.Range(0, k).All(j => (pr[i * k + j] > 0 ? 1f : 0f) == t[i * k + j])).ToArray();
    }

    private static double[] Residuals(Sequential m, Problem p, RowSet x, Tensor y, string lossName)
    {
        var truth = p.Prep.UnscaleTarget(y.Rank == 1 ? y.Reshape(-1, 1) : y).ToArray();
        var pred = Evaluation.ToTargetUnits(Evaluation.Predict(m, x), lossName, p.Prep).ToArray();
        return truth.Zip(pred, (a, b) => (double)a - b).ToArray();
    }

    private static Sequential Constant(int inputs, float[] bias)
    {
        var lin = new NN.Linear(inputs, bias.Length, generator: new Generator(0));
        using (Autograd.NoGrad())
        {
            lin.Weight.Zero_();
            lin.Bias!.CopyFrom(Tensor.FromArray(bias));
        }
        return new Sequential(lin);
    }

    /// <summary>The constant the trivial predictor outputs, in the model's output units.</summary>
    private static float[] TrivialBias(Problem p, LossChoice loss, bool median)
    {
        const double floor = 1e-12;
        if (p.IsClassLike)
        {
            int k = p.NumClasses;
            var counts = new double[k];
            foreach (var label in p.YTrain.ToInt64Array()) counts[label]++;
            double n = counts.Sum();
            if (loss.Outputs == 1) return [(float)Math.Log(Math.Max(counts[1], floor) / Math.Max(counts[0], floor))];
            return counts.Select(c => (float)Math.Log(Math.Max(c / n, floor))).ToArray();
        }
        var y = p.YTrain.Rank == 1 ? p.YTrain.Reshape(-1, 1) : p.YTrain;
        int cols = y.Size(1), rows = y.Size(0);
        var v = y.ToArray();
        var col = Enumerable.Range(0, cols).Select(j => Enumerable.Range(0, rows).Select(i => (double)v[i * cols + j]).ToArray()).ToArray();
        if (p.Task == "multilabel")
            return col.Select(c => { double f = c.Average(); return (float)Math.Log(Math.Max(f, floor) / Math.Max(1 - f, floor)); }).ToArray();
        double Centre(double[] c) { var s = c.Order().ToArray(); return median ? (s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2])) : c.Average(); }
        // Poisson regression outputs a log-rate: the constant is the log of the mean (median) count.
        return col.Select(c => (float)(LossChoice.IsPoisson(loss.Name) ? Math.Log(Math.Max(Centre(c), floor)) : Centre(c))).ToArray();
    }

    /// <summary>
    /// A linear model trained like the network: same loss, optimizer, learning rate, batch size and shuffling (no
    /// scheduler, no dropout). A linear model needs more steps than the network at the same learning rate (Adam at 1e-3
    /// moves each weight by at most about 1e-3 a step, and a wide hidden layer has many paths), and a baseline left
    /// undertrained would flatter the network, so it runs for the network's epochs or 4,000 steps, whichever is more,
    /// stopping once the validation loss (without a validation split: the epoch's mean training loss) has not improved
    /// for 10 epochs, and keeps the best epoch. A linear step costs a fraction of a network step. Null if it diverged at once.
    /// </summary>
    private static Sequential? TrainLinear(Problem p, LossChoice loss, TrainConfig c, int epochs)
    {
        var lc = c with { Hidden = [], Dropout = 0, BatchNorm = false, Model = "mlp", Init = null };
        var (model, _) = ModelFactory.Build(p.XTrain.Size(1), loss.Outputs, lc);
        var opt = Trainer.MakeOptimizer(lc, model);
        int n = p.XTrain.Size(0), bs = Math.Min(c.BatchSize, n);
        var loader = new DataLoader(p.XTrain, bs, shuffle: c.Shuffle, generator: new Generator(c.Seed ^ 0xBA5E11AEUL));
        int steps = (n + bs - 1) / bs;
        int cap = Math.Max(epochs, (4000 + steps - 1) / steps);
        double best = double.PositiveInfinity;
        int bad = 0;
        Dictionary<string, Tensor>? kept = null;
        for (int e = 0; e < cap && bad < 10; e++)
        {
            double sum = 0; int seen = 0;
            foreach (var (xb, yb) in loader)
            {
                opt.ZeroGrad();
                var l = loss.Fn(model.Call(xb), yb);
                double lv = l.ItemDouble();
                if (!double.IsFinite(lv)) return kept == null ? null : Restore(model, kept);
                l.Backward();
                opt.Step();
                sum += lv * xb.Size(0); seen += xb.Size(0);
            }
            double v = sum / seen;
            if (p.XVal != null)
                using (Autograd.NoGrad()) v = loss.Fn(Evaluation.Predict(model, p.XVal), p.YVal!).ItemDouble(); // the loss alone: no metrics needed here
            if (v < best - 1e-12) { best = v; bad = 0; kept = model.StateDict(); } else bad++;
        }
        return kept == null ? model : Restore(model, kept);
    }

    private static Sequential Restore(Sequential m, Dictionary<string, Tensor> state) { m.LoadStateDict(state); return m; }
}
