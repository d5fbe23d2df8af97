using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Kindling.IO;

namespace Kindling.Tests;

/// <summary>Runs the kindling command as a person would: a process with arguments, its output and the files it writes.</summary>
public class CliTests
{
    private static readonly string Dll = FindCli();

    private static string FindCli()
    {
        var config = AppContext.BaseDirectory.Contains("/Release/") ? "Release" : "Debug";
        var p = Path.Combine(Repo.Root, "src", "Kindling.Cli", "bin", config, "net10.0", "Kindling.Cli.dll");
        return File.Exists(p) ? p : throw new FileNotFoundException("the CLI was not built", p);
    }

    internal sealed record Result(int Code, string Out, string Err);

    internal static Result Run(string[] args, Dictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env != null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(300_000)) { p.Kill(true); throw new TimeoutException("kindling did not finish in 5 minutes: " + string.Join(' ', args)); }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string Tmp(string name)
    {
        var d = Path.Combine(Path.GetTempPath(), "kindling-cli-tests", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }

    private static double[] Column(string csv, string name)
    {
        var lines = File.ReadAllLines(csv);
        int i = Array.IndexOf(lines[0].Split(','), name);
        return lines.Skip(1).Select(l => double.Parse(l.Split(',')[i], CultureInfo.InvariantCulture)).ToArray();
    }

    private static double[] SvgSeries(string svg, string series)
    {
        var doc = XDocument.Parse(File.ReadAllText(svg));
        var xs = doc.Descendants().Where(e => (string?)e.Attribute("data-series") == series).ToList();
        Assert.NotEmpty(xs);
        return xs.SelectMany(e => ((string)e.Attribute("data-y")!).Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
    }

    [Fact]
    public void DefaultTrainReachesAccuracyAndWritesTheRunFolder()
    {
        var dir = Tmp("default");
        var r = Run(["train", "--out", dir]);
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("CrossEntropyLoss on 10 logits", r.Out);
        Assert.Contains("10 distinct integer labels", r.Out);
        Assert.DoesNotContain('\x1b', r.Out); // redirected output: plain lines, no control sequences
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "test_metrics.json")))!;
        Assert.True(metrics["accuracy"]!.GetValue<double>() >= 0.95, $"test accuracy {metrics["accuracy"]}");
        foreach (var f in new[] { "config.json", "model.safetensors", "scaler.safetensors", "checkpoint.safetensors", "epochs.csv", "steps.csv", "loss.svg", "metric.svg", "report.html" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f + " missing");
        // The curves' points are the CSV's numbers.
        Assert.Equal(Column(Path.Combine(dir, "epochs.csv"), "train_loss"), SvgSeries(Path.Combine(dir, "loss.svg"), "train"));
        Assert.Equal(Column(Path.Combine(dir, "epochs.csv"), "val_metric"), SvgSeries(Path.Combine(dir, "metric.svg"), "validation"));
        var html = File.ReadAllText(Path.Combine(dir, "report.html"));
        Assert.Contains("<svg", html);
        Assert.Contains("confusion", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("src=\"http", html);
        // model.safetensors carries PyTorch nn.Sequential names.
        var names = Safetensors.Load(Path.Combine(dir, "model.safetensors")).Tensors.Keys.OrderBy(k => k).ToArray();
        Assert.Equal(new[] { "0.bias", "0.weight", "2.bias", "2.weight" }, names);
        var steps = File.ReadAllLines(Path.Combine(dir, "steps.csv"));
        int epochs = File.ReadAllLines(Path.Combine(dir, "epochs.csv")).Length - 1;
        Assert.Equal(1 + epochs * 21, steps.Length); // 1294 training rows in batches of 64 per epoch
        Assert.Contains("epochs: auto — 190", r.Out); // about 4,000 steps of 21 batches
        Assert.InRange(epochs, 11, 190); // auto epochs stop once validation loss stalls for 10 epochs
    }

    private static string WriteCsv(string dir, string name, Func<int, Random, string> row, string header, int n = 240)
    {
        var rnd = new Random(7);
        var path = Path.Combine(dir, name);
        File.WriteAllLines(path, new[] { header }.Concat(Enumerable.Range(0, n).Select(i => row(i, rnd))));
        return path;
    }

    [Theory]
    [InlineData("classification", "cross_entropy")]
    [InlineData("binary", "bce_with_logits")]
    [InlineData("regression", "mse")]
    [InlineData("multilabel", "bce_with_logits")]
    public void EachTaskKindOnASmallCsv(string task, string loss)
    {
        var dir = Tmp(task);
        string csv;
        string[] target;
        switch (task)
        {
            case "classification":
                csv = WriteCsv(dir, "c.csv", (i, r) => { double a = r.NextDouble(), b = r.NextDouble(); return $"{a:F4},{b:F4},{(i % 2 == 0 ? "red" : "blue")},{(a + b < 0.7 ? "low" : a + b < 1.3 ? "mid" : "high")}"; }, "a,b,color,kind");
                target = ["--target", "kind"]; break;
            case "binary":
                csv = WriteCsv(dir, "b.csv", (i, r) => { double a = r.NextDouble(), b = r.NextDouble(); return $"{a:F4},{b:F4},{(a > b ? 1 : 0)}"; }, "a,b,label");
                target = []; break;
            case "regression":
                csv = WriteCsv(dir, "r.csv", (i, r) => { double a = r.NextDouble(), b = r.NextDouble(); return $"{a:F4},{b:F4},{3 * a - 2 * b + 0.5:F4}"; }, "a,b,price");
                target = ["--target", "price"]; break;
            default:
                csv = WriteCsv(dir, "m.csv", (i, r) => { double a = r.NextDouble(), b = r.NextDouble(); return $"{a:F4},{b:F4},{(a > 0.5 ? 1 : 0)},{(b > 0.5 ? 1 : 0)}"; }, "a,b,t1,t2");
                target = ["--target", "t1,t2"]; break;
        }
        var outDir = Path.Combine(dir, "run");
        var r = Run(["train", "--data", csv, .. target, "--epochs", "5", "--out", outDir]);
        Assert.True(r.Code == 0, r.Err + r.Out);
        var cfg = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "config.json")))!;
        Assert.Equal(task, cfg["resolved_task"]!.GetValue<string>());
        Assert.Equal(loss, cfg["resolved_loss"]!.GetValue<string>());
        // predict and eval read the run back and apply its scaling.
        var pred = Path.Combine(dir, "pred.csv");
        var p = Run(["predict", outDir, "--data", csv, "--out", pred]);
        Assert.True(p.Code == 0, p.Err + p.Out);
        var lines = File.ReadAllLines(pred);
        Assert.Equal(241, lines.Length);
        if (task == "classification") Assert.Equal("row,prediction,p_high,p_low,p_mid", lines[0]);
        if (task == "regression") Assert.Equal("row,prediction", lines[0]);
        var e = Run(["eval", outDir, "--data", csv]);
        Assert.True(e.Code == 0, e.Err + e.Out);
    }

    [Fact]
    public void ResumeReachesTheWeightsOfAnUninterruptedRun()
    {
        var full = Path.Combine(Tmp("full"), "run");
        var part = Path.Combine(Tmp("part"), "run");
        string[] common = ["train", "--data", "breast_cancer", "--epochs", "4", "--threads", "2", "--dropout", "0.2", "--seed", "5"];
        Assert.Equal(0, Run([.. common, "--out", full]).Code);
        // Stop in the middle of epoch 2 (as Ctrl+C would), then resume.
        var stopped = Run([.. common, "--out", part], new() { ["KINDLING_STOP_AFTER_STEPS"] = "10" });
        Assert.Equal(130, stopped.Code);
        Assert.Contains("--resume", stopped.Out);
        var resumed = Run(["train", "--resume", part]);
        Assert.True(resumed.Code == 0, resumed.Err + resumed.Out);
        var a = Safetensors.Load(Path.Combine(full, "model.safetensors")).Tensors;
        var b = Safetensors.Load(Path.Combine(part, "model.safetensors")).Tensors;
        foreach (var (k, v) in a) Assert.Equal(v.ToArray(), b[k].ToArray());
        Assert.Equal(File.ReadAllLines(Path.Combine(full, "steps.csv")), File.ReadAllLines(Path.Combine(part, "steps.csv")));
    }

    [Fact]
    public void CompareDrawsEveryLossInOneReport()
    {
        var dir = Path.Combine(Tmp("compare"), "cmp");
        var r = Run(["compare", "--data", "digits", "--epochs", "3", "--out", dir]);
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.NotEmpty(SvgSeries(Path.Combine(dir, "compare_metric.svg"), "cross_entropy"));
        Assert.NotEmpty(SvgSeries(Path.Combine(dir, "compare_metric.svg"), "mse"));
        Assert.Contains("mse", File.ReadAllText(Path.Combine(dir, "summary.csv")));
        // The MSE run's warning is in the comparison report's warnings list (every report's CSS says "warnings"), phrased
        // from the measured test accuracies so it never contradicts the winner.
        var html = System.Net.WebUtility.HtmlDecode(File.ReadAllText(Path.Combine(dir, "report.html")));
        // Phrased from this comparison's own paired call (calls.csv), never from the larger mean alone.
        string better = CliHarness.Column(Path.Combine(dir, "calls.csv"), "better")[0];
        Assert.Contains(better switch
        {
            "cross_entropy" => "<li>mse on class labels reached a significantly lower test accuracy than cross_entropy",
            "mse" => "<li>mse on class labels reached a significantly higher test accuracy than cross_entropy",
            _ => "<li>mse on class labels and cross_entropy: no significant difference in test accuracy",
        }, html);
    }

    public static IEnumerable<object[]> Errors()
    {
        yield return ["unknown-column", 1, "unknown --target column 'nope'; the columns are: a, b, label"];
        yield return ["non-numeric", 1, "row"];
        yield return ["empty-file", 1, "empty"];
        yield return ["unseen-label", 1, "never seen in training"];
        yield return ["loss-task", 1, "does not fit a regression task"];
        yield return ["nan", 1, "lower learning rate"];
        yield return ["unwritable", 1, "not writable"];
        yield return ["usage", 2, "Unrecognized"];
        yield return ["bad-task", 1, "--task"];
    }

    [Theory]
    [MemberData(nameof(Errors))]
    public void ErrorsAPersonCanActOn(string kind, int code, string expected)
    {
        var dir = Tmp(kind);
        var good = WriteCsv(dir, "good.csv", (i, r) => $"{r.NextDouble():F3},{r.NextDouble():F3},{i % 2}", "a,b,label");
        string[] args = kind switch
        {
            "unknown-column" => ["train", "--data", good, "--target", "nope"],
            "non-numeric" => ["train", "--data", WriteCsv(dir, "bad.csv", (i, r) => i == 17 ? "0.5,oops,1" : $"{r.NextDouble():F3},{r.NextDouble():F3},{i % 2}", "a,b,label")],
            "empty-file" => ["train", "--data", WriteEmpty(dir)],
            "unseen-label" => ["train", "--data", good, "--test", WriteCsv(dir, "test.csv", (i, r) => $"{r.NextDouble():F3},{r.NextDouble():F3},{(i == 3 ? 7 : i % 2)}", "a,b,label", 20)],
            "loss-task" => ["train", "--data", "diabetes", "--loss", "cross_entropy"],
            "nan" => ["train", "--data", "diabetes", "--optimizer", "sgd", "--lr", "1e6", "--scale", "none", "--epochs", "3"],
            "unwritable" => ["train", "--out", Path.Combine(good, "sub")],
            "usage" => ["train", "--no-such-option"],
            _ => ["train", "--task", "astrology"],
        };
        var r = Run(kind == "nan" ? [.. args, "--out", Path.Combine(dir, "out")] : [.. args, "--out", Path.Combine(dir, "out"), "--epochs", "2"]);
        if (kind == "unwritable") r = Run(["train", "--out", Path.Combine(good, "sub"), "--epochs", "1"]);
        Assert.True(r.Code == code, $"exit {r.Code}, expected {code}: {r.Err} {r.Out}");
        Assert.Contains(expected, r.Err, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", r.Err); // no stack trace
        if (code == 1) Assert.Single(r.Err.Trim().Split((char)10), l => l.StartsWith("error:"));
    }

    private static string WriteEmpty(string dir)
    {
        var p = Path.Combine(dir, "empty.csv");
        File.WriteAllText(p, "");
        return p;
    }

    [SkippableFact]
    public void ReportRendersInHeadlessChromium()
    {
        var dir = Path.Combine(Tmp("render"), "run");
        var r = Run(["train", "--epochs", "4", "--out", dir]);
        Assert.True(r.Code == 0, r.Err + r.Out);
        var html = Path.Combine(dir, "report.html");
        var svgCount = System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(html), "<polyline").Count;
        Assert.True(svgCount >= 4, $"the report shows {svgCount} curves"); // train and validation, loss and accuracy
        Skip.IfNot(File.Exists("/usr/bin/chromium"), "chromium is not installed (.ci/run installs it: apt-get install chromium fonts-dejavu-core)");
        var png = Path.Combine(dir, "report.png");
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(Repo.Root, "tools", "render_report.sh"));
        psi.ArgumentList.Add(html);
        psi.ArgumentList.Add(png);
        using var p = Process.Start(psi)!;
        p.StandardOutput.ReadToEnd(); var err = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(120_000) && p.ExitCode == 0, "render failed: " + err);
        var bytes = File.ReadAllBytes(png);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        Assert.True(bytes.Length > 20_000, $"the rendered page is suspiciously small ({bytes.Length} bytes)");
    }

    [Fact]
    public void MissingCellsAreAnErrorUnlessAskedToFill()
    {
        var dir = Tmp("missing");
        var csv = WriteCsv(dir, "m.csv", (i, r) => i == 5 ? "0.5,,1" : $"{r.NextDouble():F3},{r.NextDouble():F3},{i % 2}", "a,b,label");
        var err = Run(["train", "--data", csv, "--epochs", "2", "--out", Path.Combine(dir, "a")]);
        Assert.Equal(1, err.Code);
        Assert.Contains("missing value in column 'b'", err.Err);
        Assert.Contains("--missing", err.Err);
        foreach (var mode in new[] { "mean", "zero", "drop" })
        {
            var ok = Run(["train", "--data", csv, "--missing", mode, "--epochs", "2", "--out", Path.Combine(dir, mode)]);
            Assert.True(ok.Code == 0, mode + ": " + ok.Err);
        }
        var drop = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "drop", "config.json")))!;
        Assert.Equal("drop", drop["missing"]!.GetValue<string>());
    }

    [Fact]
    public void CategoricalColumnsAreOneHotEncodedOnRequest()
    {
        var dir = Tmp("categorical");
        var csv = WriteCsv(dir, "c.csv", (i, r) => $"{r.NextDouble():F3},{i % 3 + 1},{i % 2}", "a,zone,label");
        var r = Run(["train", "--data", csv, "--categorical", "zone", "--epochs", "2", "--out", Path.Combine(dir, "run")]);
        Assert.True(r.Code == 0, r.Err);
        var cfg = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "run", "config.json")))!;
        Assert.Equal(new[] { "a", "zone=1", "zone=2", "zone=3" }, cfg["feature_names"]!.AsArray().Select(v => v!.GetValue<string>()).ToArray());
    }

    [Fact]
    public void HelpDocumentsEveryOptionWithItsDefault()
    {
        var r = Run(["train", "--help"]);
        Assert.Equal(0, r.Code);
        foreach (var o in new[] { "--data", "--target", "--categorical", "--missing", "--test", "--test-split", "--val-split", "--task", "--loss", "--hidden", "--activation", "--dropout", "--batch-norm",
            "--optimizer", "--lr", "--momentum", "--weight-decay", "--l1", "--scheduler", "--batch-size", "--epochs", "--early-stopping", "--class-weights",
            "--label-smoothing", "--scale", "--seed", "--threads", "--init", "--shuffle", "--out", "--resume" })
            Assert.Contains(o, r.Out);
        Assert.Contains("[default: digits]", r.Out);
    }
}
