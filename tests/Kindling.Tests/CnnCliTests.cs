using System.Text.Json.Nodes;
using Kindling.IO;

namespace Kindling.Tests;

/// <summary><c>kindling train --model cnn</c> end to end on the embedded digits (8×8 images): summary, eval, predict, exact resume.</summary>
public class CnnCliTests
{
    private static string Tmp(string name)
    {
        var d = Path.Combine(Path.GetTempPath(), "kindling-cli-tests", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }

    private static readonly string[] Common = ["train", "--data", "digits", "--model", "cnn", "--conv", "8,16", "--hidden", "32", "--batch-norm", "--seed", "3", "--threads", "1"];

    [Fact]
    public void TrainsACnnAndEvalPredictAndResumeWork()
    {
        var dir = Tmp("cnn");
        var r = CliTests.Run([.. Common, "--epochs", "4", "--out", dir]);
        Assert.True(r.Code == 0, r.Err + r.Out);
        // The summary: every layer's output shape and parameter count, and the total.
        Assert.Contains("1: Conv2d", r.Out);
        Assert.Contains("(N, 8, 8, 8)", r.Out);
        Assert.Contains("(N, 16, 2, 2)", r.Out);
        Assert.Matches(@"2: BatchNorm2d\s+\(N, 8, 8, 8\)\s+16", r.Out);
        Assert.Matches(@"total\s+3,706", r.Out);
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "test_metrics.json")))!;
        Assert.True(metrics["accuracy"]!.GetValue<double>() > 0.7, $"test accuracy {metrics["accuracy"]}");
        var state = Safetensors.Load(Path.Combine(dir, "model.safetensors")).Tensors;
        Assert.Equal([8, 1, 3, 3], state["1.weight"].Shape);
        Assert.Equal(DType.Int64, state["2.num_batches_tracked"].DType);
        Assert.Contains("CNN on 1×8×8 images", File.ReadAllText(Path.Combine(dir, "report.html")));

        var e = CliTests.Run(["eval", dir]);
        Assert.True(e.Code == 0, e.Err + e.Out);
        Assert.Contains($"{metrics["accuracy"]!.GetValue<double>() * 100:F1}%", e.Out);

        var csv = Path.Combine(dir, "in.csv");
        var d = Data.Datasets.Digits();
        var x = d.Features.ToArray();
        File.WriteAllLines(csv, new[] { string.Join(",", d.FeatureNames) }.Concat(Enumerable.Range(0, 3).Select(i => string.Join(",", x.Skip(i * 64).Take(64)))));
        var pr = CliTests.Run(["predict", dir, "--data", csv, "--out", Path.Combine(dir, "pred.csv")]);
        Assert.True(pr.Code == 0, pr.Err + pr.Out);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(dir, "pred.csv")).Length);

        // Resume: 2 epochs, then 2 more, equals 4 straight.
        var part = Tmp("cnn-resume");
        Assert.Equal(0, CliTests.Run([.. Common, "--epochs", "2", "--out", part]).Code);
        var rr = CliTests.Run(["train", "--resume", part, "--epochs", "4"]);
        Assert.True(rr.Code == 0, rr.Err + rr.Out);
        var a = Safetensors.Load(Path.Combine(dir, "model.safetensors")).Tensors;
        var b = Safetensors.Load(Path.Combine(part, "model.safetensors")).Tensors;
        foreach (var (k, v) in a) Assert.Equal(v.ToArray(), b[k].ToArray());
    }

    [Fact]
    public void CnnOnNonImageDataIsOneClearLine()
    {
        var r = CliTests.Run(["train", "--data", "breast_cancer", "--model", "cnn", "--epochs", "1", "--out", Tmp("cnn-bad")]);
        Assert.Equal(1, r.Code);
        Assert.Contains("--model cnn needs image data", r.Err + r.Out);
        var r2 = CliTests.Run(["train", "--data", "digits", "--model", "cnn", "--conv", "8,x", "--epochs", "1", "--out", Tmp("cnn-bad2")]);
        Assert.Equal(1, r2.Code);
        Assert.Contains("--conv: 'x' is not a channel count", r2.Err + r2.Out);
    }
}
