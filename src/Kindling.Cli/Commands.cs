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
        var dir = c.Out ?? DefaultOut();
        RunFiles.EnsureWritable(dir);
        var p = ProblemBuilder.Build(c);
        var loss = LossChoice.Choose(p, c);
        c = c with
        {
            Out = dir, ResolvedTask = p.Task, ResolvedLoss = loss.Name, ClassNames = p.ClassNames, FeatureNames = p.FeatureNames,
            TargetNames = p.TargetNames, Outputs = loss.Outputs, KindlingVersion = Version,
        };
        if (!resume) RunFiles.WriteAtomic(Path.Combine(dir, "config.json"), c.ToJson());
        output.Info($"data: {c.Data} — {p.XTrain.Size(0)} train, {p.XVal?.Size(0) ?? 0} validation, {p.XTest.Size(0)} test rows, {p.XTrain.Size(1)} features");
        output.Info($"loss: {loss.Why}");
        foreach (var w in loss.Warnings) output.Warning(w);
        output.Info($"model: {ModelSummary.Describe(c, p.XTrain.Size(1), loss.Outputs)}, {c.Optimizer} lr {c.LearningRate:G3}, batch {c.BatchSize}, {c.Epochs} epochs, {c.Threads} threads");
        if (c.Model == "cnn") foreach (var line in ModelSummary.Lines(ModelFactory.Build(p.XTrain.Size(1), loss.Outputs, c).Model, p.XTrain.Size(1))) output.Info("  " + line);
        SaveScaler(dir, p);
        var r = Trainer.Run(c, p, loss, dir, output, resume);
        Safetensors.SaveModule(Path.Combine(dir, "model.safetensors"), r.Model, new Dictionary<string, string> { ["format"] = "pt", ["task"] = p.Task, ["loss"] = loss.Name });
        Trainer.WriteCurves(dir, r.Epochs, r.Steps);
        WriteTestMetrics(dir, r.Test);
        WriteRunReport(dir, c, p, loss, r);
        if (r.Interrupted)
        {
            output.Info($"interrupted: checkpoint saved in {dir}; continue with: kindling train --resume {dir}");
            return 130;
        }
        ShowTest(output, p, r.Test);
        output.Info($"trained in {r.Seconds:F1}s ({r.SamplesPerSecond:N0} samples/s); run folder: {dir} (model.safetensors, epochs.csv, steps.csv, loss.svg, metric.svg, report.html)");
        return 0;
    }

    private static void SaveScaler(string dir, Problem p)
    {
        var t = new Dictionary<string, Tensor>();
        if (p.Scaler != null) foreach (var (k, v) in p.Scaler.StateDict()) t["features." + k] = v;
        t["target.mean"] = Tensor.Scalar(p.TargetScale.Mean, DType.Float64);
        t["target.std"] = Tensor.Scalar(p.TargetScale.Std, DType.Float64);
        Safetensors.Save(Path.Combine(dir, "scaler.safetensors"), t);
    }

    private static void WriteTestMetrics(string dir, Evaluation e)
    {
        var json = System.Text.Json.JsonSerializer.Serialize(e.Metrics.Append(new("loss", e.Loss)).ToDictionary(kv => kv.Key, kv => kv.Value), TrainConfig.Json);
        RunFiles.WriteAtomic(Path.Combine(dir, "test_metrics.json"), json);
    }

    private static void ShowTest(Output output, Problem p, Evaluation e)
    {
        output.Table("test metrics", e.Metrics.Select(kv => (kv.Key, Trainer.Show(kv.Key, kv.Value))).Append(("loss", e.Loss.ToString("F4", CultureInfo.InvariantCulture))).ToList());
        if (e.Confusion != null) output.Confusion(e.Confusion, p.ClassNames);
    }

    private static string MetricLabel(string m) => m switch { "accuracy" => "accuracy", "rmse" => "RMSE", "subset_accuracy" => "subset accuracy", _ => m };

    private static void WriteRunReport(string dir, TrainConfig c, Problem p, LossChoice loss, TrainResult r)
    {
        var ep = r.Epochs.Select(e => (double)e.Epoch).ToList();
        var lossSvg = SvgPlot.LineChart("Loss per epoch", "epoch", $"{loss.Name} loss",
        [
            new Series("train", ep, r.Epochs.Select(e => e.TrainLoss).ToList()),
            new Series("validation", ep, r.Epochs.Select(e => e.ValLoss).ToList(), Dashed: true),
        ]);
        var metricSvg = SvgPlot.LineChart($"{MetricLabel(r.MetricName)} per epoch", "epoch", MetricLabel(r.MetricName),
        [
            new Series("train", ep, r.Epochs.Select(e => e.TrainMetric).ToList()),
            new Series("validation", ep, r.Epochs.Select(e => e.ValMetric).ToList(), Dashed: true),
        ]);
        RunFiles.WriteAtomic(Path.Combine(dir, "loss.svg"), lossSvg);
        RunFiles.WriteAtomic(Path.Combine(dir, "metric.svg"), metricSvg);
        var last = r.Epochs.LastOrDefault();
        var model = new ReportModel
        {
            Title = $"Kindling run: {c.Data}",
            RunName = dir,
            Date = DateTimeOffset.Now,
            Summary =
            [
                ("task", p.Task), ("loss", loss.Why), ("model", ModelSummary.Describe(c, p.XTrain.Size(1), loss.Outputs)),
                ("optimizer", $"{c.Optimizer}, lr {c.LearningRate:G3}, weight decay {c.WeightDecay:G3}, scheduler {c.Scheduler}"),
                ("epochs", r.Epochs.Count.ToString(CultureInfo.InvariantCulture)), ("samples", $"{p.XTrain.Size(0)} train, {p.XVal?.Size(0) ?? 0} validation, {p.XTest.Size(0)} test"),
                ("time", $"{r.Seconds:F1} s ({r.SamplesPerSecond:N0} samples/s)"), ("seed", c.Seed.ToString(CultureInfo.InvariantCulture)),
            ],
            Warnings = loss.Warnings,
            Charts = [new ReportChart(lossSvg, "Training and validation loss."), new ReportChart(metricSvg, $"Training and validation {MetricLabel(r.MetricName)}.")],
            FinalMetrics = r.Test.Metrics.Select(kv => new MetricRow(kv.Key,
                kv.Key == r.MetricName ? last?.TrainMetric : null, kv.Key == r.MetricName ? last?.ValMetric : null, kv.Value))
                .Prepend(new MetricRow("loss", last?.TrainLoss, last?.ValLoss, r.Test.Loss)).ToList(),
            Confusion = r.Test.Confusion != null ? new ConfusionMatrix(r.Test.Confusion, p.ClassNames) : null,
        };
        RunFiles.WriteAtomic(Path.Combine(dir, "report.html"), HtmlReport.Build(model));
    }

    public static int Compare(TrainConfig c, string? lossList)
    {
        var output = new Output { Quiet = true };
        var dir = c.Out ?? DefaultOut("compare-");
        RunFiles.EnsureWritable(dir);
        var p = ProblemBuilder.Build(c);
        var losses = lossList?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? p.Task switch
        {
            "classification" => ["cross_entropy", "mse"],
            "binary" => ["bce_with_logits", "mse"],
            "multilabel" => ["bce_with_logits", "mse"],
            _ => ["mse", "l1", "huber"],
        };
        output.Info($"comparing {string.Join(", ", losses)} on {c.Data} ({p.Task}; same model, data, seed and {c.Epochs} epochs)");
        var results = new List<(string Loss, TrainResult R, LossChoice L)>();
        foreach (var name in losses)
        {
            var cfg = c with { Loss = name, Out = Path.Combine(dir, name) };
            RunFiles.EnsureWritable(cfg.Out);
            var loss = LossChoice.Choose(p, cfg);
            RunFiles.WriteAtomic(Path.Combine(cfg.Out, "config.json"), (cfg with { ResolvedTask = p.Task, ResolvedLoss = loss.Name, ClassNames = p.ClassNames, FeatureNames = p.FeatureNames, TargetNames = p.TargetNames, Outputs = loss.Outputs, KindlingVersion = Version }).ToJson());
            SaveScaler(cfg.Out, p);
            var r = Trainer.Run(cfg, p, loss, cfg.Out, output);
            Safetensors.SaveModule(Path.Combine(cfg.Out, "model.safetensors"), r.Model);
            Trainer.WriteCurves(cfg.Out, r.Epochs, r.Steps);
            WriteTestMetrics(cfg.Out, r.Test);
            WriteRunReport(cfg.Out, cfg, p, loss, r);
            output.Info($"  {name,-16} final train loss {r.Epochs[^1].TrainLoss:F4}  test {r.MetricName} {Trainer.Show(r.MetricName, r.Test.Main.Value)}  {r.Seconds:F1}s");
            results.Add((name, r, loss));
            if (r.Interrupted) break;
        }
        string metric = results[0].R.MetricName;
        var valOrTrain = results.Select(x => new Series(x.Loss, x.R.Epochs.Select(e => (double)e.Epoch).ToList(), x.R.Epochs.Select(e => double.IsNaN(e.ValMetric) ? e.TrainMetric : e.ValMetric).ToList())).ToList();
        var metricSvg = SvgPlot.LineChart($"Validation {MetricLabel(metric)} by loss", "epoch", MetricLabel(metric), valOrTrain);
        var lossSvgs = results.Select(x => new Series(x.Loss, x.R.Epochs.Select(e => (double)e.Epoch).ToList(), x.R.Epochs.Select(e => e.TrainLoss).ToList())).ToList();
        var lossSvg = SvgPlot.LineChart("Training loss by loss function (each on its own scale)", "epoch", "loss", lossSvgs, logY: lossSvgs.All(s => s.Y.All(v => v > 0)));
        RunFiles.WriteAtomic(Path.Combine(dir, "compare_metric.svg"), metricSvg);
        RunFiles.WriteAtomic(Path.Combine(dir, "compare_loss.svg"), lossSvg);
        var summary = results.Select(x => (x.Loss, x.R.Epochs[^1].TrainLoss, x.R.Epochs[^1].ValLoss, x.R.Test.Main.Value, x.R.Seconds)).ToList();
        RunFiles.WriteAtomic(Path.Combine(dir, "summary.csv"), RunFiles.Csv(["loss", "final_train_loss", "final_val_loss", "test_" + metric, "seconds"],
            summary.Select(s => new object[] { s.Loss, s.TrainLoss, s.ValLoss, s.Value, s.Seconds })));
        var report = new ReportModel
        {
            Title = $"Kindling loss comparison: {c.Data}",
            RunName = dir,
            Date = DateTimeOffset.Now,
            Summary = [("task", p.Task), ("losses", string.Join(", ", losses)), ("model", $"{string.Join(" → ", new[] { p.XTrain.Size(1) }.Concat(c.Hidden))} → outputs, {c.Activation}"), ("optimizer", $"{c.Optimizer}, lr {c.LearningRate:G3}"), ("epochs", c.Epochs.ToString(CultureInfo.InvariantCulture)), ("seed", c.Seed.ToString(CultureInfo.InvariantCulture))],
            Warnings = results.SelectMany(x => x.L.Warnings).Distinct().ToList(),
            Charts = [new ReportChart(metricSvg, $"Validation {MetricLabel(metric)} per epoch for each loss."), new ReportChart(lossSvg, "Training loss per epoch (the losses have different scales).")],
            Comparison = results.Select(x => new ComparisonRow(x.Loss, x.R.Epochs[^1].TrainLoss, x.R.Epochs[^1].ValLoss, x.R.Test.Main.Value, TimeSpan.FromSeconds(x.R.Seconds))).ToList(),
            ComparisonMetricName = "test " + MetricLabel(metric),
            ComparisonHigherIsBetter = metric != "rmse",
        };
        RunFiles.WriteAtomic(Path.Combine(dir, "report.html"), HtmlReport.Build(report));
        var interactive = new Output();
        interactive.Table($"comparison (test {MetricLabel(metric)})", summary.Select(s => (s.Loss, $"{Trainer.Show(metric, s.Value)}   final train loss {s.TrainLoss:F4}   {s.Seconds:F1}s")).ToList());
        interactive.Info($"report: {Path.Combine(dir, "report.html")}");
        return 0;
    }

    private static (TrainConfig Config, Sequential Model, Standardize? Scaler, (double Mean, double Std) TargetScale) LoadRun(string run)
    {
        var cfgPath = Path.Combine(run, "config.json");
        if (!File.Exists(cfgPath)) throw new UserError($"'{run}' is not a run folder (no config.json).");
        var c = TrainConfig.FromJson(File.ReadAllText(cfgPath));
        var (model, _) = ModelFactory.Build(c.FeatureNames!.Length, c.Outputs, c);
        Safetensors.LoadModule(Path.Combine(run, "model.safetensors"), model);
        var s = Safetensors.Load(Path.Combine(run, "scaler.safetensors")).Tensors;
        Standardize? scaler = s.ContainsKey("features.mean") ? Standardize.FromStateDict(new Dictionary<string, Tensor> { ["mean"] = s["features.mean"], ["std"] = s["features.std"] }) : null;
        return (c, model, scaler, (s["target.mean"].ItemDouble(), s["target.std"].ItemDouble()));
    }

    public static int Eval(string run, string? data)
    {
        var (c, model, scaler, ts) = LoadRun(run);
        var output = new Output();
        Problem p;
        if (data == null) p = ProblemBuilder.Build(c with { Scale = c.Scale });
        else
        {
            var d = ProblemBuilder.Load(data, c.Target, c.ResolvedTask, CsvData.Options(c));
            var x = ProblemBuilder.Align(d.FeatureNames, d.Features, c.FeatureNames!, data);
            if (scaler != null) x = scaler.Transform(x);
            Tensor y = c.ResolvedTask is "classification" or "binary" ? ProblemBuilder.MapLabels(d, c.ClassNames!, data) : d.Targets;
            if (c.ResolvedTask == "regression" && y.Rank == 1) y = (y - ts.Mean) / ts.Std;
            p = new Problem { Task = c.ResolvedTask!, TaskReason = "", XTrain = x, YTrain = y, XTest = x, YTest = y, FeatureNames = c.FeatureNames!, TargetNames = c.TargetNames ?? [], ClassNames = c.ClassNames ?? [], TargetScale = ts };
        }
        var loss = LossChoice.Choose(p, c with { Loss = c.ResolvedLoss ?? "auto" });
        var e = Evaluation.Run(model, loss, p, p.XTest, p.YTest);
        output.Info($"evaluating {run} on {data ?? "its test split"} ({p.XTest.Size(0)} rows)");
        ShowTest(output, p, e);
        return 0;
    }

    public static int Predict(string run, string data, string outFile)
    {
        var (c, model, scaler, ts) = LoadRun(run);
        var d = CsvData.LoadFeatures(data, c.FeatureNames!, c.TargetNames ?? [], CsvData.Options(c));
        var x = ProblemBuilder.Align(d.Names, d.Features, c.FeatureNames!, data);
        if (scaler != null) x = scaler.Transform(x);
        var o = Evaluation.Predict(model, x);
        var rows = new List<object[]>();
        string[] header;
        if (c.ResolvedTask is "classification" or "binary")
        {
            var classes = c.ClassNames!;
            var probs = Evaluation.Probabilities(o).ToArray();
            var pred = Evaluation.Classes(o);
            header = new[] { "prediction" }.Concat(classes.Select(k => "p_" + k)).ToArray();
            for (int i = 0; i < pred.Length; i++)
                rows.Add(new object[] { classes[pred[i]] }.Concat(Enumerable.Range(0, classes.Length).Select(j => (object)probs[i * classes.Length + j])).ToArray());
        }
        else if (c.ResolvedTask == "multilabel")
        {
            var names = c.TargetNames!;
            var pr = o.Sigmoid().ToArray();
            header = names.Select(n => "p_" + n).Concat(names.Select(n => "pred_" + n)).ToArray();
            for (int i = 0; i < o.Size(0); i++)
                rows.Add(Enumerable.Range(0, names.Length).Select(j => (object)pr[i * names.Length + j]).Concat(Enumerable.Range(0, names.Length).Select(j => (object)(pr[i * names.Length + j] > 0.5 ? 1 : 0))).ToArray());
        }
        else
        {
            var names = c.TargetNames ?? ["prediction"];
            header = names.Length == 1 ? ["prediction"] : names.Select(n => "pred_" + n).ToArray();
            var v = o.ToArray();
            int k = o.Size(1);
            for (int i = 0; i < o.Size(0); i++) rows.Add(Enumerable.Range(0, k).Select(j => (object)(v[i * k + j] * ts.Std + ts.Mean)).ToArray());
        }
        try { RunFiles.WriteAtomic(outFile, RunFiles.Csv(header, rows)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UserError($"--out '{outFile}' is not writable: {e.Message}"); }
        Console.WriteLine($"wrote {rows.Count} predictions to {outFile}");
        return 0;
    }
}
