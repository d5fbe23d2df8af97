using System.Diagnostics;
using System.IO.Compression;
using Kindling.Data;
using F = Kindling.NN.Functional;

namespace Kindling.Tests;

/// <summary>
/// Issue 23, stack traces, crashes and hangs: batch norm with a one-row final batch or 1×1 maps at batch 1, CNN
/// memory estimates (including from a run folder's config), IDX and CIFAR files that are FIFOs, multi-member gzip,
/// and multilabel_margin_loss on an empty class dimension.
/// </summary>
[Collection("InProcessCli")]
public class CrashGuardTests
{
    private static CliTests.Result Run(params string[] args) => InProcessCli.Run(args);
    private static void Error(CliTests.Result r, params string[] parts) => CliRobustnessTests.AssertOneLineError(r, parts);

    [Fact]
    public void BatchNormDropsAOneRowFinalBatchAndSaysSoInTrainAndCompare()
    {
        var dir = CliRobustnessTests.Tmp("bn-one-row");
        // digits: 1,294 training rows = 431 × 3 + 1.
        var (r, crash) = InProcessCli.RunCatching(["train", "--batch-norm", "--batch-size", "3", "--epochs", "1", "--hidden", "8", "--out", Path.Combine(dir, "run")]);
        Assert.Null(crash);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("1294 rows = 431 × 3 + 1", r.Out);
        Assert.Contains("left out of each epoch", r.Out.Split('\n').First(l => l.StartsWith("data:", StringComparison.Ordinal)));
        Assert.Equal(431, File.ReadAllLines(Path.Combine(dir, "run", "steps.csv")).Count(l => l.Length > 0) - 1);
        var (c, crash2) = InProcessCli.RunCatching(["compare", "--batch-norm", "--batch-size", "3", "--epochs", "1", "--hidden", "8", "--out", Path.Combine(dir, "cmp")]);
        Assert.Null(crash2);
        Assert.True(c.Code == 0, c.Err);
    }

    [Fact]
    public void BatchNormOnOneValuePerChannelIsRefusedUpFront()
    {
        var dir = CliRobustnessTests.Tmp("bn-one-value");
        // 8×8 digits through four conv blocks: 8 → 4 → 2 → 1, then 1×1 maps; at batch 1 each channel holds one value.
        var (r, crash) = InProcessCli.RunCatching(["train", "--model", "cnn", "--conv", "4,4,4,4", "--batch-norm", "--batch-size", "1", "--epochs", "1", "--out", Path.Combine(dir, "cnn")]);
        Assert.Null(crash);
        Error(r, "--batch-norm needs at least 2 values per channel", "--batch-size 2");
        Error(Run("train", "--batch-norm", "--batch-size", "1", "--epochs", "1", "--out", Path.Combine(dir, "mlp")), "--batch-size 1");
    }

    [Theory]
    [InlineData("1000000")]
    [InlineData("2147483647")]
    [InlineData("64,1000000,64")]
    public void HugeCnnChannelCountsAreRefusedByTheMemoryEstimate(string conv)
    {
        var (r, crash) = InProcessCli.RunCatching(["train", "--model", "cnn", "--conv", conv, "--epochs", "1", "--out", Path.Combine(CliRobustnessTests.Tmp("cnn-huge"), "run")]);
        Assert.Null(crash);
        Error(r, $"--conv {conv}", "memory");
    }

    [Fact]
    public void ARunFolderWhoseConfigHoldsAHugeConvIsRefused()
    {
        var dir = CliRobustnessTests.Tmp("cnn-config");
        var run = Path.Combine(dir, "run");
        CliHarness.Ok("train", "--model", "cnn", "--conv", "2", "--hidden", "4", "--epochs", "1", "--out", run);
        var cfg = Path.Combine(run, "config.json");
        File.WriteAllText(cfg, System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(cfg), "\"conv\": \\[[^\\]]*\\]", "\"conv\": [2000000000]"));
        foreach (var args in new[] { new[] { "eval", run }, ["export", run, "--onnx", Path.Combine(dir, "m.onnx")], ["train", "--resume", run] })
        {
            var (r, crash) = InProcessCli.RunCatching(args);
            Assert.Null(crash);
            Error(r, "--conv 2000000000");
        }
    }

    [Fact]
    public void IdxAndCifarFilesThatAreFifosAreRefusedWithoutBlocking()
    {
        var dir = CliRobustnessTests.Tmp("idx-fifo");
        var fifo = Path.Combine(dir, "train-images-idx3-ubyte");
        using (var p = Process.Start("mkfifo", [fifo])) p.WaitForExit();
        string? message = null;
        var reader = new Thread(() => message = Assert.Throws<DataException>(() => Idx.ReadImages(fifo)).Message) { IsBackground = true };
        reader.Start();
        Assert.True(reader.Join(TimeSpan.FromSeconds(20)), "reading an IDX FIFO blocked");
        Assert.Contains("pipe (FIFO)", message);
    }

    [Fact]
    public void AMultiMemberGzipIdxFileIsRead()
    {
        var dir = CliRobustnessTests.Tmp("idx-multigz");
        byte[] header = [0, 0, 8, 1, 0, 0, 0, 6];
        byte[] Gz(byte[] b)
        {
            using var ms = new MemoryStream();
            using (var gz = new GZipStream(ms, CompressionLevel.Fastest)) gz.Write(b);
            return ms.ToArray();
        }
        var path = Path.Combine(dir, "labels.gz");
        File.WriteAllBytes(path, [.. Gz([.. header, 1, 2, 3]), .. Gz([4, 5, 6])]); // cat a.gz b.gz
        Assert.Equal([1L, 2, 3, 4, 5, 6], Idx.ReadLabels(path).ToInt64Array());
        // Truncated (the second member missing) is still refused.
        File.WriteAllBytes(path, Gz([.. header, 1, 2, 3]));
        Assert.Contains("truncated", Assert.Throws<DataException>(() => Idx.ReadLabels(path)).Message);
    }

    [Fact]
    public void MultilabelMarginLossRefusesAnEmptyClassDimensionLikePyTorch()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => F.MultilabelMarginLoss(Tensor.Zeros(10, 0), Tensor.Zeros([10, 0], DType.Int64)));
        Assert.Contains("non-empty vector or matrix", e.Message);
    }
}
