using System.Diagnostics;
using System.Globalization;
using System.Text;
using Kindling.IO;

namespace Kindling.Tests;

/// <summary>
/// Issue 12: the command as a careless user or an attacker drives it. Every user or data error is exit 1 with one line
/// on stderr (no stack trace); no run ends with exit 0 and a wrong answer.
/// </summary>
[Collection("InProcessCli")]
public class CliRobustnessTests
{
    internal static string Tmp(string name)
    {
        var d = Path.Combine(Path.GetTempPath(), "kindling-robust-tests", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>Exit 1, exactly one line on stderr starting "error:", no stack trace, containing each of <paramref name="parts"/>.</summary>
    internal static void AssertOneLineError(CliTests.Result r, params string[] parts)
    {
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(r.Code == 1, $"exit {r.Code}; stderr: {r.Err}; stdout: {r.Out}");
        Assert.True(lines.Length == 1, "expected one line on stderr, got: " + r.Err);
        Assert.StartsWith("error: ", lines[0]);
        Assert.DoesNotContain("   at ", r.Err);
        foreach (var p in parts) Assert.Contains(p, lines[0]);
    }

    // In process (milliseconds per call); the tests about processes (locks, kill -9, simultaneous starts) start real ones.
    private static CliTests.Result Run(params string[] args) => InProcessCli.Run(args);

    /// <summary>A CSV of <paramref name="rows"/> rows: two random features and a label 0..2, with cell overrides.</summary>
    private static string Csv(string dir, int rows = 120, Func<int, int, string?>? cell = null, string name = "data.csv", int seed = 1)
    {
        var rng = new Random(seed);
        var sb = new StringBuilder("a,b,label\n");
        for (int i = 0; i < rows; i++)
        {
            string[] v = [(rng.NextDouble()).ToString("R", CultureInfo.InvariantCulture), rng.NextDouble().ToString("R", CultureInfo.InvariantCulture), (i % 3).ToString(CultureInfo.InvariantCulture)];
            for (int j = 0; j < 3; j++) v[j] = cell?.Invoke(i, j) ?? v[j];
            sb.Append(string.Join(",", v)).Append('\n');
        }
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    // ------------------------------------------------------------------ wrong answers with exit 0

    [Fact]
    public void EvalRefusesAChangedFileForItsTestSplitAndEvaluatesOtherDataWhole()
    {
        var dir = Tmp("eval-split");
        var csv = Csv(dir, 200);
        var run = Path.Combine(dir, "run");
        var t = Run("train", "--data", csv, "--epochs", "1", "--out", run);
        Assert.True(t.Code == 0, t.Err);
        var e = Run("eval", run);
        Assert.True(e.Code == 0, e.Err);
        Assert.Contains("its test split (40 rows)", e.Out);
        // Reordered rows: the seed's permutation would now pick (mostly) training rows as "test" rows.
        var lines = File.ReadAllLines(csv);
        File.WriteAllLines(csv, lines.Take(1).Concat(lines.Skip(1).Reverse()));
        AssertOneLineError(Run("eval", run), "has changed since training", "--data");
        var whole = Run("eval", run, "--data", csv);
        Assert.True(whole.Code == 0, whole.Err);
        Assert.Contains("(200 rows)", whole.Out);
        // --resume on changed data would continue on another split as well.
        AssertOneLineError(Run("train", "--resume", run, "--epochs", "2"), "differs from the data the run was trained on");
    }

    [Fact]
    public void BatchSizeIntMaxTrainsOneFullBatchPerEpoch()
    {
        var dir = Tmp("batch-max");
        var r = Run("train", "--epochs", "2", "--batch-size", int.MaxValue.ToString(CultureInfo.InvariantCulture), "--out", dir);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(dir, "steps.csv")).Length); // header + one step per epoch
    }

    [Theory]
    [InlineData("")]
    [InlineData("NaN")]
    [InlineData("nan")]
    [InlineData("NA")]
    [InlineData("null")]
    public void HowAMissingLabelIsSpelledDoesNotChangeTheTask(string token)
    {
        var dir = Tmp("missing-" + token);
        var csv = Csv(dir, 90, (i, j) => i == 5 && j == 2 ? token : null);
        var r = Run("train", "--data", csv, "--missing", "drop", "--epochs", "1", "--out", Path.Combine(dir, "run"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("CrossEntropyLoss on 3 logits", r.Out);
        var m = System.Text.RegularExpressions.Regex.Match(r.Out, @"(\d+) train, (\d+) validation, (\d+) test rows");
        Assert.True(m.Success, r.Out);
        Assert.Equal(89, Enumerable.Range(1, 3).Sum(g => int.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture))); // the row with the gap is dropped
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("1e39")]
    [InlineData("-1e39")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("NAN")]
    public void NonFiniteOrFloat32OverflowingCellsAreDataErrorsNamingRowAndColumn(string value)
    {
        var dir = Tmp("nonfinite");
        var csv = Csv(dir, 60, (i, j) => i == 7 && j == 1 ? value : null);
        AssertOneLineError(Run("train", "--data", csv, "--epochs", "1", "--out", Path.Combine(dir, "run")), "'b'", "line 9", value, "not a finite float32");
    }

    // ------------------------------------------------------------------ targets

    [Theory]
    [InlineData("NA", "error", "missing value in target column 'label'")]
    [InlineData("dog", "drop", "'dog'")]
    [InlineData("inf", "drop", "'inf'")]
    [InlineData("Infinity", "drop", "not a finite float32")]
    public void BadTargetCellsAreOneLineErrors(string cell, string missing, string expected)
    {
        var dir = Tmp("target");
        var csv = Csv(dir, 60, (i, j) => i == 4 && j == 2 ? cell : null);
        AssertOneLineError(Run("train", "--data", csv, "--missing", missing, "--epochs", "1", "--out", Path.Combine(dir, "run")), expected, "line 6");
    }

    [Fact]
    public void SingleClassTargetIsRefused()
    {
        var dir = Tmp("single");
        var csv = Csv(dir, 40, (i, j) => j == 2 ? "1" : null);
        AssertOneLineError(Run("train", "--data", csv, "--epochs", "1", "--out", Path.Combine(dir, "run")), "single class");
    }

    [Fact]
    public void IntegerLabelsBeyond2Pow53AreRefusedAndWorkAsText()
    {
        var dir = Tmp("2p53");
        var csv = Csv(dir, 60, (i, j) => j == 2 ? (i % 2 == 0 ? "9007199254740993" : "9007199254740992") : null);
        AssertOneLineError(Run("train", "--data", csv, "--epochs", "1", "--out", Path.Combine(dir, "run")), "2^53", "--categorical 'label'");
        var r = Run("train", "--data", csv, "--categorical", "label", "--epochs", "1", "--out", Path.Combine(dir, "run2"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("2 distinct integer labels", r.Out);
    }

    [Fact]
    public void OneHotOfAnIdentifierColumnIsCappedAndDropWorks()
    {
        var dir = Tmp("ids");
        var sb = new StringBuilder("id,a,label\n");
        for (int i = 0; i < 1500; i++) sb.Append($"user{i},{i % 17},{i % 2}\n");
        var csv = Path.Combine(dir, "ids.csv");
        File.WriteAllText(csv, sb.ToString());
        AssertOneLineError(Run("train", "--data", csv, "--epochs", "1", "--out", Path.Combine(dir, "run")), "column 'id'", "1500 distinct", "--drop id");
        var ok = Run("train", "--data", csv, "--drop", "id", "--epochs", "1", "--out", Path.Combine(dir, "run2"));
        Assert.True(ok.Code == 0, ok.Err);
        Assert.Contains("1 features", ok.Out);
        // predict leaves the dropped column out too (its unseen ids are not "categories never seen in training").
        var pr = Run("predict", Path.Combine(dir, "run2"), "--data", csv, "--out", Path.Combine(dir, "p.csv"));
        Assert.True(pr.Code == 0, pr.Err);
        AssertOneLineError(Run("train", "--data", csv, "--drop", "nope", "--epochs", "1", "--out", Path.Combine(dir, "run3")), "--drop", "'nope'");
    }

    [Fact]
    public void OneHotSizeOverflowIsADataErrorInTheLibrary()
    {
        // 50,000 distinct strings × 50,000 rows: the product overflows int32; the library refuses before allocating.
        var sb = new StringBuilder("id,y\n");
        for (int i = 0; i < 50_000; i++) sb.Append("s").Append(i).Append(",1\n");
        var t = Kindling.Data.CsvTable.Parse(new StringReader(sb.ToString()));
        var e = Assert.Throws<Kindling.Data.DataException>(() => t.Features(["id"]));
        Assert.Contains("'id'", e.Message);
        Assert.Contains("50000 distinct", e.Message);
    }

    // ------------------------------------------------------------------ options

    [Theory]
    [InlineData("--lr nan", "--lr")]
    [InlineData("--lr -1", "--lr")]
    [InlineData("--lr 0", "--lr")]
    [InlineData("--momentum nan", "--momentum")]
    [InlineData("--weight-decay -1", "--weight-decay")]
    [InlineData("--label-smoothing 2", "--label-smoothing")]
    [InlineData("--dropout nan", "--dropout")]
    [InlineData("--test-split nan", "--test-split")]
    [InlineData("--val-split nan", "--val-split")]
    [InlineData("--hidden 100000,100000", "GB")]
    [InlineData("--early-stopping -1", "--early-stopping")]
    public void BadOptionValuesAreOneLineErrors(string args, string expected)
    {
        var dir = Tmp("opt");
        AssertOneLineError(Run(["train", "--epochs", "1", "--out", Path.Combine(dir, "run"), .. args.Split(' ')]), expected);
    }

    [Fact]
    public void EmptyOutAndEmptyLossListAreOneLineErrors()
    {
        AssertOneLineError(Run("train", "--epochs", "1", "--out", ""), "--out is empty");
        AssertOneLineError(Run("compare", "--epochs", "1", "--losses", ",,", "--out", Tmp("cmp")), "--losses");
        AssertOneLineError(Run("compare", "--epochs", "1", "--losses", "mse,mse", "--out", Tmp("cmp")), "twice");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void TinyCsvGetsAMessageAboutTheData(int rows)
    {
        var dir = Tmp("tiny");
        var csv = Csv(dir, rows);
        AssertOneLineError(Run("train", "--data", csv, "--epochs", "1", "--out", Path.Combine(dir, "run")), $"has only {rows} row", "more data");
    }

    [SkippableFact]
    public void InitOnAFolderOrAFifoIsRefusedWithoutBlocking()
    {
        var dir = Tmp("init");
        AssertOneLineError(Run("train", "--epochs", "1", "--init", dir, "--out", Path.Combine(dir, "run")), "--init", "folder");
        Skip.If(OperatingSystem.IsWindows(), "FIFOs are a Unix feature");
        var fifo = Path.Combine(dir, "pipe");
        using (var p = Process.Start("mkfifo", [fifo])) p.WaitForExit();
        Skip.IfNot(File.Exists(fifo), "mkfifo is not available");
        AssertOneLineError(Run("train", "--epochs", "1", "--init", fifo, "--out", Path.Combine(dir, "run")), "--init", "not a regular file");
    }

    // ------------------------------------------------------------------ run folders

    [Fact]
    public void RunFoldersStartedInTheSameSecondAreNotShared()
    {
        var dir = Tmp("same-second");
        var psis = Enumerable.Range(0, 2).Select(_ =>
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir };
            foreach (var a in new[] { CliTestsDll(), "train", "--epochs", "2" }) psi.ArgumentList.Add(a);
            return psi;
        }).ToList();
        var procs = psis.Select(p => Process.Start(p)!).ToList();
        foreach (var p in procs)
        {
            _ = p.StandardOutput.ReadToEndAsync();
            var err = p.StandardError.ReadToEnd();
            Assert.True(p.WaitForExit(120_000));
            Assert.True(p.ExitCode == 0, err);
        }
        var runs = Directory.GetDirectories(Path.Combine(dir, "runs"));
        Assert.Equal(2, runs.Length);
        foreach (var r in runs) Assert.True(File.Exists(Path.Combine(r, "model.safetensors")), r);
    }

    [Fact]
    public void ALockedRunFolderIsRefused()
    {
        var dir = Tmp("locked");
        using (new FileStream(Path.Combine(dir, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
            AssertOneLineError(CliTests.Run(["train", "--epochs", "1", "--out", dir]), "another kindling process");
        Assert.Equal(0, CliTests.Run(["train", "--epochs", "1", "--out", dir]).Code);
    }

    private static string CliTestsDll()
    {
        var config = AppContext.BaseDirectory.Contains("/Release/") ? "Release" : "Debug";
        return Path.Combine(Repo.Root, "src", "Kindling.Cli", "bin", config, "net10.0", "Kindling.Cli.dll");
    }

    private static string[] CurveColumn(string path, int col) => File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')[col]).ToArray();

    [Fact]
    public void CurvesAgreeWithTheCheckpointAfterResumeEvenWhenWrittenAhead()
    {
        var dir = Tmp("curves");
        var full = Path.Combine(dir, "full");
        var part = Path.Combine(dir, "part");
        Assert.Equal(0, Run("train", "--epochs", "3", "--out", full).Code);
        var i = InProcessCli.Run(["train", "--epochs", "3", "--out", part], new() { ["KINDLING_STOP_AFTER_STEPS"] = "30" });
        Assert.Equal(130, i.Code);
        // A crash after the curves were written and before the checkpoint landed leaves the curves ahead of it.
        File.AppendAllText(Path.Combine(part, "steps.csv"), "31,2,0.5,0.001\n32,2,0.5,0.001\n");
        File.AppendAllText(Path.Combine(part, "epochs.csv"), "2,0.1,0.9,0.1,0.9,0.001,1\n");
        var r = Run("train", "--resume", part);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(CurveColumn(Path.Combine(full, "steps.csv"), 0), CurveColumn(Path.Combine(part, "steps.csv"), 0));
        Assert.Equal(CurveColumn(Path.Combine(full, "steps.csv"), 2), CurveColumn(Path.Combine(part, "steps.csv"), 2));
        Assert.Equal(CurveColumn(Path.Combine(full, "epochs.csv"), 1), CurveColumn(Path.Combine(part, "epochs.csv"), 1));
        Assert.Equal(File.ReadAllBytes(Path.Combine(full, "model.safetensors")), File.ReadAllBytes(Path.Combine(part, "model.safetensors")));
    }

    [Fact]
    public void KillNineThenResumeLeavesCurvesThatAgreeWithTheCheckpoint()
    {
        var dir = Tmp("kill9");
        var rng = new Random(12);
        for (int trial = 0; trial < 2; trial++)
        {
            var run = Path.Combine(dir, "run" + trial);
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { CliTestsDll(), "train", "--epochs", "1000", "--batch-size", "16", "--out", run }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            _ = p.StandardOutput.ReadToEndAsync(); _ = p.StandardError.ReadToEndAsync();
            var ckpt = Path.Combine(run, "checkpoint.safetensors");
            var sw = Stopwatch.StartNew();
            while (!File.Exists(ckpt) && sw.ElapsedMilliseconds < 60_000 && !p.HasExited) Thread.Sleep(10);
            Thread.Sleep(rng.Next(0, 400)); // anywhere in an epoch, including while curves and checkpoint are written
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            int epoch = int.Parse(Safetensors.Load(ckpt).Metadata["epoch"], CultureInfo.InvariantCulture);
            var r = Run("train", "--resume", run, "--epochs", (epoch + 1).ToString(CultureInfo.InvariantCulture));
            Assert.True(r.Code == 0, r.Err);
            var steps = CurveColumn(Path.Combine(run, "steps.csv"), 0).Select(long.Parse).ToArray();
            Assert.Equal(Enumerable.Range(1, steps.Length).Select(x => (long)x), steps);
            var epochs = CurveColumn(Path.Combine(run, "epochs.csv"), 0).Select(int.Parse).ToArray();
            Assert.Equal(Enumerable.Range(1, epoch + 1), epochs);
            var meta = Safetensors.Load(ckpt).Metadata;
            Assert.Equal(meta["step"], steps.Length.ToString(CultureInfo.InvariantCulture));
        }
    }

    [SkippableFact]
    public void AFullDiskDuringCheckpointingKeepsThePreviousCheckpoint()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && Environment.UserName == "root", "needs root to mount a small tmpfs");
        var probe = Tmp("disk-probe");
        Assert.Equal(0, Run("train", "--epochs", "1", "--out", probe).Code);
        long ckpt = new FileInfo(Path.Combine(probe, "checkpoint.safetensors")).Length;
        // What exists while training: config, scaler and the curves (the model, plots and report come at the end).
        long others = new[] { "config.json", "scaler.safetensors", "steps.csv", "epochs.csv" }.Sum(f => new FileInfo(Path.Combine(probe, f)).Length * 3);
        var mnt = Tmp("disk-full");
        // Room for the run's small files and one checkpoint, not for the second one written beside it.
        long size = (others + ckpt * 3 / 2 + 4095) / 4096 * 4096;
        using (var m = Process.Start(new ProcessStartInfo("mount", ["-t", "tmpfs", "-o", $"size={size}", "tmpfs", mnt]) { RedirectStandardError = true })!)
        {
            m.WaitForExit();
            Skip.If(m.ExitCode != 0, "cannot mount tmpfs here: " + m.StandardError.ReadToEnd());
        }
        try
        {
            var run = Path.Combine(mnt, "run");
            var r = Run("train", "--epochs", "3", "--out", run);
            AssertOneLineError(r, "checkpoint", "previous checkpoint");
            var f = Safetensors.Load(Path.Combine(run, "checkpoint.safetensors"));
            Assert.Equal("1", f.Metadata["epoch"]);
            Assert.False(File.Exists(Path.Combine(run, "checkpoint.safetensors.tmp")));
        }
        finally
        {
            using var u = Process.Start("umount", [mnt])!;
            u.WaitForExit();
        }
    }
}
