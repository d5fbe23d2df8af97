using System.Globalization;
using Kindling.IO;
using Kindling.NN;

namespace Kindling.Tests;

/// <summary>
/// Each `train` option shown to have its effect (not only that the run exits 0), on small data: the files a run writes
/// (model.safetensors shapes, checkpoint optimizer state, steps.csv/epochs.csv numbers) change as the option says.
/// </summary>
public class CliOptionTests
{
    private static string Row3(int i, Random r) { double a = r.NextDouble(), b = r.NextDouble(), c = r.NextDouble(); return $"{a:F4},{b:F4},{c:F4},{(a + 0.5 * b > 0.75 ? 1 : 0)}"; }

    /// <summary>A 3-feature binary CSV of <paramref name="n"/> rows and a 30-row test file.</summary>
    private static (string Dir, string Data, string Test) Binary(string name, int n = 120)
    {
        var dir = CliHarness.Tmp(name);
        return (dir, CliHarness.Csv(dir, "d.csv", "a,b,c,label", n, Row3), CliHarness.Csv(dir, "t.csv", "a,b,c,label", 30, Row3, seed: 9));
    }

    private static string Train(string dir, string tag, params string[] args)
    {
        var run = Path.Combine(dir, tag);
        CliHarness.Ok(["train", .. args, "--out", run]);
        return run;
    }

    private static IReadOnlyDictionary<string, Tensor> Model(string run) => Safetensors.Load(Path.Combine(run, "model.safetensors")).Tensors;
    private static IReadOnlyDictionary<string, Tensor> Checkpoint(string run) => Safetensors.Load(Path.Combine(run, "checkpoint.safetensors")).Tensors;
    private static double[] Lr(string run, string file = "epochs.csv") => CliHarness.Numbers(Path.Combine(run, file), "lr");
    private static double[] StepLoss(string run) => CliHarness.Numbers(Path.Combine(run, "steps.csv"), "loss");
    private static double SumSq(string run, Func<string, double, double>? f = null) =>
        Model(run).Where(kv => kv.Key.EndsWith("weight")).Sum(kv => kv.Value.ToDoubleArray().Sum(v => f?.Invoke(kv.Key, v) ?? v * v));

    [Fact]
    public void HiddenAndBatchNormShapeTheModel()
    {
        var (dir, data, test) = Binary("opt-hidden");
        var m = Model(Train(dir, "a", "--data", data, "--test", test, "--epochs", "1", "--hidden", "7,5", "--batch-norm", "true"));
        // Linear(3→7), BatchNorm1d(7), act, Linear(7→5), BatchNorm1d(5), act, Linear(5→1): PyTorch nn.Sequential indices.
        Assert.Equal(new[] { 7, 3 }, m["0.weight"].Shape);
        Assert.Equal(new[] { 7 }, m["1.running_mean"].Shape);
        Assert.Equal(new[] { 5, 7 }, m["3.weight"].Shape);
        Assert.Equal(new[] { 5 }, m["4.running_var"].Shape);
        Assert.Equal(new[] { 1, 5 }, m["6.weight"].Shape);
        var linear = Model(Train(dir, "b", "--data", data, "--test", test, "--epochs", "1", "--hidden", ""));
        Assert.Equal(new[] { "0.bias", "0.weight" }, linear.Keys.Order().ToArray());
        Assert.Equal(new[] { 1, 3 }, linear["0.weight"].Shape);
    }

    [Fact]
    public void SplitsAndBatchSizeSetTheRowsAndSteps()
    {
        var (dir, data, _) = Binary("opt-split", n: 200);
        var run = Path.Combine(dir, "s");
        var r = CliHarness.Ok("train", "--data", data, "--test-split", "0.5", "--val-split", "0.25", "--batch-size", "16", "--epochs", "2", "--out", run);
        // 200 rows: 100 test, 25 of the other 100 for validation, 75 to train in ⌈75/16⌉ = 5 batches per epoch.
        Assert.Contains("75 train, 25 validation, 100 test rows", r.Out);
        Assert.Equal(10, StepLoss(run).Length);
        Assert.Equal(new double[] { 1, 1, 1, 1, 1, 2, 2, 2, 2, 2 }, CliHarness.Numbers(Path.Combine(run, "steps.csv"), "epoch"));
        var noVal = Path.Combine(dir, "nv");
        var r2 = CliHarness.Ok("train", "--data", data, "--test-split", "0.1", "--val-split", "0", "--epochs", "1", "--out", noVal);
        Assert.Contains("180 train, 0 validation, 20 test rows", r2.Out);
        Assert.All(CliHarness.Column(Path.Combine(noVal, "epochs.csv"), "val_loss"), v => Assert.Equal("NaN", v));
    }

    [Fact]
    public void ActivationChangesTheTrainedWeights()
    {
        var (dir, data, test) = Binary("opt-act");
        string[] common = ["--data", data, "--test", test, "--epochs", "2", "--hidden", "6"];
        var relu = Model(Train(dir, "relu", common));
        foreach (var act in new[] { "tanh", "gelu", "elu", "silu", "leaky_relu", "sigmoid" })
        {
            var other = Model(Train(dir, act, [.. common, "--activation", act]));
            Assert.Equal(relu["0.weight"].Shape, other["0.weight"].Shape);
            Assert.NotEqual(relu["2.weight"].ToArray(), other["2.weight"].ToArray()); // same init and batches, another nonlinearity
        }
    }

    [Fact]
    public void OptimizerOptionsReachTheOptimizer()
    {
        var (dir, data, test) = Binary("opt-optim");
        string[] common = ["--data", data, "--test", test, "--epochs", "2"];
        string[] longer = ["--data", data, "--test", test, "--epochs", "4"];
        // SGD momentum: a momentum buffer exists only with momentum.
        Assert.Contains(Checkpoint(Train(dir, "m9", [.. common, "--optimizer", "sgd", "--momentum", "0.9"])).Keys, k => k.EndsWith("momentum_buffer"));
        Assert.DoesNotContain(Checkpoint(Train(dir, "m0", [.. common, "--optimizer", "sgd", "--momentum", "0"])).Keys, k => k.EndsWith("momentum_buffer"));
        // Each optimizer keeps its own PyTorch-named state, and its default learning rate shows in steps.csv.
        foreach (var (opt, key, lr) in new[] { ("adamw", "exp_avg_sq", 1e-3), ("rmsprop", "square_avg", 1e-2), ("adagrad", "sum", 1e-2) })
        {
            var run = Train(dir, opt, [.. common, "--optimizer", opt]);
            Assert.Contains(Checkpoint(run).Keys, k => k.EndsWith("." + key));
            Assert.All(Lr(run, "steps.csv"), v => Assert.Equal(lr, v));
        }
        // Weight decay and an L1 penalty shrink the weights against the same run without them.
        string[] adam = [.. longer, "--lr", "0.05"];
        double plain = SumSq(Train(dir, "plain", adam));
        Assert.True(SumSq(Train(dir, "wd", [.. adam, "--weight-decay", "0.5"])) < 0.8 * plain);
        double l1 = SumSq(Train(dir, "l1", [.. adam, "--l1", "0.05"]), (_, v) => Math.Abs(v));
        Assert.True(l1 < 0.8 * SumSq(Train(dir, "plain2", adam), (_, v) => Math.Abs(v)), $"L1 norm {l1}");
    }

    public static TheoryData<string> SchedulerNames() => new("step", "cosine", "exponential", "warmup", "onecycle", "plateau");

    private const double PlateauLr = 1e-6; // small enough not to improve the loss, big enough that a cut exceeds eps (1e-8)

    [Theory]
    [MemberData(nameof(SchedulerNames))]
    public void SchedulersShapeTheLearningRate(string scheduler)
    {
        // 64 rows in one batch: one step per epoch, so the epoch and step learning rates are the schedule's.
        var (dir, data, test) = Binary("opt-sched-" + scheduler, n: 64);
        const double lr = 0.01;
        const int epochs = 9;
        var run = Train(dir, scheduler, "--data", data, "--test", test, "--val-split", "0", "--batch-size", "64", "--epochs", epochs.ToString(CultureInfo.InvariantCulture),
            "--optimizer", "sgd", "--lr", (scheduler == "plateau" ? PlateauLr : lr).ToString("R", CultureInfo.InvariantCulture), "--scheduler", scheduler);
        var got = Lr(run);
        Assert.Equal(epochs, got.Length);
        double[] expected = scheduler switch
        {
            // StepLR(step_size = epochs/3, γ = 0.1) / CosineAnnealingLR(T_max = epochs) / ExponentialLR(0.95) /
            // LinearLR(0.1 → 1 over max(1, epochs/10) epochs), each logged at the end of the epoch it applied to.
            "step" => Enumerable.Range(0, epochs).Select(e => lr * Math.Pow(0.1, e / 3)).ToArray(),
            "cosine" => Enumerable.Range(0, epochs).Select(e => lr * (1 + Math.Cos(Math.PI * e / epochs)) / 2).ToArray(),
            "exponential" => Enumerable.Range(0, epochs).Select(e => lr * Math.Pow(0.95, e)).ToArray(),
            "warmup" => Enumerable.Range(0, epochs).Select(e => e == 0 ? lr * 0.1 : lr).ToArray(),
            // ReduceLROnPlateau(patience 3, factor 0.1, threshold 1e-4 relative): at lr 1e-6 the loss never improves by
            // 1e-4, so after epoch 1 sets the best, epochs 2–5 are bad and the cut applies from epoch 6.
            "plateau" => Enumerable.Range(0, epochs).Select(e => e < 5 ? PlateauLr : PlateauLr / 10).ToArray(),
            _ => [],
        };
        if (scheduler == "onecycle")
        {
            // Per step: up from lr/25 towards lr over 30 % of the steps, then down towards lr/25/1e4.
            var steps = Lr(run, "steps.csv");
            int peak = Array.IndexOf(steps, steps.Max());
            Assert.InRange(peak, 1, epochs - 2);
            Assert.InRange(steps.Max(), 0.8 * lr, lr); // the peak falls between two of the 9 steps
            // steps.csv records the rate each step used: row 1 is OneCycleLR's start, max_lr / div_factor (25).
            Assert.Equal(lr / 25, steps[0], 1e-15);
            Assert.True(steps[^1] < steps[0] / 10, string.Join(", ", steps));
            for (int i = 1; i < steps.Length; i++)
                Assert.True(i <= peak ? steps[i] > steps[i - 1] : steps[i] <= steps[i - 1], string.Join(", ", steps));
            return;
        }
        for (int e = 0; e < epochs; e++) Assert.True(Math.Abs(expected[e] - got[e]) <= 1e-9 * expected[e], $"epoch {e + 1}: lr {got[e]}, expected {expected[e]}; all: {string.Join(", ", got)}");
    }

    [Fact]
    public void EarlyStoppingStopsAndKeepsTheBestWeights()
    {
        var (dir, data, test) = Binary("opt-early");
        // lr 0: the validation loss never improves after epoch 1, so 2 bad epochs end the run at epoch 3 of 20.
        var run = Path.Combine(dir, "run");
        var r = CliHarness.Ok("train", "--data", data, "--test", test, "--epochs", "20", "--early-stopping", "2", "--lr", "0", "--out", run);
        Assert.Equal(new double[] { 1, 2, 3 }, CliHarness.Numbers(Path.Combine(run, "epochs.csv"), "epoch"));
        Assert.Contains("early stopping", r.Out);
        Assert.True(File.Exists(Path.Combine(run, "best.safetensors")));
    }

    [Fact]
    public void ClassWeightsAndLabelSmoothingChangeTheLoss()
    {
        var (dir, data, test) = Binary("opt-cw", n: 64);
        string[] common = ["--data", data, "--test", test, "--val-split", "0", "--batch-size", "64", "--epochs", "1", "--lr", "0", "--hidden", ""];
        double plain = StepLoss(Train(dir, "plain", common))[0];
        double weighted = StepLoss(Train(dir, "w", [.. common, "--class-weights", "1,3"]))[0];
        double balanced = StepLoss(Train(dir, "b", [.. common, "--class-weights", "balanced"]))[0];
        Assert.NotEqual(plain, weighted);
        Assert.NotEqual(plain, balanced);
        Assert.NotEqual(weighted, balanced);
        var ce = StepLoss(Train(dir, "ce", [.. common, "--loss", "cross_entropy"]))[0];
        var ls = StepLoss(Train(dir, "ls", [.. common, "--loss", "cross_entropy", "--label-smoothing", "0.3"]))[0];
        Assert.NotEqual(ce, ls);
    }

    [Fact]
    public void InitLoadsTheWeightsAndShuffleFalseKeepsTheOrder()
    {
        var (dir, data, test) = Binary("opt-init");
        var first = Train(dir, "first", "--data", data, "--test", test, "--epochs", "2", "--hidden", "4");
        // lr 0 and --init: the model written is exactly the file it started from.
        var again = Train(dir, "again", "--data", data, "--test", test, "--epochs", "1", "--hidden", "4", "--lr", "0", "--seed", "99",
            "--init", Path.Combine(first, "model.safetensors"));
        foreach (var (k, v) in Model(first)) Assert.Equal(v.ToArray(), Model(again)[k].ToArray());
        // lr 0: without shuffling every epoch sees the same batches, so the step losses repeat; with shuffling they do not.
        string[] still = ["--data", data, "--test", test, "--epochs", "2", "--lr", "0", "--batch-size", "16"];
        var fixedOrder = StepLoss(Train(dir, "noshuffle", [.. still, "--shuffle", "false"]));
        int half = fixedOrder.Length / 2;
        Assert.Equal(fixedOrder[..half], fixedOrder[half..]);
        var shuffled = StepLoss(Train(dir, "shuffle", still));
        Assert.NotEqual(shuffled[..half], shuffled[half..]);
    }
}
