using System.Globalization;
using Kindling.Data;
using Kindling.IO;
using Kindling.NN;
using Kindling.Report;

namespace Kindling.Cli;

/// <summary>What each subcommand does.</summary>
public static class Commands
{
    private static string Version => typeof(Tensor).Assembly.GetName().Version?.ToString(3) ?? "0";

    private static string DefaultOut(string prefix = "") => Path.Combine("runs", prefix + DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));

    public static int Train(TrainConfig c, bool resume)
    {
        var output = new Output();
        if (LanguageModelRun.Applies(c)) return LanguageModelTrain.Run(c, resume, output);
        OptionChecks.Check(c);
        // Under mpirun every rank trains; only rank 0 prints and writes (creates, locks) the run folder (see Program.cs and Trainer).
        bool main = Kindling.Distributed.Distributed.IsMain;
        int world = Kindling.Distributed.Distributed.WorldSize;
        var recorded = c.DataSha256;
        if (main && !resume && c.Out != null && !c.Overwrite && File.Exists(Path.Combine(c.Out, "config.json")))
            throw new UserError($"--out '{c.Out}' already holds a run; pass --overwrite to replace it, or --resume {c.Out} to continue it.");
        bool created = main && (c.Out == null || !Directory.Exists(c.Out));
        var dir = resume ? c.Out! : main ? RunFolder.CreateAndLock(c.Out) : c.Out ?? DefaultOut();
        if (resume && main) RunFolder.Lock(dir, "--resume");
        if (main) RunFiles.EnsureWritable(dir);
        bool started = false;
        try
        {
            var p = ProblemBuilder.Build(c);
            if (resume && recorded != null && recorded != p.DataSha256)
                throw new UserError($"--resume {dir}: the data '{c.Data}' differs from the data the run was trained on (its SHA-256 changed), so the run cannot continue on the same split.");
            var loss = LossChoice.Choose(p, c);
            OptionChecks.CheckModelSize(p.XTrain.Size(1), loss.Outputs, p.XTrain.Size(0), c);
            if (resume && FinishedRun(dir, c) is { } done) { output.Info(done); return 0; }
            c = ResolveEpochs(c, p, output);
            c = c with
            {
                Out = dir, ResolvedTask = p.Task, ResolvedLoss = loss.Name, ClassNames = p.ClassNames, FeatureNames = p.FeatureNames,
                TargetNames = p.TargetNames, Outputs = loss.Outputs, KindlingVersion = Version, DataSha256 = p.DataSha256, WorldSize = world,
            };
            if (!resume && main) RunFiles.WriteAtomic(Path.Combine(dir, "config.json"), c.ToJson());
            output.Info($"data: {c.Data} — {p.XTrain.Size(0)} train, {p.XVal?.Size(0) ?? 0} validation, {p.XTest.Size(0)} test rows ({p.TestSource}), {p.XTrain.Size(1)} features");
            foreach (var note in p.Notes) output.Info(note);
            foreach (var w in p.Warnings) output.Warning(w);
            output.Info($"loss: {loss.Why}");
            foreach (var w in loss.Warnings) output.Warning(w);
            output.Info($"model: {CnnModel.Describe(c, p.XTrain.Size(1), loss.Outputs)}, {c.Optimizer} lr {c.LearningRate:G3}, batch {c.BatchSize}, {c.Epochs} epochs{(c.EarlyStopping > 0 ? $" (early stopping after {c.EarlyStopping} without improvement)" : "")}, {c.Threads} threads" +
                (world > 1 ? $" per process × {world} processes (each takes its share of every batch of {c.BatchSize})" : ""));
            var (summaryModel, _) = ModelFactory.Build(p.XTrain.Size(1), loss.Outputs, c);
            var layers = ModelSummary.Of(summaryModel, [p.XTrain.Size(1)]);
            output.Table($"model summary ({layers.Sum(l => l.Parameters):N0} parameters)", layers.Select(l => ($"{l.Name}: {l.Layer}", $"{l.OutputShape}  {l.Parameters:N0} params")).ToList(), "layer", "output shape, parameters");
            if (main) p.Prep.Save(Path.Combine(dir, "scaler.safetensors"));
            started = true;
            var r = Trainer.Run(c, p, loss, dir, output, resume);
            if (!main) return r.Interrupted ? 130 : 0;
            Safetensors.SaveModule(Path.Combine(dir, "model.safetensors"), r.Model, new Dictionary<string, string> { ["format"] = "pt", ["task"] = p.Task, ["loss"] = loss.Name });
            Trainer.WriteCurves(dir, r.Epochs, r.Steps);
            if (!r.Interrupted) WriteTestMetrics(dir, r.Test);
            var baselines = r.Interrupted ? null : Baselines.FitAndEvaluate(dir, r, p, loss, c);
            var diagnosis = Diagnose(c, r);
            WriteRunReport(dir, c, p, loss, r, layers, [.. diagnosis, .. baselines?.Verdicts ?? []], baselines == null ? null : Baselines.Table(baselines, "test"));
            if (r.Interrupted)
            {
                output.Info($"interrupted: checkpoint saved in {dir}; continue with: kindling train --resume {dir}");
                return 130;
            }
            ShowTest(output, p, r.Test);
            if (baselines != null) Baselines.Show(output, baselines, "test");
            foreach (var d in diagnosis) output.Warning(d);
            output.Info($"trained in {r.Seconds:F1}s ({r.SamplesPerSecond:N0} samples/s); run folder: {dir} (model.safetensors, epochs.csv, steps.csv, loss.svg, metric.svg, report.html)");
            return 0;
        }
        catch (UserError) when (created && !started && !resume)
        {
            // A run that fails before training leaves nothing behind.
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>--resume on a run whose epochs are all done: say so and leave its files alone.</summary>
    private static string? FinishedRun(string dir, TrainConfig c)
    {
        var metrics = Path.Combine(dir, "test_metrics.json");
        var epochs = Trainer.ReadEpochs(Path.Combine(dir, "epochs.csv"));
        if (!File.Exists(metrics) || epochs.Count == 0 || epochs[^1].Epoch < c.Epochs && !StoppedEarly(dir)) return null;
        return $"{dir} already finished its {epochs[^1].Epoch} epochs; nothing to resume (its report is unchanged). To train further, pass a larger --epochs with --resume.";
    }

    private static bool StoppedEarly(string dir)
    {
        try
        {
            var m = Safetensors.Load(Path.Combine(dir, "checkpoint.safetensors")).Metadata;
            return m.TryGetValue("stopped_early", out var v) && v == "1";
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException or ArgumentException) { return false; }
    }

    /// <summary>
    /// --epochs 0 (the default) means auto: about 4,000 optimizer steps, between 10 and 200 epochs, so small data is not
    /// undertrained and large data does not run for hours; with a validation split, training then stops after 10
    /// epochs without improvement of the validation loss (unless --early-stopping says otherwise) and keeps the best weights.
    /// </summary>
    public static TrainConfig ResolveEpochs(TrainConfig c, Problem p, Output output)
    {
        if (c.Epochs != 0) return c;
        if (c.BatchSize <= 0) throw new UserError($"--batch-size must be positive, got {c.BatchSize}.");
        long steps = Math.Max(1, ((long)p.XTrain.Size(0) + c.BatchSize - 1) / c.BatchSize);
        int epochs = (int)Math.Clamp(Math.Round(4000.0 / steps), 10, 200);
        // A validation set of a handful of rows is noise: early stopping on it would stop at random, so it needs 30 rows.
        int patience = c.EarlyStopping == 0 && p.XVal is { } xv && xv.Size(0) >= 30 ? 10 : c.EarlyStopping;
        output.Info($"epochs: auto — {epochs} ({steps} steps per epoch, about 4,000 steps in all, 10 to 200 epochs){(patience > 0 ? $", stopping once the validation loss has not improved for {patience} epochs" : "")}; --epochs N sets it");
        return c with { Epochs = epochs, EarlyStopping = patience };
    }

    /// <summary>
    /// Reads the loss curves the way the source material's FAQ teaches: validation loss still falling at the end means
    /// undertrained; validation loss rising for several epochs while training loss falls means overfitting.
    /// </summary>
    public static List<string> Diagnose(TrainConfig c, TrainResult r)
    {
        var notes = new List<string>();
        var e = r.Epochs;
        if (e.Count < 3 || r.Interrupted) return notes;
        bool hasVal = e.All(x => double.IsFinite(x.ValLoss));
        var v = hasVal ? e.Select(x => x.ValLoss).ToArray() : e.Select(x => x.TrainLoss).ToArray();
        string which = hasVal ? "validation" : "training";
        int best = Array.IndexOf(v, v.Min());
        int after = v.Length - 1 - best;
        if (hasVal && after >= 3 && v[^1] - v[best] > 0.02 * Math.Abs(v[best]) && e[^1].TrainLoss < e[best].TrainLoss)
            notes.Add($"overfitting: the validation loss rose for {after} epochs after its minimum at epoch {e[best].Epoch} ({v[best]:F4} → {v[^1]:F4}) while the training loss kept falling" +
                (r.StoppedEarly ? $"; early stopping kept epoch {e[best].Epoch}'s weights." : $". --early-stopping 5 keeps the best epoch's weights; --dropout 0.2 or --weight-decay 1e-4 reduce overfitting."));
        else if (!r.StoppedEarly && best >= v.Length - 1 && v[^3] - v[^1] > 0.005 * Math.Abs(v[^1]))
            notes.Add($"undertrained: the {which} loss was still falling at the last epoch ({v[^3]:F4} → {v[^1]:F4} over the last 3 epochs); more --epochs (now {c.Epochs}) would likely help.");
        return notes;
    }

    internal static void WriteTestMetrics(string dir, Evaluation e)
    {
        var json = System.Text.Json.JsonSerializer.Serialize(e.Metrics.Append(new("loss", e.Loss)).ToDictionary(kv => kv.Key, kv => kv.Value), TrainConfig.Json);
        RunFiles.WriteAtomic(Path.Combine(dir, "test_metrics.json"), json);
    }

    private static void ShowTest(Output output, Problem p, Evaluation e)
    {
        output.Table("test metrics", e.Metrics.Select(kv => (kv.Key, Trainer.Show(kv.Key, kv.Value))).Append(("loss", e.Loss.ToString("F4", CultureInfo.InvariantCulture))).ToList());
        if (e.PerClass.Count > 0 && e.PerClass.Count <= 20)
            output.Table("per class (test)", e.PerClass.Select(k => (k.Name, $"precision {k.Precision:F3}  recall {k.Recall:F3}  F1 {k.F1:F3}  support {k.Support}")).ToList(), "class", "scores");
        if (e.Confusion != null) output.Confusion(e.Confusion, p.ClassNames);
        foreach (var w in e.Warnings) output.Warning(w);
    }

    private static string MetricLabel(string m) => m switch { "accuracy" => "accuracy", "rmse" => "RMSE", "subset_accuracy" => "subset accuracy", _ => m };

    private static void WriteRunReport(string dir, TrainConfig c, Problem p, LossChoice loss, TrainResult r, List<LayerRow> layers, List<string> diagnosis, ReportTable? baselines = null)
    {
        var ep = r.Epochs.Select(e => (double)e.Epoch).ToList();
        double? mark = r.StoppedEarly && r.BestEpoch > 0 ? r.BestEpoch : null;
        var lossSvg = SvgPlot.LineChart("Loss per epoch", "epoch", $"{loss.Name} loss",
        [
            new Series("train", ep, r.Epochs.Select(e => e.TrainLoss).ToList()),
            new Series("validation", ep, r.Epochs.Select(e => e.ValLoss).ToList(), Dashed: true),
        ], markX: mark, markLabel: "early stopping kept this epoch");
        var metricSvg = SvgPlot.LineChart($"{MetricLabel(r.MetricName)} per epoch", "epoch", MetricLabel(r.MetricName),
        [
            new Series("train", ep, r.Epochs.Select(e => e.TrainMetric).ToList()),
            new Series("validation", ep, r.Epochs.Select(e => e.ValMetric).ToList(), Dashed: true),
        ], markX: mark, markLabel: "early stopping kept this epoch");
        RunFiles.WriteAtomic(Path.Combine(dir, "loss.svg"), lossSvg);
        RunFiles.WriteAtomic(Path.Combine(dir, "metric.svg"), metricSvg);
        var st = Thin(r.Steps, 2000);
        var stepSvg = SvgPlot.LineChart("Loss per step (training batches)", "step", $"{loss.Name} loss",
            [new Series("batch loss", st.Select(s => (double)s.Step).ToList(), st.Select(s => s.Loss).ToList())]);
        var lrSvg = SvgPlot.LineChart("Learning rate", "step", "learning rate",
            [new Series("lr", st.Select(s => (double)s.Step).ToList(), st.Select(s => s.Lr).ToList())]);
        RunFiles.WriteAtomic(Path.Combine(dir, "steps.svg"), stepSvg);
        RunFiles.WriteAtomic(Path.Combine(dir, "lr.svg"), lrSvg);
        var charts = new List<ReportChart>
        {
            new(lossSvg, "Training and validation loss." + (mark != null ? $" The dashed line marks epoch {mark}, whose weights early stopping kept." : "")),
            new(metricSvg, $"Training and validation {MetricLabel(r.MetricName)}."),
            new(stepSvg, "Loss of each training batch (in training mode, with dropout): the per-step figures of steps.csv."),
            new(lrSvg, $"Learning rate per step (scheduler: {c.Scheduler})."),
        };
        if (r.Test.Roc is { } roc && r.Test.Pr is { } pr)
        {
            charts.Add(new(SvgPlot.LineChart($"ROC curve (test), AUC {r.Test.Metrics["roc_auc"]:F3}", "false-positive rate", "true-positive rate",
                [new Series("model", roc.Select(q => q.X).ToList(), roc.Select(q => q.Y).ToList()), new Series("chance", [0.0, 1.0], [0.0, 1.0], Dashed: true)]),
                $"ROC curve of the positive class '{p.ClassNames[1]}' on the test set."));
            charts.Add(new(SvgPlot.LineChart($"Precision–recall curve (test), average precision {r.Test.Metrics["pr_auc"]:F3}", "recall", "precision",
                [new Series("model", pr.Select(q => q.X).ToList(), pr.Select(q => q.Y).ToList())]),
                $"Precision against recall of the positive class '{p.ClassNames[1]}' as the threshold falls."));
        }
        if (r.Test.Values is var (allTruth, allPred))
        {
            // At most ~5,000 points (every k-th test row): a scatter of 200,000 points makes a report of tens of MB.
            int every = Math.Max(1, (allTruth.Length + 4999) / 5000);
            float[] truth = allTruth.Where((_, i) => i % every == 0).ToArray(), pred = allPred.Where((_, i) => i % every == 0).ToArray();
            double lo = Math.Min(truth.Min(), pred.Min()), hi = Math.Max(truth.Max(), pred.Max());
            charts.Add(new(SvgPlot.LineChart("Predicted vs actual (test)", $"actual {p.TargetNames.FirstOrDefault()}", "predicted",
                [new Series("test rows", truth.Select(v => (double)v).ToList(), pred.Select(v => (double)v).ToList(), Markers: true), new Series("perfect", [lo, hi], [lo, hi], Dashed: true)]),
                "Each test row's prediction against its true value (original units); points on the dashed line are exact."));
            charts.Add(new(SvgPlot.LineChart("Residuals (test)", "predicted", "actual − predicted",
                [new Series("test rows", pred.Select(v => (double)v).ToList(), truth.Zip(pred).Select(z => (double)(z.First - z.Second)).ToList(), Markers: true), new Series("zero", [pred.Min(), pred.Max()], [0.0, 0.0], Dashed: true)]),
                "Residuals against predictions: a trend or a funnel shape means the model misses structure or the noise depends on the value."));
        }
        var tables = new List<ReportTable>();
        if (r.Test.PerClass.Count > 0)
            tables.Add(new ReportTable("Per-class metrics (test)", ["class", "precision", "recall", "F1", "support"],
                r.Test.PerClass.Select(k => (IReadOnlyList<string>)[k.Name, F3(k.Precision), F3(k.Recall), F3(k.F1), k.Support.ToString(CultureInfo.InvariantCulture)]).ToList()));
        if (baselines != null) tables.Add(baselines);
        tables.Add(new ReportTable($"Model summary ({layers.Sum(l => l.Parameters):N0} parameters)", ["layer", "output shape", "parameters"],
            layers.Select(l => (IReadOnlyList<string>)[$"{l.Name}: {l.Layer}", l.OutputShape, l.Parameters.ToString("N0", CultureInfo.InvariantCulture)]).ToList()));
        var last = r.Epochs.LastOrDefault();
        var model = new ReportModel
        {
            Title = $"Kindling run: {c.Data}",
            RunName = dir,
            Date = DateTimeOffset.Now,
            Summary = RunSummary(c, p, loss, r),
            Warnings = [.. p.Warnings, .. loss.Warnings, .. r.Test.Warnings, .. diagnosis],
            Charts = charts,
            FinalMetrics = r.Test.Metrics.Select(kv => new MetricRow(kv.Key,
                kv.Key == r.MetricName ? last?.TrainMetric : null, kv.Key == r.MetricName ? last?.ValMetric : null, kv.Value))
                .Prepend(new MetricRow("loss", last?.TrainLoss, last?.ValLoss, r.Test.Loss)).ToList(),
            Tables = tables,
            Confusion = r.Test.Confusion != null ? new ConfusionMatrix(r.Test.Confusion, p.ClassNames) : null,
        };
        RunFiles.WriteAtomic(Path.Combine(dir, "report.html"), HtmlReport.Build(model));
    }

    private static string F3(double v) => v.ToString("F3", CultureInfo.InvariantCulture);

    /// <summary>At most about <paramref name="max"/> evenly spaced steps, so a long run's step chart stays small.</summary>
    private static List<StepRow> Thin(List<StepRow> steps, int max)
    {
        if (steps.Count <= max) return steps;
        int every = (steps.Count + max - 1) / max;
        return steps.Where((_, i) => i % every == 0 || i == steps.Count - 1).ToList();
    }

    /// <summary>Every setting that shaped the run, as the report's summary lists them.</summary>
    private static List<(string, string)> RunSummary(TrainConfig c, Problem p, LossChoice loss, TrainResult r) =>
    [
        ("task", p.Task), ("loss", loss.Why), ("model", CnnModel.Describe(c, p.XTrain.Size(1), loss.Outputs) +
            (c.BatchNorm ? ", BatchNorm1d" : "") + (c.Dropout > 0 ? $", dropout {c.Dropout:G3}" : "")),
        ("optimizer", $"{c.Optimizer}, lr {c.LearningRate:G3}{(c.Optimizer == "sgd" ? $", momentum {c.Momentum:G3}" : "")}, weight decay {c.WeightDecay:G3}{(c.L1 > 0 ? $", L1 {c.L1:G3}" : "")}"),
        ("scheduler", c.Scheduler), ("batch size", c.BatchSize.ToString(CultureInfo.InvariantCulture)),
        ("epochs", $"{r.Epochs.Count} of {c.Epochs}" + (c.EarlyStopping > 0 ? $"; early stopping patience {c.EarlyStopping}" + (r.StoppedEarly ? $", stopped and kept epoch {r.BestEpoch}" : ", not triggered") : "")),
        ("class weights", c.ClassWeights), ("label smoothing", c.LabelSmoothing.ToString("G3", CultureInfo.InvariantCulture)),
        ("data", $"{c.Data}: {p.XTrain.Size(0)} train, {p.XVal?.Size(0) ?? 0} validation, {p.XTest.Size(0)} test ({p.TestSource})"),
        ("preprocessing", $"--scale {c.Scale}, --missing {c.Missing}{(c.Drop.Length > 0 ? $", --drop {string.Join(",", c.Drop)}" : "")}; statistics fitted on the training split"),
        ("shuffle", c.Shuffle ? "each epoch" : "no (file order)"),
        ("time", $"{r.Seconds:F1} s ({r.SamplesPerSecond:N0} samples/s, {c.Threads} threads)"), ("seed", c.Seed.ToString(CultureInfo.InvariantCulture)),
    ];

    private static (TrainConfig Config, Sequential Model, Preprocessing Prep) LoadRun(string run)
    {
        var c = RunFolder.ReadConfig(run);
        var model = RunFolder.ReadModel(run, c);
        return (c, model, RunFolder.ReadScaler(run, c));
    }

    public static int Eval(string run, string? data)
    {
        var (c, model, prep) = LoadRun(run);
        var output = new Output();
        Problem p;
        if (data == null)
        {
            // "Its test split" is the seed's permutation of the very data the run saw: rebuilt from anything else
            // (a reordered or edited file) it would mix training rows into the "test" rows.
            p = ProblemBuilder.Build(c);
            if (c.DataSha256 == null)
                throw new UserError($"{run}: the run does not record which data it was trained on (made by an older Kindling), so its test split cannot be rebuilt safely; evaluate a file as a whole with --data FILE.");
            if (p.DataSha256 != c.DataSha256)
                throw new UserError($"{run}: the data '{c.Data}'{(c.Test != null ? $" (or the --test file '{c.Test}')" : "")} has changed since training (its SHA-256 differs), so the run's test split cannot be rebuilt; evaluate a file as a whole with --data FILE.");
        }
        else
        {
            var d = ProblemBuilder.LoadSource(data, c.Target, c.ResolvedTask, CsvData.Options(c), c, asTest: true).Data;
            var warnings = new List<string>();
            var features = ProblemBuilder.Align(d.FeatureNames, d.Features, c.FeatureNames!, data, warnings, d.FeatureDivisor);
            foreach (var w in warnings) output.Warning(w);
            Tensor y = c.ResolvedTask is "classification" or "binary" ? ProblemBuilder.MapLabels(d, c.ClassNames!, data) : d.Targets;
            if (c.ResolvedTask == "regression") y = prep.ScaleTarget(y);
            var x = new RowSet(ProblemBuilder.Rows(features, d.FeatureDivisor), null, null, y, prep, data);
            p = new Problem { Task = c.ResolvedTask!, TaskReason = "", XTrain = x, XTest = x, FeatureNames = c.FeatureNames!, TargetNames = c.TargetNames ?? [], ClassNames = c.ClassNames ?? [], Prep = prep };
        }
        var loss = LossChoice.Choose(p, c with { Loss = c.ResolvedLoss ?? "auto" });
        var e = Evaluation.Run(model, loss, p, p.XTest, p.YTest);
        output.Info($"evaluating {run} on {data ?? "its test split"} ({p.XTest.Size(0)} rows)");
        ShowTest(output, p, e);
        Baselines.ShowForEval(output, run, model, e, p, loss, data == null ? "test" : "these rows");
        return 0;
    }

    public static int Predict(string run, string data, string outFile)
    {
        var (c, model, prep) = LoadRun(run);
        Tensor features; string[] names; string[]? ids = null; string idName = "row"; float divisor = 1f;
        if (File.Exists(data))
        {
            (features, names) = CsvData.LoadFeatures(data, c.FeatureNames!, c.TargetNames ?? [], CsvData.Options(c), c);
            (idName, ids) = CsvData.IdColumn(data, CsvData.Options(c), features.Size(0));
        }
        else
        {
            // Embedded datasets and IDX folders: their test split when they have one, else all of their rows.
            var d = ProblemBuilder.LoadSource(data, c.Target, c.ResolvedTask, CsvData.Options(c), c, asTest: true).Data;
            (features, names, divisor) = (d.Features, d.FeatureNames.ToArray(), d.FeatureDivisor);
        }
        var warnings = new List<string>();
        var aligned = ProblemBuilder.Align(names, features, c.FeatureNames!, data, warnings, divisor);
        var x = new RowSet(ProblemBuilder.Rows(aligned, divisor), null, null, Tensor.Zeros(aligned.Size(0)), prep, data);
        foreach (var w in warnings) Console.Error.WriteLine("warning: " + w);
        var o = Evaluation.Predict(model, x);
        ids ??= Enumerable.Range(1, o.Size(0)).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var rows = new List<object[]>();
        string[] header;
        if (c.ResolvedTask is "classification" or "binary")
        {
            var classes = c.ClassNames!;
            var probs = Evaluation.Probabilities(o).ToArray();
            var pred = Evaluation.Classes(o);
            header = new[] { idName, "prediction" }.Concat(classes.Select(k => "p_" + k)).ToArray();
            for (int i = 0; i < pred.Length; i++)
                rows.Add(new object[] { ids[i], classes[pred[i]] }.Concat(Enumerable.Range(0, classes.Length).Select(j => (object)probs[i * classes.Length + j])).ToArray());
        }
        else if (c.ResolvedTask == "multilabel")
        {
            var tn = c.TargetNames!;
            var pr = o.Sigmoid().ToArray();
            header = new[] { idName }.Concat(tn.Select(n => "p_" + n)).Concat(tn.Select(n => "pred_" + n)).ToArray();
            for (int i = 0; i < o.Size(0); i++)
                rows.Add(new object[] { ids[i] }.Concat(Enumerable.Range(0, tn.Length).Select(j => (object)pr[i * tn.Length + j])).Concat(Enumerable.Range(0, tn.Length).Select(j => (object)(pr[i * tn.Length + j] > 0.5 ? 1 : 0))).ToArray());
        }
        else
        {
            var tn = c.TargetNames ?? ["prediction"];
            header = new[] { idName }.Concat(tn.Length == 1 ? ["prediction"] : tn.Select(n => "pred_" + n)).ToArray();
            var v = Evaluation.ToTargetUnits(o, c.ResolvedLoss ?? "", prep).ToArray();
            int k = o.Size(1);
            for (int i = 0; i < o.Size(0); i++) rows.Add(new object[] { ids[i] }.Concat(Enumerable.Range(0, k).Select(j => (object)v[i * k + j])).ToArray());
        }
        try { RunFiles.WriteAtomic(outFile, RunFiles.Csv(header, rows)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UserError($"--out '{outFile}' is not writable: {e.Message}"); }
        Console.WriteLine($"wrote {rows.Count} predictions to {outFile}");
        return 0;
    }
}
