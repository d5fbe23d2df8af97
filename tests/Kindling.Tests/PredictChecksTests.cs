using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Kindling.Tests;

/// <summary>
/// Issue 23, silently wrong answers: predict checks what it is given (training columns, one-hot sources, image shapes,
/// feature counts), keeps row identity under --missing drop, quotes its CSV; --resume refuses conflicting options;
/// spreadsheet numbers, label spellings, quoted header names, IDX test files copied from the training files, and pipes.
/// </summary>
[Collection("InProcessCli")]
public class PredictChecksTests
{
    private static CliTests.Result Run(params string[] args) => InProcessCli.Run(args);
    private static string Tmp(string n) => CliRobustnessTests.Tmp(n);
    private static void Error(CliTests.Result r, params string[] parts) => CliRobustnessTests.AssertOneLineError(r, parts);

    /// <summary>id, a number, a colour (one-hot), a numeric column named 'a=b', and a label that depends on the colour.</summary>
    private static readonly Lazy<(string Dir, string Run)> Categorical = new(() =>
    {
        var dir = Tmp("predict-cat");
        var rng = new Random(3);
        var sb = new StringBuilder("id,num,color,a=b,label\n");
        string[] colors = ["red", "blue", "green"];
        for (int i = 0; i < 150; i++)
        {
            var c = colors[i % 3];
            sb.Append(CultureInfo.InvariantCulture, $"{1000 + i},{rng.NextDouble():F3},{c},{rng.NextDouble():F3},{(c == "red" ? "\"small, cheap\"" : "big")}\n");
        }
        File.WriteAllText(Path.Combine(dir, "train.csv"), sb.ToString());
        var run = Path.Combine(dir, "run");
        CliHarness.Ok("train", "--data", Path.Combine(dir, "train.csv"), "--drop", "id", "--epochs", "60", "--lr", "0.03", "--hidden", "8", "--out", run);
        return (dir, run);
    });

    private static string Write(string dir, string name, string text)
    {
        var p = Path.Combine(dir, name);
        File.WriteAllText(p, text);
        return p;
    }

    [Fact]
    public void AMissingTrainingColumnIsAnErrorNamingItEvenWhenOneHotOrNamedWithAnEqualsSign()
    {
        var (dir, run) = Categorical.Value;
        // 'a=b' is a numeric column whose name holds '=': a feature of its own, not an unused one-hot category.
        Assert.Contains("a=b", CliHarness.Config(run)["feature_names"]!.AsArray().Select(n => n!.GetValue<string>()));
        var noColor = Write(dir, "no-color.csv", "num,a=b\n0.5,0.1\n0.2,0.3\n");
        Error(Run("predict", run, "--data", noColor, "--out", Path.Combine(dir, "o1.csv")), "'color' (one-hot: color=blue", "missing");
        var noAb = Write(dir, "no-ab.csv", "num,color\n0.5,red\n0.2,blue\n");
        Error(Run("predict", run, "--data", noAb, "--out", Path.Combine(dir, "o2.csv")), "'a=b'", "missing");
        // A colour that only takes one value in the file is a present column: its other indicators are 0.
        var onlyRed = Write(dir, "only-red.csv", "num,color,a=b\n0.5,red,0.1\n0.2,red,0.3\n");
        CliHarness.Ok("predict", run, "--data", onlyRed, "--out", Path.Combine(dir, "o3.csv"));
        // --missing zero fills a missing column (with a warning naming it) instead of refusing.
        var r = CliHarness.Ok("predict", run, "--data", noColor, "--out", Path.Combine(dir, "o4.csv"), "--missing", "zero");
        Assert.Contains("'color'", r.Err);
    }

    [Fact]
    public void DroppedRowsKeepTheirIdentityAndClassNamesAreQuoted()
    {
        var (dir, run) = Categorical.Value;
        var data = Write(dir, "gaps.csv", "id,num,color,a=b\n7,0.5,red,0.1\n8,,blue,0.2\n9,0.2,red,0.3\n10,0.9,green,\n11,0.1,red,0.5\n");
        var outFile = Path.Combine(dir, "gaps-out.csv");
        var r = CliHarness.Ok("predict", run, "--data", data, "--out", outFile, "--missing", "drop");
        Assert.Contains("id 8, 10", r.Err);
        var lines = File.ReadAllLines(outFile);
        Assert.Equal("id,prediction,p_big,\"p_small, cheap\"", lines[0]);
        Assert.Equal(6, lines.Length);
        Assert.Equal(["7", "8", "9", "10", "11"], lines.Skip(1).Select(l => l.Split(',')[0]));
        Assert.StartsWith("8,,,", lines[2]);
        Assert.StartsWith("10,,,", lines[4]);
        // Every line has 4 CSV fields: a class name with a comma is quoted, in the header and as a prediction.
        foreach (var l in lines) Assert.Equal(4, System.Text.RegularExpressions.Regex.Matches(l, "(?:^|,)(\"(?:[^\"]|\"\")*\"|[^,]*)").Count);
        Assert.Contains(lines.Skip(1), l => l.Contains("\"small, cheap\","));
        // Without an id column the 1-based data-row number identifies each row.
        var noId = Write(dir, "gaps-noid.csv", "num,color,a=b\n0.5,red,0.1\n,blue,0.2\n0.2,red,0.3\n");
        CliHarness.Ok("predict", run, "--data", noId, "--out", outFile, "--missing", "drop");
        Assert.Equal(["1", "2", "3"], File.ReadAllLines(outFile).Skip(1).Select(l => l.Split(',')[0]));
        Assert.Equal("2,,,", File.ReadAllLines(outFile)[2]);
    }

    [Fact]
    public void AnImageModelRefusesImagesOfAnotherSize()
    {
        var dir = Tmp("predict-shape");
        var run = Path.Combine(dir, "run");
        CliHarness.Ok("train", "--epochs", "1", "--hidden", "8", "--out", run); // digits: 8×8 = pixel0..pixel63
        // The 28×28 image in digits' own column naming (pixel_row_col): the first 64 columns all exist, the rest go beyond.
        var sb = new StringBuilder(string.Join(",", Enumerable.Range(0, 784).Select(i => $"pixel_{i / 28}_{i % 28}"))).Append('\n');
        for (int r = 0; r < 3; r++) sb.Append(string.Join(",", Enumerable.Range(0, 784).Select(i => (i * r % 17).ToString(CultureInfo.InvariantCulture)))).Append('\n');
        var big = Write(dir, "big.csv", sb.ToString());
        Error(Run("predict", run, "--data", big, "--out", Path.Combine(dir, "o.csv")), "pixel_0_8", "784 columns", "64 features (8×8 images)");
        var flat = Write(dir, "flat.csv", sb.ToString().Replace("pixel_", "px_"));
        Error(Run("predict", run, "--data", flat, "--out", Path.Combine(dir, "o1.csv")), "'pixel_0_0'", "missing", "(64 columns in all)");
        // An IDX folder of 28×28 images: a fixed-shape source must match the model's feature count exactly.
        var idx = Directory.CreateDirectory(Path.Combine(dir, "idx")).FullName;
        WriteIdx(idx, "train", 20, 28, seed: 1);
        Error(Run("predict", run, "--data", idx, "--out", Path.Combine(dir, "o2.csv")), "784 features (28×28 images)", "64 (8×8 images)");
    }

    private static byte[] BE(int v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];

    private static void WriteIdx(string dir, string prefix, int n, int side, int seed)
    {
        var rng = new Random(seed);
        var labels = new byte[n];
        var images = new byte[n * side * side];
        for (int i = 0; i < n; i++) { labels[i] = (byte)(i % 10); for (int p = 0; p < side * side; p++) images[i * side * side + p] = (byte)rng.Next(256); }
        File.WriteAllBytes(Path.Combine(dir, $"{prefix}-images-idx3-ubyte"), [0, 0, 8, 3, .. BE(n), .. BE(side), .. BE(side), .. images]);
        File.WriteAllBytes(Path.Combine(dir, $"{prefix}-labels-idx1-ubyte"), [0, 0, 8, 1, .. BE(n), .. labels]);
    }

    [Fact]
    public void AnIdxFolderWhoseTestFilesCopyTheTrainingFilesIsRefused()
    {
        var dir = Tmp("idx-copy");
        var idx = Directory.CreateDirectory(Path.Combine(dir, "idx")).FullName;
        WriteIdx(idx, "train", 100, 28, seed: 1);
        File.Copy(Path.Combine(idx, "train-images-idx3-ubyte"), Path.Combine(idx, "t10k-images-idx3-ubyte"));
        File.Copy(Path.Combine(idx, "train-labels-idx1-ubyte"), Path.Combine(idx, "t10k-labels-idx1-ubyte"));
        Error(Run("train", "--data", idx, "--epochs", "1", "--out", Path.Combine(dir, "run")), "t10k", "also in the training data");
    }

    [Fact]
    public void ResumeRefusesOptionsThatConflictWithTheRunNamingEach()
    {
        var dir = Tmp("resume-conflict");
        var run = Path.Combine(dir, "run");
        var stop = InProcessCli.Run(["train", "--epochs", "3", "--hidden", "16", "--out", run], new() { ["KINDLING_STOP_AFTER_STEPS"] = "5" });
        Assert.Equal(130, stop.Code);
        Error(Run("train", "--resume", run, "--hidden", "32", "--lr", "0.1", "--data", "breast_cancer", "--model", "cnn"),
            "--hidden 32 (the run has 16)", "--lr 0.1 (the run has 0.001)", "--data breast_cancer (the run has digits)", "--model cnn (the run has mlp)");
        Error(Run("train", "--resume", run, "--overwrite"), "--overwrite");
        // Repeating the run's own values, or changing --epochs and --threads, is accepted.
        CliHarness.Ok("train", "--resume", run, "--hidden", "16", "--data", "digits", "--epochs", "4", "--threads", "1");
    }

    [Fact]
    public void SpreadsheetNumbersAreReadAsNumbersWithAnExplanationAndPlainNumbersTurnsItOff()
    {
        var dir = Tmp("spreadsheet");
        var sb = new StringBuilder("amount,share,price,y\n");
        var rng = new Random(5);
        for (int i = 0; i < 80; i++)
        {
            int amount = 1000 + rng.Next(9000);
            sb.Append(CultureInfo.InvariantCulture, $"\"{amount / 1000},{amount % 1000:D3}\",{rng.Next(100)}%,${rng.Next(10, 99)}.{rng.Next(10, 99)},{amount * 0.001:F3}\n");
        }
        var csv = Write(dir, "money.csv", sb.ToString());
        var r = CliHarness.Ok("train", "--data", csv, "--target", "y", "--epochs", "1", "--hidden", "4", "--out", Path.Combine(dir, "run"));
        Assert.Contains("column 'amount': read numbers written the spreadsheet way (thousands separators", r.Out);
        Assert.Contains("column 'share'", r.Out);
        Assert.Contains("percentages", r.Out);
        Assert.Contains("column 'price'", r.Out);
        Assert.Contains(", 3 features", r.Out); // three numeric columns, not three one-hot blocks
        var plain = Run("train", "--data", csv, "--target", "y", "--epochs", "1", "--hidden", "4", "--out", Path.Combine(dir, "run2"), "--plain-numbers");
        Assert.DoesNotContain("spreadsheet way", plain.Out);
        // A decimal comma in a ';'-separated file.
        var semi = new StringBuilder("x;y\n");
        for (int i = 0; i < 60; i++) semi.Append(CultureInfo.InvariantCulture, $"{i / 10},{i % 10};{i % 2}\n");
        var s = CliHarness.Ok("train", "--data", Write(dir, "semi.csv", semi.ToString()), "--target", "y", "--epochs", "1", "--hidden", "4", "--out", Path.Combine(dir, "run3"));
        Assert.Contains("column 'x': read numbers written the spreadsheet way (a decimal comma", s.Out);
        Assert.Contains(", 1 features", s.Out);
    }

    [Fact]
    public void LabelsDifferingOnlyBySpellingWarnAndNormalizeLabelsMergesThem()
    {
        var dir = Tmp("labels");
        var sb = new StringBuilder("x,lab\n");
        for (int i = 0; i < 90; i++) sb.Append(CultureInfo.InvariantCulture, $"{i % 7},\"{(i % 2 == 0 ? new[] { "TRUE", "True", "true" }[i % 3] : i % 3 == 0 ? " cat" : "cat")}\"\n");
        var csv = Write(dir, "labels.csv", sb.ToString());
        var r = CliHarness.Ok("train", "--data", csv, "--target", "lab", "--epochs", "1", "--hidden", "4", "--out", Path.Combine(dir, "run"));
        Assert.Contains("'TRUE'/'True'/'true'", r.Out);
        Assert.Contains("--normalize-labels", r.Out);
        Assert.Equal(5, CliHarness.Config(Path.Combine(dir, "run"))["class_names"]!.AsArray().Count);
        CliHarness.Ok("train", "--data", csv, "--target", "lab", "--epochs", "1", "--hidden", "4", "--out", Path.Combine(dir, "run2"), "--normalize-labels");
        Assert.Equal(2, CliHarness.Config(Path.Combine(dir, "run2"))["class_names"]!.AsArray().Count);
    }

    [Fact]
    public void SingleQuotedHeaderNamesAreStripped()
    {
        var dir = Tmp("quoted-header");
        var sb = new StringBuilder("'popul'\t'income'\t'vote'\n");
        for (int i = 0; i < 60; i++) sb.Append(CultureInfo.InvariantCulture, $"{i % 13}\t{i % 7}\t{i % 2}\n");
        var csv = Write(dir, "votes.tsv", sb.ToString());
        CliHarness.Ok("train", "--data", csv, "--target", "vote", "--epochs", "1", "--hidden", "4", "--out", Path.Combine(dir, "run"));
        Assert.Equal(["popul", "income"], CliHarness.Config(Path.Combine(dir, "run"))["feature_names"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public void PredictReadsAPipeOnce()
    {
        var (dir, run) = Categorical.Value;
        var fifo = Path.Combine(Tmp("pipe"), "in.csv");
        using (var p = Process.Start("mkfifo", [fifo])) p.WaitForExit();
        var writer = new Thread(() => File.WriteAllText(fifo, "num,color,a=b\n0.5,red,0.1\n0.2,blue,0.3\n"));
        writer.Start();
        var outFile = Path.Combine(dir, "pipe-out.csv");
        var r = CliHarness.Ok("predict", run, "--data", fifo, "--out", outFile);
        Assert.True(writer.Join(TimeSpan.FromSeconds(30)));
        Assert.Equal(3, File.ReadAllLines(outFile).Length);
        Assert.Contains("wrote 2 predictions", r.Out);
    }
}
