using System.Globalization;

namespace Kindling.Tests;

/// <summary><c>mpirun -np N kindling train …</c>: the same run as one process, one run folder, exact resume at the same N.</summary>
public class DistributedCliTests
{
    private static string Cli()
    {
        var config = AppContext.BaseDirectory.Contains("/Release/") ? "Release" : "Debug";
        return Path.Combine(Repo.Root, "src", "Kindling.Cli", "bin", config, "net10.0", "Kindling.Cli.dll");
    }

    private static string Tmp(string name)
    {
        var d = Path.Combine(Path.GetTempPath(), "kindling-dist-cli", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.GetDirectoryName(d)!);
        return d;
    }

    private static double[] Losses(string run) =>
        File.ReadLines(Path.Combine(run, "steps.csv")).Skip(1).Where(l => l.Length > 0).Select(l => double.Parse(l.Split(',')[2], CultureInfo.InvariantCulture)).ToArray();

    /// <remarks>
    /// With batch norm the test uses SGD: the hidden Linear's bias has an exactly-zero gradient behind batch norm (a
    /// shift the normalisation removes), so its float32 gradient is pure rounding noise that depends on the summation
    /// order, and Adam divides it by its own magnitude into full-size steps: the 1e-7 differences of summing a batch in
    /// shards become 1e-5 loss differences within about a dozen steps (measured: step 13 with 3 ranks). Gradients of
    /// the first step agree to float32 rounding (tests/Kindling.Distributed.Worker checks SyncBatchNorm1d with SGD).
    /// </remarks>
    [MpiTheory]
    [InlineData(2, false)]
    [InlineData(3, true)]
    public void TrainOnNProcessesMatchesOneProcess(int np, bool batchNorm)
    {
        string one = Tmp("one"), many = Tmp("many");
        string[] args = ["train", "--epochs", "3", "--threads", "1", "--batch-size", "64", .. batchNorm ? new[] { "--batch-norm", "true", "--optimizer", "sgd" } : []];
        var r1 = MpiRun.Run(0, Cli(), [.. args, "--out", one]);
        Assert.True(r1.Code == 0, r1.Err);
        var rn = MpiRun.Run(np, Cli(), [.. args, "--out", many]);
        Assert.True(rn.Code == 0, $"exit {rn.Code}\n{rn.Out}\n{rn.Err}");
        // Only rank 0 prints: one "trained in" line, and a run folder like a single process's.
        Assert.Single(rn.Out.Split('\n'), l => l.StartsWith("trained in", StringComparison.Ordinal));
        Assert.Equal(Directory.GetFiles(one).Select(Path.GetFileName).Order(), Directory.GetFiles(many).Select(Path.GetFileName).Order());
        Assert.Contains($"\"world_size\": {np}", File.ReadAllText(Path.Combine(many, "config.json")));
        var (a, b) = (Losses(one), Losses(many));
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
            Assert.True(Math.Abs(a[i] - b[i]) <= (i < 50 ? 1e-5 : 1e-3) * Math.Abs(a[i]), $"step {i + 1}: {a[i]} vs {b[i]}");
        var t1 = File.ReadAllText(Path.Combine(one, "test_metrics.json"));
        var tn = File.ReadAllText(Path.Combine(many, "test_metrics.json"));
        double Acc(string json) => System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("accuracy").GetDouble();
        Assert.Equal(Acc(t1), Acc(tn), 3);
    }

    [MpiFact]
    public void AnInterruptedDistributedRunResumesExactlyAtTheSameN()
    {
        string full = Tmp("full"), cut = Tmp("cut");
        string[] args = ["train", "--epochs", "3", "--threads", "1"];
        var f = MpiRun.Run(2, Cli(), [.. args, "--out", full]);
        Assert.True(f.Code == 0, f.Err);
        var c = MpiRun.Run(2, Cli(), [.. args, "--out", cut], new() { ["KINDLING_STOP_AFTER_STEPS"] = "30" });
        Assert.Equal(130, c.Code);
        Assert.Contains("interrupted: checkpoint saved", c.Out);
        var wrong = MpiRun.Run(0, Cli(), ["train", "--resume", cut]);
        Assert.Equal(1, wrong.Code);
        Assert.Contains("trained on 2 processes", wrong.Err);
        Assert.Contains("mpirun -np 2", wrong.Err);
        var r = MpiRun.Run(2, Cli(), ["train", "--resume", cut]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(File.ReadAllBytes(Path.Combine(full, "model.safetensors")), File.ReadAllBytes(Path.Combine(cut, "model.safetensors")));
        Assert.Equal(Losses(full), Losses(cut));
    }

    [MpiFact]
    public void ABatchSmallerThanTheNumberOfProcessesIsAClearError()
    {
        var r = MpiRun.Run(3, Cli(), ["train", "--epochs", "1", "--batch-size", "2", "--out", Tmp("small")]);
        Assert.NotEqual(0, r.Code);
        Assert.Contains("--batch-size 2 is the global batch", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
        // Digits leaves 1294 training rows: batches of 646 end with 2 rows, too few for batch norm synchronised over 3.
        var bn = MpiRun.Run(3, Cli(), ["train", "--epochs", "1", "--batch-size", "646", "--batch-norm", "true", "--out", Tmp("bn")]);
        Assert.NotEqual(0, bn.Code);
        Assert.Contains("the last batch of each epoch has 2 of the 1294 training rows", bn.Err);
        Assert.Contains("for example 647", bn.Err);
    }
}
