using System.Diagnostics;
using System.Globalization;
using Kindling.IO;
using Kindling.NN;
using Kindling.Optim;

namespace Kindling.Cli;

public sealed record EpochRow(int Epoch, double TrainLoss, double TrainMetric, double ValLoss, double ValMetric, double Lr, double Seconds);
public sealed record StepRow(long Step, int Epoch, double Loss, double Lr);

/// <summary>Outcome of a training run.</summary>
public sealed class TrainResult
{
    public required List<EpochRow> Epochs { get; init; }
    public required List<StepRow> Steps { get; init; }
    public required Evaluation Test { get; init; }
    public required string MetricName { get; init; }
    public required double Seconds { get; init; }
    public required Sequential Model { get; init; }
    public bool Interrupted { get; init; }
    public string? StopReason { get; init; }
    public double SamplesPerSecond { get; init; }
    /// <summary>Early stopping ended the run and restored the weights of <see cref="BestEpoch"/>.</summary>
    public bool StoppedEarly { get; init; }
    /// <summary>The epoch (1-based) with the best monitored loss; 0 when unknown.</summary>
    public int BestEpoch { get; init; }
}

/// <summary>
/// The training loop of the CLI. Everything random is derived from (seed, epoch) or (seed, step) — the shuffle order of
/// each epoch and the dropout masks of each step — so a run resumed from a checkpoint reaches exactly the weights of an
/// uninterrupted one (at the same thread count, since the kernels are deterministic per thread count).
/// </summary>
public static class Trainer
{
    public static volatile bool StopRequested;

    private static ulong Mix(ulong seed, long k) { ulong z = seed + 0x9E3779B97F4A7C15UL * (ulong)(k + 1); z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL; return z ^ (z >> 27); }

    public static Optimizer MakeOptimizer(TrainConfig c, Module model)
    {
        var ps = model.Parameters();
        double lr = c.LearningRate;
        return c.Optimizer switch
        {
            "sgd" => new SGD(ps, lr, c.Momentum, weightDecay: c.WeightDecay),
            "adam" => new Adam(ps, lr, weightDecay: c.WeightDecay),
            "adamw" => new AdamW(ps, lr, weightDecay: c.WeightDecay == 0 ? 1e-2 : c.WeightDecay),
            "rmsprop" => new RMSprop(ps, lr, weightDecay: c.WeightDecay, momentum: 0),
            "adagrad" => new Adagrad(ps, lr, weightDecay: c.WeightDecay),
            _ => throw new UserError($"--optimizer '{c.Optimizer}': use sgd, adam, adamw, rmsprop or adagrad."),
        };
    }

    private static LRScheduler? MakeScheduler(TrainConfig c, Optimizer opt, int batches) => c.Scheduler switch
    {
        "none" or "plateau" => null,
        "step" => new StepLR(opt, Math.Max(1, c.Epochs / 3), 0.1),
        "cosine" => new CosineAnnealingLR(opt, c.Epochs),
        "exponential" => new ExponentialLR(opt, 0.95),
        "warmup" => new LinearLR(opt, 0.1, 1.0, Math.Max(1, c.Epochs / 10)),
        "onecycle" => new OneCycleLR(opt, c.LearningRate, c.Epochs * batches),
        _ => throw new UserError($"--scheduler '{c.Scheduler}': use none, step, cosine, exponential, warmup, onecycle or plateau."),
    };

    public static TrainResult Run(TrainConfig c, Problem p, LossChoice loss, string dir, Output output, bool resume = false)
    {
        if (c.BatchSize <= 0) throw new UserError($"--batch-size must be positive, got {c.BatchSize}.");
        if (c.Epochs <= 0) throw new UserError($"--epochs must be positive, got {c.Epochs}.");
        if (c.Threads <= 0) throw new UserError($"--threads must be positive, got {c.Threads}.");
        Kernels.Gemm.MaxThreads = c.Threads;
        var (model, dropGen) = ModelFactory.Build(p.XTrain.Size(1), loss.Outputs, c);
        if (c.Init != null)
        {
            // PyTorch's own torch.save files (.pt/.pth) as well as safetensors.
            try
            {
                if (c.Init.EndsWith(".pt", StringComparison.OrdinalIgnoreCase) || c.Init.EndsWith(".pth", StringComparison.OrdinalIgnoreCase)) TorchSave.LoadModule(c.Init, model);
                else Safetensors.LoadModule(c.Init, model);
            }
            catch (Exception e) when (e is ArgumentException or FormatException or IOException) { throw new UserError($"--init {c.Init}: {e.Message}"); }
        }
        var opt = MakeOptimizer(c, model);
        int n = p.XTrain.Size(0), bs = Math.Min(c.BatchSize, n); // a batch larger than the data is the whole data (and no int overflow)
        int batches = (n + bs - 1) / bs;
        var sched = MakeScheduler(c, opt, batches);
        var plateau = c.Scheduler == "plateau" ? new ReduceLROnPlateau(opt, patience: 3) : null;
        var epochs = new List<EpochRow>();
        var steps = new List<StepRow>();
        int startEpoch = 0, startBatch = 0;
        long step = 0;
        double best = double.PositiveInfinity; int bad = 0, bestEpoch = 0;
        bool stoppedEarly = false;
        string ckpt = Path.Combine(dir, "checkpoint.safetensors");
        if (resume)
        {
            var ck = RunFolder.ReadCheckpoint(dir, c, model, opt, batches);
            (startEpoch, startBatch, step, best, bad, epochs, steps) = (ck.Epoch, ck.Batch, ck.Step, ck.Best, ck.Bad, ck.Epochs, ck.Steps);
            bestEpoch = ck.Metadata.TryGetValue("best_epoch", out var be) && int.TryParse(be, CultureInfo.InvariantCulture, out var bei) ? bei : 0;
            if (plateau != null)
            {
                // The plateau counters must come back too, or a resumed run lowers the learning rate at another epoch.
                var ps = new Dictionary<string, double>();
                foreach (var k in new[] { "best", "num_bad_epochs", "cooldown_counter" })
                    if (ck.Metadata.TryGetValue("plateau." + k, out var v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) ps[k] = d;
                try { plateau.LoadStateDict(ps); }
                catch (ArgumentException e) { throw new UserError($"{ckpt}: the checkpoint lacks valid ReduceLROnPlateau counters ({e.Message}); it was not written by a --scheduler plateau run of this version."); }
            }
            if (sched is OneCycleLR) sched.SetEpoch((int)step); else sched?.SetEpoch(startEpoch);
            output.Info($"resuming {dir} at epoch {startEpoch + 1}, step {step}");
        }
        var sw = Stopwatch.StartNew();
        double priorSeconds = epochs.Count > 0 ? epochs[^1].Seconds : 0;
        var l1Params = model.NamedParameters().Where(x => x.Name.EndsWith("weight")).Select(x => x.Parameter).ToList();
        bool interrupted = false;
        string? stop = null;
        long samples = 0;
        var throughput = Stopwatch.StartNew();
        // Test hook: behave as if Ctrl+C arrived after this many steps (signals cannot be timed reliably in tests).
        long stopAfter = long.TryParse(Environment.GetEnvironmentVariable("KINDLING_STOP_AFTER_STEPS"), out var sa) ? sa : long.MaxValue;

        void SaveCheckpoint(int epoch, int batch)
        {
            var t = new Dictionary<string, Tensor>();
            foreach (var (k, v) in model.StateDict()) t["model." + k] = v;
            foreach (var (k, v) in opt.StateDict()) t["optim." + k] = v;
            // Curves first: a crash between the two leaves them ahead of the checkpoint, and --resume cuts them back to it.
            WriteCurves(dir, epochs, steps);
            var meta = new Dictionary<string, string>
            {
                ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture), ["batch"] = batch.ToString(CultureInfo.InvariantCulture),
                ["step"] = step.ToString(CultureInfo.InvariantCulture), ["best"] = best.ToString("R", CultureInfo.InvariantCulture),
                ["bad"] = bad.ToString(CultureInfo.InvariantCulture), ["best_epoch"] = bestEpoch.ToString(CultureInfo.InvariantCulture),
                ["stopped_early"] = stoppedEarly ? "1" : "0",
            };
            if (plateau != null) foreach (var (k, v) in plateau.StateDict()) meta["plateau." + k] = v.ToString("R", CultureInfo.InvariantCulture);
            CheckpointWriter.Save(ckpt, t, meta);
        }

        output.WithProgress(sink =>
        {
            for (int epoch = startEpoch; epoch < c.Epochs && stop == null && !interrupted; epoch++)
            {
                var perm = c.Shuffle ? Tensor.RandPerm(n, new Generator(Mix(c.Seed, epoch))).ToInt64Array() : Enumerable.Range(0, n).Select(i => (long)i).ToArray();
                sink.StartEpoch(epoch + 1, c.Epochs, batches);
                double lossSum = 0; int seen = 0;
                var epochWatch = Stopwatch.StartNew();
                int b0 = epoch == startEpoch ? startBatch : 0;
                for (int b = b0; b < batches; b++)
                {
                    var idx = Tensor.FromArray(perm[(b * bs)..Math.Min(n, (b + 1) * bs)]);
                    var xb = p.XTrain.IndexSelect(0, idx);
                    var yb = p.YTrain.IndexSelect(0, idx);
                    dropGen.ManualSeed(Mix(c.Seed ^ 0xD509, step));
                    opt.ZeroGrad();
                    var l = loss.Fn(model.Call(xb), yb);
                    var total = c.L1 > 0 ? l + c.L1 * GradClip.L1Penalty(l1Params) : l;
                    double lv = l.ItemDouble();
                    if (!double.IsFinite(lv))
                    {
                        string kept = File.Exists(ckpt) ? $"the last good checkpoint is {ckpt}" : "no checkpoint had been written yet";
                        stop = $"the loss became {(double.IsNaN(lv) ? "NaN" : "infinite")} at step {step + 1} (epoch {epoch + 1}); training stopped and {kept}. Try a lower learning rate (--lr, now {opt.ParamGroups[0].Lr ?? opt.Lr:G3}).";
                        break;
                    }
                    total.Backward();
                    double stepLr = opt.ParamGroups[0].Lr ?? opt.Lr; // the rate this step uses, before OneCycleLR moves it
                    opt.Step();
                    step++;
                    if (sched is OneCycleLR && step < (long)c.Epochs * batches) sched.Step();
                    lossSum += lv * idx.NumEl; seen += idx.NumEl; samples += idx.NumEl;
                    steps.Add(new StepRow(step, epoch + 1, lv, stepLr));
                    double rate = samples / Math.Max(throughput.Elapsed.TotalSeconds, 1e-9);
                    double remaining = ((double)(c.Epochs - epoch - 1) * n + (n - Math.Min(n, (b + 1) * bs))) / Math.Max(rate, 1e-9);
                    sink.Step(b + 1, lossSum / seen, rate, TimeSpan.FromSeconds(Math.Min(remaining, 359999)));
                    if (step >= stopAfter) StopRequested = true;
                    if (StopRequested && b + 1 < batches)
                    {
                        SaveCheckpoint(epoch, b + 1);
                        interrupted = true;
                        break;
                    }
                }
                if (stop != null || interrupted) break;
                var trainEval = Evaluation.Run(model, loss, p, p.XTrain, p.YTrain);
                var valEval = p.XVal != null ? Evaluation.Run(model, loss, p, p.XVal, p.YVal!) : null;
                double monitored = valEval?.Loss ?? trainEval.Loss;
                var row = new EpochRow(epoch + 1, trainEval.Loss, trainEval.Main.Value, valEval?.Loss ?? double.NaN, valEval?.Main.Value ?? double.NaN,
                    opt.ParamGroups[0].Lr ?? opt.Lr, priorSeconds + sw.Elapsed.TotalSeconds);
                epochs.Add(row);
                string metric = trainEval.Main.Name;
                sink.Line($"epoch {epoch + 1,3}/{c.Epochs}  train loss {row.TrainLoss:F4}  {metric} {Show(metric, row.TrainMetric)}" +
                    (valEval != null ? $"  val loss {row.ValLoss:F4}  {metric} {Show(metric, row.ValMetric)}" : "") +
                    $"  lr {row.Lr:G3}  {epochWatch.Elapsed.TotalSeconds:F1}s");
                if (sched != null && sched is not OneCycleLR) sched.Step();
                plateau?.Step(monitored);
                if (monitored < best - 1e-12) { best = monitored; bad = 0; bestEpoch = epoch + 1; if (c.EarlyStopping > 0) Safetensors.SaveModule(Path.Combine(dir, "best.safetensors"), model); }
                else bad++;
                stoppedEarly = c.EarlyStopping > 0 && bad >= c.EarlyStopping;
                SaveCheckpoint(epoch + 1, 0);
                if (StopRequested && !stoppedEarly) { interrupted = true; break; }
                if (stoppedEarly)
                {
                    sink.Line($"early stopping: no improvement of the {(valEval != null ? "validation" : "training")} loss for {c.EarlyStopping} epochs; restoring the best weights (loss {best:F4}).");
                    Safetensors.LoadModule(Path.Combine(dir, "best.safetensors"), model);
                    break;
                }
            }
        });
        if (stop != null) throw new UserError(stop);
        var test = Evaluation.Run(model, loss, p, p.XTest, p.YTest);
        return new TrainResult
        {
            Epochs = epochs, Steps = steps, Test = test, MetricName = test.Main.Name, Seconds = priorSeconds + sw.Elapsed.TotalSeconds,
            Model = model, Interrupted = interrupted, StoppedEarly = stoppedEarly, BestEpoch = bestEpoch, SamplesPerSecond = samples / Math.Max(throughput.Elapsed.TotalSeconds, 1e-9),
        };
    }

    public static string Show(string metric, double v) => metric.Contains("accuracy") ? $"{v * 100:F1}%" : v.ToString("F4", CultureInfo.InvariantCulture);

    public static void WriteCurves(string dir, List<EpochRow> epochs, List<StepRow> steps)
    {
        RunFiles.WriteAtomic(Path.Combine(dir, "epochs.csv"), RunFiles.Csv(["epoch", "train_loss", "train_metric", "val_loss", "val_metric", "lr", "seconds"],
            epochs.Select(e => new object[] { e.Epoch, e.TrainLoss, e.TrainMetric, e.ValLoss, e.ValMetric, e.Lr, e.Seconds })));
        RunFiles.WriteAtomic(Path.Combine(dir, "steps.csv"), RunFiles.Csv(["step", "epoch", "loss", "lr"],
            steps.Select(s => new object[] { s.Step, s.Epoch, s.Loss, s.Lr })));
    }

    private static IEnumerable<string[]> CsvRows(string path) => File.Exists(path) ? File.ReadLines(path).Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')) : [];
    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    public static List<EpochRow> ReadEpochs(string path) =>
        CsvRows(path).Select(r => new EpochRow(int.Parse(r[0], CultureInfo.InvariantCulture), D(r[1]), D(r[2]), D(r[3]), D(r[4]), D(r[5]), D(r[6]))).ToList();

    public static List<StepRow> ReadSteps(string path) =>
        CsvRows(path).Select(r => new StepRow(long.Parse(r[0], CultureInfo.InvariantCulture), int.Parse(r[1], CultureInfo.InvariantCulture), D(r[2]), D(r[3]))).ToList();
}
