using System.Globalization;
using System.Text.Json.Nodes;
using Kindling.Data;

namespace Kindling.Tests;

/// <summary>
/// <c>kindling train --data FILE.txt --model gpt|lstm</c> and <c>kindling generate</c> on a small slice of
/// tiny-shakespeare, with tiny models so the run takes seconds.
/// </summary>
[Collection("InProcessCli")]
public sealed class LanguageModelCliTests
{
    private static readonly Lazy<string> Text = new(() =>
    {
        var dir = CliHarness.Tmp("lm-text");
        var path = Path.Combine(dir, "plays.txt");
        File.WriteAllText(path, Datasets.Shakespeare()[..30_000]);
        return path;
    });

    private static CliTests.Result Run(params string[] args) => InProcessCli.Run(args);

    [Fact]
    public void GptRunReportsBitsAgainstBaselinesAndGeneratesDeterministically()
    {
        var run = Path.Combine(CliHarness.Tmp("lm-gpt"), "run");
        var r = Run("train", "--data", Text.Value, "--model", "gpt", "--layers", "1", "--heads", "2", "--width", "16", "--context", "16",
            "--steps", "30", "--batch-size", "4", "--lr", "3e-3", "--out", run, "--threads", "1");
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("baselines (validation, nats per char): unigram", r.Out);
        Assert.Contains("warm-up 3 steps", r.Out);                   // min(100, steps/10) when --warmup is not given
        Assert.Contains("batch 4 × context 16", r.Out);
        foreach (var f in new[] { "config.json", "tokenizer.json", "model.safetensors", "eval.csv", "samples.txt", "test_metrics.json", "report.html" })
            Assert.True(File.Exists(Path.Combine(run, f)), f);
        var m = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "test_metrics.json")))!;
        double loss = m["loss"]!.GetValue<double>();
        Assert.Equal(loss / Math.Log(2), m["bits_per_char"]!.GetValue<double>(), 1e-9);
        Assert.Equal(Math.Exp(loss), m["perplexity"]!.GetValue<double>(), 1e-9);
        Assert.InRange(loss, 1.0, Math.Log(65));                      // learned something, and no better than possible
        Assert.True(m["ngram_loss"]!.GetValue<double>() < m["unigram_loss"]!.GetValue<double>());
        // 30 steps of a tiny model cannot beat counting: the command must say so.
        Assert.Contains("does not beat counting", r.Out + r.Err);
        var evalLines = File.ReadAllLines(Path.Combine(run, "eval.csv"));
        Assert.Equal("step,train_loss,val_loss,val_bits_per_char,lr,seconds", evalLines[0]);
        Assert.Equal("30", evalLines[^1].Split(',')[0]);

        var a = Run("generate", run, "--prompt", "ROMEO:", "--length", "50", "--seed", "3");
        var b = Run("generate", run, "--prompt", "ROMEO:", "--length", "50", "--seed", "3");
        var c = Run("generate", run, "--prompt", "ROMEO:", "--length", "50", "--seed", "4");
        Assert.Equal(0, a.Code);
        Assert.StartsWith("ROMEO:", a.Out);
        Assert.Equal(6 + 50, a.Out.TrimEnd('\n').Length);
        Assert.Equal(a.Out, b.Out);
        Assert.NotEqual(a.Out, c.Out);

        var bad = Run("generate", run, "--prompt", "naïve ☃", "--length", "5");
        Assert.Equal(1, bad.Code);
        Assert.Contains("never seen in the training text", bad.Err);
        var ev = Run("eval", run);
        Assert.Equal(1, ev.Code);
        Assert.Contains("language model", ev.Err);
        Assert.DoesNotContain("   at ", ev.Err);
    }

    [Fact]
    public void LstmRunTrainsAndItsLossFallsBelowTheUnigramEntropy()
    {
        var run = Path.Combine(CliHarness.Tmp("lm-lstm"), "run");
        var r = Run("train", "--data", Text.Value, "--model", "lstm", "--layers", "1", "--width", "32", "--context", "32",
            "--steps", "60", "--batch-size", "8", "--lr", "1e-2", "--out", run, "--threads", "1");
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("character LSTM (1 layers × 32", r.Out);
        var m = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "test_metrics.json")))!;
        Assert.True(m["loss"]!.GetValue<double>() < m["unigram_loss"]!.GetValue<double>(),
            $"LSTM test loss {m["loss"]} should beat the unigram model's {m["unigram_loss"]} after 60 steps");
        var g = Run("generate", run, "--length", "20", "--top-k", "3");
        Assert.Equal(0, g.Code);
    }

    [Theory]
    [InlineData("--heads 3 --width 16", "--heads 3 must divide --width 16")]
    [InlineData("--tokenizer words", "--tokenizer: 'words' is not a tokenizer")]
    [InlineData("--steps 0", "--steps must be at least 1")]
    [InlineData("--warmup 50 --steps 10", "--warmup must be in [0, --steps)")]
    [InlineData("--optimizer rmsprop", "a language model trains with adamw, adam or sgd")]
    [InlineData("--min-lr 1 --lr 0.1", "--min-lr must be in [0, --lr]")]
    public void BadLanguageModelOptionsAreOneLine(string extra, string message)
    {
        var r = Run(["train", "--data", Text.Value, "--model", "gpt", "--out", Path.Combine(CliHarness.Tmp("lm-bad"), "run"), .. extra.Split(' ')]);
        Assert.Equal(1, r.Code);
        Assert.Contains(message, r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
    }

    [Fact]
    public void TextFilesThatAreNotTextAreRefused()
    {
        var dir = CliHarness.Tmp("lm-files");
        var bin = Path.Combine(dir, "bin.txt");
        File.WriteAllBytes(bin, [65, 66, 0, 67]);
        var r = Run("train", "--data", bin, "--out", Path.Combine(dir, "r1"));
        Assert.Equal(1, r.Code);
        Assert.Contains("byte 2 is NUL", r.Err);
        var latin = Path.Combine(dir, "latin1.txt");
        File.WriteAllBytes(latin, [.. Enumerable.Repeat((byte)'a', 100), 0xE9, .. Enumerable.Repeat((byte)'b', 100)]);
        r = Run("train", "--data", latin, "--out", Path.Combine(dir, "r2"));
        Assert.Equal(1, r.Code);
        Assert.Contains("not valid UTF-8", r.Err);
        var tiny = Path.Combine(dir, "tiny.txt");
        File.WriteAllText(tiny, "abc");
        r = Run("train", "--data", tiny, "--out", Path.Combine(dir, "r3"));
        Assert.Equal(1, r.Code);
        Assert.Contains("too few", r.Err);
        Assert.False(Directory.Exists(Path.Combine(dir, "r3")), "a run that fails before training leaves no folder");
    }
}
