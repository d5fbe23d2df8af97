using System.Diagnostics;
using System.Globalization;
using Kindling.Data;
using Kindling.Distributed;
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
/// Batches come from the library's <see cref="DataLoader"/> over a <see cref="DistributedSampler"/>: under mpirun each
/// rank trains on its shard of every global batch (<c>--batch-size</c> stays global), gradients are summed weighted by
/// each rank's share, the step loss and the stop request are reduced over ranks, and only rank 0 writes files.
/// </summary>
public static class Trainer
{
    public static volatile bool StopRequested;

    private static ulong Mix(ulong seed, long k) => DistributedSampler.EpochSeed(seed, k);

    /// <summary>The --optimizer from the registry, with the options that have a flag (--lr, --momentum, --weight-decay).</summary>
    public static Optimizer MakeOptimizer(TrainConfig c, Module model) => OptionChecks.Optimizer(c).Build(model.Parameters(), OptionChecks.OptimizerOptions(c));

    /// <summary>The --scheduler from the registry: an LRScheduler, a ReduceLROnPlateau, or null for none.</summary>
    private static object? MakeScheduler(TrainConfig c, Optimizer opt, int batches) =>
        OptionChecks.Scheduler(c).Build(opt, new Kindling.Registry.ScheduleLength(c.Epochs, batches, c.LearningRate));

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
        // Broadcasts rank 0's initial weights (identical anyway: same seed) and sums gradients over ranks after backward.
        var ddp = new DistributedDataParallel(model);
        int world = Distributed.Distributed.WorldSize, rank = Distributed.Distributed.Rank;
        bool main = Distributed.Distributed.IsMain;
        var opt = MakeOptimizer(c, model);
        int n = p.XTrain.Size(0), bs = Math.Min(c.BatchSize, n); // a batch larger than the data is the whole data (and no int overflow)
        if (c.BatchSize < world) throw new UserError($"--batch-size {c.BatchSize} is the global batch and must give each of the {world} processes at least one sample; use --batch-size {world} or more.");
        int lastBatch = n % bs;
        if (c.BatchNorm && lastBatch != 0 && lastBatch < world)
            throw new UserError($"--batch-norm on {world} processes: the last batch of each epoch has {lastBatch} of the {n} training rows, fewer than the processes, and synchronised batch norm needs every process in every step; use a --batch-size that leaves 0 or at least {world} rows for the last batch (for example {SuggestBatch(n, bs, world)}).");
        // Batch norm cannot normalise a one-row final batch: it is dropped (BatchNormBatches; the data line said so).
        var sampler = new DistributedSampler(n, bs, world, rank, c.Shuffle, c.Seed, dropLast: BatchNormBatches.Plan(c, n, p.XTrain.Size(1), world).DropLast);
        var loader = new DataLoader(p.XTrain, sampler); // batches gathered from the one copy of the data, prepared per batch
        int batches = sampler.Count;
        var made = MakeScheduler(c, opt, batches);
        var sched = made as LRScheduler;
        var plateau = made as ReduceLROnPlateau;
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
            int savedWorld = ck.Metadata.TryGetValue("world_size", out var ws) && int.TryParse(ws, CultureInfo.InvariantCulture, out var wsi) ? wsi : 1;
            if (savedWorld != world)
                throw new UserError($"--resume {dir}: the run was trained on {savedWorld} process{(savedWorld == 1 ? "" : "es")} and continues exactly only on the same number; start it with {(savedWorld == 1 ? "a single process (no mpirun)" : $"mpirun -np {savedWorld}")} (now {world}).");
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
            if (main) output.Info($"resuming {dir} at epoch {startEpoch + 1}, step {step}");
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
            if (!main) return;
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
                ["stopped_early"] = stoppedEarly ? "1" : "0", ["world_size"] = world.ToString(CultureInfo.InvariantCulture),
            };
            if (plateau != null) foreach (var (k, v) in plateau.StateDict()) meta["plateau." + k] = v.ToString("R", CultureInfo.InvariantCulture);
            CheckpointWriter.Save(ckpt, t, meta);
        }

        output.WithProgress(sink =>
        {
            for (int epoch = startEpoch; epoch < c.Epochs && stop == null && !interrupted; epoch++)
            {
                sink.StartEpoch(epoch + 1, c.Epochs, batches);
                double lossSum = 0; int seen = 0;
                var epochWatch = Stopwatch.StartNew();
                int b = epoch == startEpoch ? startBatch : 0;
                sampler.SetEpoch(epoch, b);
                foreach (var (xb, yb) in loader)
                {
                    int globalCount = sampler.GlobalBatchLength(b), localCount = xb.Size(0);
                    double share = (double)localCount / globalCount;
                    dropGen.ManualSeed(Mix(c.Seed ^ 0xD509, step));
                    opt.ZeroGrad();
                    // A rank whose shard of a short final batch is empty computes nothing, but still joins the collectives.
                    double lv = 0;
                    if (localCount > 0)
                    {
                        var l = loss.Fn(model.Call(xb), yb);
                        var total = c.L1 > 0 ? l + c.L1 * GradClip.L1Penalty(l1Params) : l;
                        lv = l.ItemDouble();
                        if (double.IsFinite(lv)) total.Backward();
                    }
                    // One small allreduce per step: the global batch's mean loss Σ_r share_r·loss_r, and whether any rank wants to stop.
                    Span<double> reduced = [lv * share, StopRequested || step + 1 >= stopAfter ? 1 : 0];
                    if (world > 1) Distributed.Distributed.AllReduceSum(reduced);
                    if (world > 1) lv = reduced[0];
                    if (!double.IsFinite(lv))
                    {
                        string kept = File.Exists(ckpt) ? $"the last good checkpoint is {ckpt}" : "no checkpoint had been written yet";
                        stop = $"the loss became {(double.IsNaN(lv) ? "NaN" : "infinite")} at step {step + 1} (epoch {epoch + 1}); training stopped and {kept}. Try a lower learning rate (--lr, now {opt.ParamGroups[0].Lr ?? opt.Lr:G3}).";
                        break;
                    }
                    ddp.SynchronizeGradients(share);
                    double stepLr = opt.ParamGroups[0].Lr ?? opt.Lr; // the rate this step uses, before OneCycleLR moves it
                    opt.Step();
                    step++;
                    if (sched is OneCycleLR && step < (long)c.Epochs * batches) sched.Step();
                    lossSum += lv * globalCount; seen += globalCount; samples += globalCount;
                    steps.Add(new StepRow(step, epoch + 1, lv, stepLr));
                    double rate = samples / Math.Max(throughput.Elapsed.TotalSeconds, 1e-9);
                    double remaining = ((double)(c.Epochs - epoch - 1) * n + (n - Math.Min(n, (b + 1) * bs))) / Math.Max(rate, 1e-9);
                    sink.Step(b + 1, lossSum / seen, rate, TimeSpan.FromSeconds(Math.Min(remaining, 359999)));
                    b++;
                    // Every rank must stop at the same step: under mpirun only the reduced flag counts.
                    bool stopNow = world > 1 ? reduced[1] > 0 : StopRequested || step >= stopAfter;
                    if (stopNow) StopRequested = true;
                    if (stopNow && b < batches)
                    {
                        SaveCheckpoint(epoch, b);
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
                if (monitored < best - 1e-12) { best = monitored; bad = 0; bestEpoch = epoch + 1; if (c.EarlyStopping > 0 && main) Safetensors.SaveModule(Path.Combine(dir, "best.safetensors"), model); }
                else bad++;
                stoppedEarly = c.EarlyStopping > 0 && bad >= c.EarlyStopping;
                SaveCheckpoint(epoch + 1, 0);
                if (AgreeStop(world) && !stoppedEarly) { interrupted = true; break; }
                if (stoppedEarly)
                {
                    sink.Line($"early stopping: no improvement of the {(valEval != null ? "validation" : "training")} loss for {c.EarlyStopping} epochs; restoring the best weights (loss {best:F4}).");
                    if (main) Safetensors.LoadModule(Path.Combine(dir, "best.safetensors"), model); // only rank 0's model is written
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

    private static int SuggestBatch(int n, int bs, int world)
    {
        for (int b = bs + 1; b < n; b++) if (n % b == 0 || n % b >= world) return b;
        return n;
    }

    /// <summary>Whether any rank has been asked to stop (every rank gets the same answer); StopRequested in one process.</summary>
    private static bool AgreeStop(int world)
    {
        if (world == 1) return StopRequested;
        Span<double> flag = [StopRequested ? 1 : 0];
        Distributed.Distributed.AllReduceSum(flag);
        if (flag[0] > 0) StopRequested = true;
        return flag[0] > 0;
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
