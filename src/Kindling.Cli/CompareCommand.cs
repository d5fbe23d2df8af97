using System.Collections.Concurrent;
using System.Globalization;
using Kindling.IO;
using Spectre.Console;

namespace Kindling.Cli;

/// <summary>One loss trained at one seed, with its test-set predictions kept for the paired tests.</summary>
public sealed class SeedRun
{
    public required string Loss { get; init; }
    public required int SeedIndex { get; init; }
    public required ulong Seed { get; init; }
    public required TrainResult R { get; init; }
    public required Problem P { get; init; }
    /// <summary>Per-seed test metrics: accuracy, log_loss, brier, ece (classification); rmse, mae, r2 (regression); subset/hamming accuracy (multi-label).</summary>
    public Dictionary<string, double> Metrics { get; } = [];
    /// <summary>Class-like and multi-label: whether each test row was predicted right (multi-label: every label right).</summary>
    public bool[]? Right { get; init; }
    /// <summary>Class-like: (N, K) test probabilities and the labels.</summary>
    public double[]? Probs { get; init; }
    public long[]? Truth { get; init; }
    /// <summary>Regression: test residuals actual − predicted of the first output, in target units.</summary>
    public double[]? Residuals { get; init; }
    /// <summary>The validation metric per epoch (training metric without a validation split).</summary>
    public double[] Curve => R.Epochs.Select(e => double.IsNaN(e.ValMetric) ? e.TrainMetric : e.ValMetric).ToArray();
}

/// <summary>
/// <c>kindling compare</c>: every loss trained over several seeds (a different initialisation, batch order and dropout per
/// seed; the same split unless --resplit), the runs spread over the cores, then the paired statistics of
/// <see cref="CompareStatistics"/> and the report of <see cref="CompareReport"/>.
/// </summary>
public static class CompareCommand
{
    private static string Version => typeof(Tensor).Assembly.GetName().Version?.ToString(3) ?? "0";

    public static int Run(TrainConfig c, string? lossList, int seeds, bool resplit)
    {
        if (Kindling.Distributed.Distributed.WorldSize > 1)
            throw new UserError("compare runs in one process; under mpirun use 'kindling train' (one loss per run).");
        if (seeds < 1 || seeds > 1000) throw new UserError($"--seeds must be between 1 and 1000, got {seeds}.");
        OptionChecks.Check(c);
        var requested = lossList?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (requested is { Length: 0 }) throw new UserError($"--losses '{lossList}' names no loss; give a comma-separated list such as cross_entropy,mse.");
        if (requested != null)
        {
            // Aliases name the same loss (mse and mse_loss): two identical runs would only compare a loss with itself.
            var canon = requested.Select(n => Kindling.Registry.Components.Losses.TryGet(n, out var e) ? e.Short : n).ToArray();
            var twice = canon.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
            if (twice != null) throw new UserError($"--losses '{lossList}' names a loss twice ({twice.Key}).");
            requested = canon;
        }
        var dir = RunFolder.CreateAndLock(c.Out, "compare-");
        RunFiles.EnsureWritable(dir);
        var p0 = ProblemBuilder.Build(c);
        string[] losses = requested ?? p0.Task switch
        {
            "classification" => ["cross_entropy", "mse"],
            "binary" => ["bce_with_logits", "mse"],
            "multilabel" => ["bce_with_logits", "mse"],
            _ => ["mse", "l1", "huber"],
        };
        if (losses.Length < 2 && seeds < 2) throw new UserError("compare needs two losses (--losses a,b) or several seeds (--seeds N).");
        c = Commands.ResolveEpochs(c, p0, new Output());
        var seedValues = Enumerable.Range(0, seeds).Select(k => unchecked(c.Seed + (ulong)k)).ToArray();
        // The split is drawn from --seed; with --resplit each seed draws its own (and fits its own scaling).
        var problems = seedValues.Select((s, k) => k == 0 || !resplit ? p0 : ProblemBuilder.Build(c with { Seed = s })).ToArray();
        var choices = losses.ToDictionary(l => l, l =>
        {
            var cfg = c with { Loss = l };
            var choice = LossChoice.Choose(p0, cfg);
            OptionChecks.CheckModelSize(p0.XTrain.Size(1), choice.Outputs, p0.XTrain.Size(0), cfg);
            return choice;
        });
        var jobs = seedValues.SelectMany((s, k) => losses.Select(l => (Loss: l, Index: k, Seed: s))).ToList();
        // Each run is single-threaded and the runs share the cores: results do not depend on --threads (the kernels are
        // deterministic per thread count), and small models scale better over runs than over one run's GEMMs.
        int workers = Math.Max(1, Math.Min(c.Threads, jobs.Count));
        var interactive = new Output();
        interactive.Info($"comparing {string.Join(", ", losses)} on {c.Data} ({p0.Task}): {seeds} seed{(seeds == 1 ? "" : "s")} each ({string.Join(", ", seedValues)}), " +
            $"{(resplit ? "a new split per seed" : "the same split")}, {c.Epochs} epochs{(c.EarlyStopping > 0 ? $" with early stopping after {c.EarlyStopping}" : "")}; {jobs.Count} runs, {workers} at a time");
        var runs = new ConcurrentBag<SeedRun>();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        using var progress = new CompareProgress(interactive, jobs.Count, c.Epochs);
        progress.Run(sinkFor =>
        {
            var errors = new ConcurrentQueue<Exception>();
            Parallel.ForEach(jobs, new ParallelOptions { MaxDegreeOfParallelism = workers }, (job, state) =>
            {
                if (Trainer.StopRequested || !errors.IsEmpty) { state.Stop(); return; }
                try
                {
                    var run = TrainOne(c, job.Loss, job.Index, job.Seed, Fresh(problems[job.Index]), dir, sinkFor($"{job.Loss} seed {job.Seed}"));
                    runs.Add(run);
                    progress.Done($"{job.Loss,-16} seed {job.Seed,-6} test {run.R.MetricName} {Trainer.Show(run.R.MetricName, run.R.Test.Main.Value)}  {run.R.Epochs.Count} epochs  {run.R.Seconds:F1}s");
                }
                catch (Exception e) { errors.Enqueue(e); state.Stop(); }
            });
            if (errors.TryDequeue(out var first)) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
        });
        if (Trainer.StopRequested || runs.Any(r => r.R.Interrupted))
        {
            interactive.Info($"interrupted after {runs.Count(r => !r.R.Interrupted)} of {jobs.Count} runs; the finished runs are in {dir} (no comparison was drawn from a partial set).");
            return 130;
        }
        var ordered = runs.OrderBy(r => Array.IndexOf(losses, r.Loss)).ThenBy(r => r.SeedIndex).ToList();
        var analysis = CompareAnalysis.Analyze(ordered, losses, p0, resplit);
        CompareReport.Write(dir, c, p0, losses, choices, ordered, analysis, sw.Elapsed.TotalSeconds, workers);
        foreach (var w in CompareSummary.Warnings(analysis, p0, choices)) interactive.Warning(w);
        if (analysis.TailNote != null && !analysis.HeavyTails) interactive.Info(analysis.TailNote);
        interactive.Table($"comparison over {seeds} seed{(seeds == 1 ? "" : "s")} (mean ± sd [95% interval])", CompareReport.ConsoleRows(analysis), "loss", "test metrics");
        interactive.Info(analysis.SummaryLine);
        interactive.Info($"{jobs.Count} runs in {sw.Elapsed.TotalSeconds:F1}s; report: {Path.Combine(dir, "report.html")} (pairs.csv: every paired test; runs.csv: every seed)");
        return 0;
    }

    /// <summary>The same rows and preparation with per-thread scratch: a RowSet's column buffer must not be shared between runs.</summary>
    private static Problem Fresh(Problem p) => new()
    {
        Task = p.Task, XTrain = p.XTrain.With(p.XTrain.Prep), XVal = p.XVal?.With(p.XVal.Prep), XTest = p.XTest.With(p.XTest.Prep),
        FeatureNames = p.FeatureNames, TargetNames = p.TargetNames, ClassNames = p.ClassNames, Prep = p.Prep, TaskReason = p.TaskReason,
        TestSource = p.TestSource, Notes = p.Notes, Warnings = p.Warnings, DataSha256 = p.DataSha256, Counts = p.Counts,
    };

    private static SeedRun TrainOne(TrainConfig c, string lossName, int index, ulong seed, Problem p, string dir, IProgressSink sink)
    {
        var cfg = c with { Loss = lossName, Seed = seed, Threads = 1, Out = Path.Combine(dir, lossName, "seed-" + seed.ToString(CultureInfo.InvariantCulture)) };
        Directory.CreateDirectory(cfg.Out);
        var loss = LossChoice.Choose(p, cfg);
        RunFiles.WriteAtomic(Path.Combine(cfg.Out, "config.json"), (cfg with
        {
            ResolvedTask = p.Task, ResolvedLoss = loss.Name, ClassNames = p.ClassNames, FeatureNames = p.FeatureNames, TargetNames = p.TargetNames,
            Outputs = loss.Outputs, KindlingVersion = Version, DataSha256 = p.DataSha256,
        }).ToJson());
        p.Prep.Save(Path.Combine(cfg.Out, "scaler.safetensors"));
        var r = Trainer.Run(cfg, p, loss, cfg.Out, new Output { Quiet = true, Sink = sink });
        Safetensors.SaveModule(Path.Combine(cfg.Out, "model.safetensors"), r.Model, new Dictionary<string, string> { ["format"] = "pt", ["task"] = p.Task, ["loss"] = loss.Name });
        Trainer.WriteCurves(cfg.Out, r.Epochs, r.Steps);
        if (!r.Interrupted) Commands.WriteTestMetrics(cfg.Out, r.Test);
        return Score(lossName, index, seed, r, p, loss);
    }

    /// <summary>The per-row outcomes and per-seed metrics of a trained run on its test rows.</summary>
    public static SeedRun Score(string lossName, int index, ulong seed, TrainResult r, Problem p, LossChoice loss)
    {
        var o = Evaluation.Predict(r.Model, p.XTest);
        if (p.IsClassLike)
        {
            var truth = p.YTest.ToInt64Array();
            var pred = Evaluation.Classes(o);
            var probs = Evaluation.Probabilities(o).ToDoubleArray();
            int k = probs.Length / Math.Max(1, truth.Length);
            var run = new SeedRun { Loss = lossName, SeedIndex = index, Seed = seed, R = r, P = p, Truth = truth, Probs = probs, Right = truth.Zip(pred).Select(z => z.First == z.Second).ToArray() };
            run.Metrics["accuracy"] = r.Test.Main.Value;
            run.Metrics["log_loss"] = Calibration.LogLoss(probs, truth, k);
            run.Metrics["brier"] = Calibration.Brier(probs, truth, k);
            run.Metrics["ece"] = Calibration.Ece(probs, truth, k);
            return run;
        }
        if (p.Task == "multilabel")
        {
            var pr = o.ToArray();
            var t = p.YTest.ToArray();
            int rows = p.YTest.Size(0), labels = p.YTest.Size(1);
            var right = Enumerable.Range(0, rows).Select(i => Enumerable.Range(0, labels).All(j => (pr[i * labels + j] > 0 ? 1f : 0f) == t[i * labels + j])).ToArray();
            var run = new SeedRun { Loss = lossName, SeedIndex = index, Seed = seed, R = r, P = p, Right = right };
            run.Metrics["subset_accuracy"] = r.Test.Metrics["subset_accuracy"];
            run.Metrics["hamming_accuracy"] = r.Test.Metrics["hamming_accuracy"];
            return run;
        }
        var (truthV, predV) = r.Test.Values!.Value;
        var reg = new SeedRun { Loss = lossName, SeedIndex = index, Seed = seed, R = r, P = p, Residuals = truthV.Zip(predV).Select(z => (double)z.First - z.Second).ToArray() };
        reg.Metrics["rmse"] = r.Test.Metrics["rmse"];
        reg.Metrics["mae"] = r.Test.Metrics["mae"];
        reg.Metrics["r2"] = r.Test.Metrics["r2"];
        return reg;
    }
}

/// <summary>
/// The progress display across all runs of a comparison: on a terminal one bar for the whole comparison and one per
/// active run (finished runs disappear, a line says how each ended); redirected, one plain line per finished run.
/// </summary>
public sealed class CompareProgress(Output output, int runs, int epochs) : IDisposable
{
    private ProgressContext? _ctx;
    private ProgressTask? _all;
    private int _done;
    private readonly object _gate = new();

    public void Run(Action<Func<string, IProgressSink>> body)
    {
        if (!output.Interactive) { body(_ => new Silent()); return; }
        AnsiConsole.Progress().AutoClear(true).HideCompleted(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                _ctx = ctx;
                _all = ctx.AddTask($"all runs: 0/{runs} done", maxValue: runs * (double)epochs);
                body(name => new Bar(this, ctx.AddTask(name, maxValue: epochs)));
            });
    }

    /// <summary>A run finished: one line above the bars (or in the log).</summary>
    public void Done(string line)
    {
        lock (_gate)
        {
            _done++;
            if (_all != null) _all.Description = $"all runs: {_done}/{runs} done";
            output.Info($"  [{_done}/{runs}] {line}");
        }
    }

    public void Dispose() { }

    private sealed class Silent : IProgressSink
    {
        public void StartEpoch(int epoch, int epochs, int batches) { }
        public void Step(int done, double runningLoss, double samplesPerSec, TimeSpan eta) { }
        public void Line(string text) { }
    }

    /// <summary>A run's bar counts epochs (fractions within an epoch); an early stop credits the rest to the overall bar.</summary>
    private sealed class Bar(CompareProgress owner, ProgressTask task) : IProgressSink
    {
        private int _epoch, _batches;
        private double _credited;

        public void StartEpoch(int epoch, int epochs, int batches)
        {
            lock (owner._gate)
            {
                // A new epoch after a stop can only follow the previous one's end; early stopping leaves epochs unused.
                _epoch = epoch; _batches = Math.Max(1, batches);
                Set(epoch - 1);
            }
        }

        public void Step(int done, double runningLoss, double samplesPerSec, TimeSpan eta)
        {
            lock (owner._gate) Set(_epoch - 1 + done / (double)_batches);
        }

        public void Line(string text)
        {
            // Early stopping's line: the run is over, so its remaining epochs are done as far as the overall bar is concerned.
            if (text.StartsWith("early stopping", StringComparison.Ordinal)) lock (owner._gate) { Set(task.MaxValue); task.StopTask(); }
        }

        private void Set(double v)
        {
            owner._all?.Increment(v - _credited);
            _credited = v;
            task.Value = v;
            if (v >= task.MaxValue) task.StopTask();
        }
    }
}
