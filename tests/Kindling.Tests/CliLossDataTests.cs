using System.Buffers.Binary;
using Kindling.IO;
using Kindling.NN;

namespace Kindling.Tests;

/// <summary>
/// Every --loss value computes the loss it names: with --lr 0, a linear model, no scaling and one full batch, the first
/// step's loss in steps.csv is the functional loss of the saved (unchanged) model on the training rows. Also
/// `compare --losses` and IDX / Fashion-MNIST data through the CLI.
/// </summary>
public class CliLossDataTests
{
    private static string Cls(int i, Random r) { double a = r.NextDouble(), b = r.NextDouble(); return $"{a:F4},{b:F4},{(a + b < 0.7 ? "low" : a + b < 1.3 ? "mid" : "high")}"; }
    private static string Bin(int i, Random r) { double a = r.NextDouble(), b = r.NextDouble(); return $"{a:F4},{b:F4},{(a > b ? 1 : 0)}"; }
    private static string Multi(int i, Random r) { double a = r.NextDouble(), b = r.NextDouble(); return $"{a:F4},{b:F4},{(a > 0.5 ? 1 : 0)},{(b > 0.4 ? 1 : 0)}"; }
    private static string Reg(int i, Random r) { double a = r.NextDouble(), b = r.NextDouble(); return $"{a:F4},{b:F4},{1 + 3 * a + (int)(4 * b)}"; }

    public static TheoryData<string, string> Losses() => new()
    {
        { "classification", "focal" }, { "classification", "nll" }, { "classification", "multi_margin" }, { "classification", "l1" },
        { "classification", "huber" }, { "binary", "soft_margin" }, { "multilabel", "multilabel_soft_margin" },
        { "regression", "smooth_l1" }, { "regression", "poisson_nll" },
    };

    [Theory]
    [MemberData(nameof(Losses))]
    public void EachLossValueComputesTheLossItNames(string task, string loss)
    {
        var dir = CliHarness.Tmp("loss-" + loss);
        var (row, header, target) = task switch
        {
            "classification" => ((Func<int, Random, string>)Cls, "a,b,kind", new[] { "--target", "kind" }),
            "binary" => (Bin, "a,b,label", new[] { "--target", "label" }),
            "multilabel" => (Multi, "a,b,t1,t2", new[] { "--target", "t1,t2" }),
            _ => (Reg, "a,b,count", new[] { "--target", "count" }),
        };
        var data = CliHarness.Csv(dir, "d.csv", header, 90, row);
        var test = CliHarness.Csv(dir, "t.csv", header, 30, row, seed: 3);
        var run = Path.Combine(dir, "run");
        CliHarness.Ok(["train", "--data", data, .. target, "--test", test, "--val-split", "0", "--loss", loss, "--hidden", "", "--lr", "0",
            "--scale", "none", "--batch-size", "1000", "--epochs", "1", "--out", run]);
        var cfg = CliHarness.Config(run);
        Assert.Equal(task, cfg["resolved_task"]!.GetValue<string>());
        Assert.Equal(loss, cfg["resolved_loss"]!.GetValue<string>());

        var m = Safetensors.Load(Path.Combine(run, "model.safetensors")).Tensors;
        var rows = File.ReadAllLines(data).Skip(1).Select(l => l.Split(',')).ToArray();
        var x = Tensor.FromArray(rows.SelectMany(r => r.Take(2).Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture))).ToArray(), rows.Length, 2);
        var o = Tensor.Matmul(x, m["0.weight"].T) + m["0.bias"];
        Tensor expected;
        if (task == "classification")
        {
            var classes = cfg["class_names"]!.AsArray().Select(v => v!.GetValue<string>()).ToList();
            var y = Tensor.FromArray(rows.Select(r => (long)classes.IndexOf(r[2])).ToArray());
            var oneHot = Tensor.OneHot(y, 3).ToFloat32();
            expected = loss switch
            {
                "focal" => Functional.SoftmaxFocalLoss(o, y),
                "nll" => Functional.NllLoss(o.LogSoftmax(1), y),
                "multi_margin" => Functional.MultiMarginLoss(o, y),
                "l1" => Functional.L1Loss(o.Softmax(1), oneHot),
                _ => Functional.HuberLoss(o.Softmax(1), oneHot),
            };
        }
        else
        {
            var y = Tensor.FromArray(rows.SelectMany(r => r.Skip(2).Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture))).ToArray(), rows.Length, rows[0].Length - 2);
            expected = loss switch
            {
                "soft_margin" => Functional.SoftMarginLoss(o, y * 2 - 1),
                "multilabel_soft_margin" => Functional.MultilabelSoftMarginLoss(o, y),
                "smooth_l1" => Functional.SmoothL1Loss(o, y),
                _ => Functional.PoissonNllLoss(o, y),
            };
        }
        double got = CliHarness.Numbers(Path.Combine(run, "steps.csv"), "loss")[0];
        Assert.Equal(expected.ItemDouble(), got, 1e-5 * Math.Max(1, Math.Abs(got)));
    }

    [Fact]
    public void CompareTrainsExactlyTheListedLosses()
    {
        var dir = CliHarness.Tmp("compare-losses");
        var data = CliHarness.Csv(dir, "r.csv", "a,b,count", 120, Reg);
        var outDir = Path.Combine(dir, "cmp");
        CliHarness.Ok("compare", "--data", data, "--target", "count", "--losses", "l1,smooth_l1", "--epochs", "2", "--out", outDir);
        Assert.Equal(new[] { "l1", "smooth_l1" }, CliHarness.Column(Path.Combine(outDir, "summary.csv"), "loss"));
        foreach (var l in new[] { "l1", "smooth_l1" })
            Assert.Equal(l, CliHarness.Config(Path.Combine(outDir, l, "seed-42"))["resolved_loss"]!.GetValue<string>());
        Assert.False(Directory.Exists(Path.Combine(outDir, "mse"))); // not the default mse,l1,huber
    }

    private static byte[] Idx(int[] dims, byte[] data)
    {
        var b = new byte[4 + 4 * dims.Length + data.Length];
        b[2] = 0x08; b[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(b, 4 + 4 * dims.Length);
        return b;
    }

    [Fact]
    public void AFolderOfIdxFilesTrainsAsFashionMnist()
    {
        var dir = CliHarness.Tmp("idx");
        var folder = Directory.CreateDirectory(Path.Combine(dir, "idx")).FullName;
        const int n = 200;
        var rnd = new Random(4);
        var labels = Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray();
        // 28×28 images whose brightness encodes the label, so the model can learn something.
        var pixels = Enumerable.Range(0, n * 784).Select(k => (byte)Math.Clamp(labels[k / 784] * 25 + rnd.Next(-10, 10), 0, 255)).ToArray();
        File.WriteAllBytes(Path.Combine(folder, "train-images-idx3-ubyte"), Idx([n, 28, 28], pixels));
        File.WriteAllBytes(Path.Combine(folder, "train-labels-idx1-ubyte"), Idx([n], labels));
        var run = Path.Combine(dir, "run");
        var r = CliHarness.Ok("train", "--data", folder, "--epochs", "2", "--hidden", "8", "--out", run);
        Assert.Contains("144 train, 16 validation, 40 test rows (held out at random", r.Out); // 200 rows, no t10k files: 20 % test, 10 % of the rest validation
        Assert.Contains(", 784 features", r.Out);
        var cfg = CliHarness.Config(run);
        Assert.Equal(784, cfg["feature_names"]!.AsArray().Count);
        Assert.Equal("Ankle boot", cfg["class_names"]!.AsArray()[9]!.GetValue<string>());
        Assert.Equal(new[] { 8, 784 }, Safetensors.Load(Path.Combine(run, "model.safetensors")).Tensors["0.weight"].Shape);
    }

    [SkippableFact]
    public void FashionMnistTrainsThroughTheCli()
    {
        Skip.IfNot(Kindling.Data.FashionMnist.IsAvailable(), "Fashion-MNIST is not installed (.ci/run installs it: apt-get install dataset-fashion-mnist)");
        var run = Path.Combine(CliHarness.Tmp("fmnist"), "run");
        var r = CliHarness.Ok("train", "--data", "fashion-mnist", "--epochs", "1", "--hidden", "32", "--batch-size", "256", "--out", run);
        Assert.Contains("784 features", r.Out);
        var acc = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(run, "test_metrics.json")))!["accuracy"]!.GetValue<double>();
        Assert.InRange(acc, 0.75, 1.0); // one epoch of an MLP reaches ~80 % on Fashion-MNIST; chance is 10 %
    }
}
