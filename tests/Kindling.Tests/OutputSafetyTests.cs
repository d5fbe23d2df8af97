using System.Diagnostics;
using Kindling.IO;

namespace Kindling.Tests;

/// <summary>
/// Issue 23, data loss: an output path never destroys what it names. predict --out and export --onnx refuse their own
/// inputs and the files of a run folder, write through to devices, FIFOs and '-', and replace a regular file atomically
/// saying so; train/compare --overwrite start from a folder without the earlier run's files.
/// </summary>
[Collection("InProcessCli")]
public class OutputSafetyTests
{
    private static CliTests.Result Run(params string[] args) => InProcessCli.Run(args);

    private static readonly Lazy<(string Dir, string Run, string Csv)> Trained = new(() =>
    {
        var dir = CliRobustnessTests.Tmp("outsafe");
        var csv = CliHarness.Csv(dir, "data.csv", "a,b,label", 90, (i, r) => $"{CliHarness.F(r.NextDouble())},{CliHarness.F(r.NextDouble())},{(i % 3 == 0 ? "x" : "y")}");
        var run = Path.Combine(dir, "run");
        CliHarness.Ok("train", "--data", csv, "--epochs", "1", "--hidden", "4", "--out", run);
        return (dir, run, csv);
    });

    private static byte[] Bytes(string p) => File.ReadAllBytes(p);

    private static void Sh(string cmd)
    {
        using var p = Process.Start(new ProcessStartInfo("sh", ["-c", cmd]) { RedirectStandardError = true })!;
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{cmd}: {p.StandardError.ReadToEnd()}");
    }

    [Fact]
    public void PredictRefusesToWriteOverItsOwnInputEvenThroughALink()
    {
        var (dir, run, csv) = Trained.Value;
        var before = Bytes(csv);
        CliRobustnessTests.AssertOneLineError(Run("predict", run, "--data", csv, "--out", csv), "--out", "same file as the input --data");
        var link = Path.Combine(dir, "link-to-data.csv");
        if (!File.Exists(link)) File.CreateSymbolicLink(link, csv);
        CliRobustnessTests.AssertOneLineError(Run("predict", run, "--data", csv, "--out", link), "same file as the input --data");
        var hard = Path.Combine(dir, "hard-" + Guid.NewGuid().ToString("N")[..6] + ".csv");
        Sh($"ln '{csv}' '{hard}'");
        CliRobustnessTests.AssertOneLineError(Run("predict", run, "--data", hard, "--out", csv), "same file as the input --data");
        Assert.Equal(before, Bytes(csv));
    }

    [Theory]
    [InlineData("model.safetensors")]
    [InlineData("config.json")]
    [InlineData("scaler.safetensors")]
    [InlineData("report.html")]
    public void ExportAndPredictRefuseToReplaceAFileOfARunFolder(string file)
    {
        var (_, run, csv) = Trained.Value;
        var target = Path.Combine(run, file);
        var before = Bytes(target);
        CliRobustnessTests.AssertOneLineError(Run("export", run, "--onnx", target), "--onnx", "run folder");
        CliRobustnessTests.AssertOneLineError(Run("predict", run, "--data", csv, "--out", target), "--out", "run folder");
        Assert.Equal(before, Bytes(target));
        // A new file in the run folder is fine.
        var fresh = Path.Combine(run, "fresh-" + Guid.NewGuid().ToString("N")[..6] + ".onnx");
        CliHarness.Ok("export", run, "--onnx", fresh);
        Assert.True(new FileInfo(fresh).Length > 100);
    }

    [Fact]
    public void DevicesAndFifosAreWrittenThroughNotReplaced()
    {
        var (dir, run, csv) = Trained.Value;
        var sub = CliRobustnessTests.Tmp("outsafe-dev");
        var dev = Path.Combine(sub, "null");
        Sh($"mknod '{dev}' c 1 3"); // our own /dev/null node: the test never touches the real one
        CliHarness.Ok("predict", run, "--data", csv, "--out", dev);
        CliHarness.Ok("export", run, "--onnx", dev);
        Assert.Equal(FileType.CharacterDevice, FileKind.Of(dev));

        var fifo = Path.Combine(sub, "fifo");
        Sh($"mkfifo '{fifo}'");
        string? got = null;
        var reader = new Thread(() => got = File.ReadAllText(fifo));
        reader.Start();
        CliHarness.Ok("predict", run, "--data", csv, "--out", fifo);
        Assert.True(reader.Join(TimeSpan.FromSeconds(30)), "the FIFO's reader never got the data");
        Assert.StartsWith("row,prediction,p_x,p_y", got);
        Assert.Equal(FileType.Fifo, FileKind.Of(fifo));
        var link = Path.Combine(sub, "link");
        File.CreateSymbolicLink(link, dev);
        CliHarness.Ok("predict", run, "--data", csv, "--out", link);
        Assert.Equal(FileType.CharacterDevice, FileKind.Of(dev));
        Assert.NotNull(new FileInfo(link).LinkTarget);
    }

    [Fact]
    public void DashIsStandardOutputAndReplacingARegularFileIsSaid()
    {
        var (dir, run, csv) = Trained.Value;
        var r = CliHarness.Ok("predict", run, "--data", csv, "--out", "-");
        Assert.StartsWith("row,prediction,p_x,p_y\n", r.Out);
        Assert.Equal(91, r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("standard output", r.Err);
        var outFile = Path.Combine(CliRobustnessTests.Tmp("outsafe-replace"), "p.csv");
        var first = CliHarness.Ok("predict", run, "--data", csv, "--out", outFile);
        Assert.DoesNotContain("replaced", first.Out);
        var second = CliHarness.Ok("predict", run, "--data", csv, "--out", outFile);
        Assert.Contains("replaced the existing file", second.Out);
        // A link to a regular file: the file it points to is replaced, the link stays a link.
        var link = outFile + ".link";
        File.CreateSymbolicLink(link, outFile);
        File.WriteAllText(outFile, "old");
        CliHarness.Ok("predict", run, "--data", csv, "--out", link);
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.StartsWith("row,prediction", File.ReadAllText(outFile));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(outFile)!, "*.tmp*", SearchOption.AllDirectories).Concat(Directory.GetFiles(Path.GetDirectoryName(outFile)!, ".*tmp")));
    }

    [Fact]
    public void OverwriteStartsFromAFolderWithoutTheEarlierRun()
    {
        var dir = CliRobustnessTests.Tmp("outsafe-overwrite");
        var run = Path.Combine(dir, "run");
        CliHarness.Ok("train", "--epochs", "1", "--hidden", "4", "--out", run, "--data", "breast_cancer");
        File.WriteAllText(Path.Combine(run, "notes.txt"), "mine");
        // A new run that fails before training (bad data) must not leave the earlier model to be scored or resumed.
        var bad = Path.Combine(dir, "bad.csv");
        File.WriteAllText(bad, "a,label\n1,x\n");
        var r = Run("train", "--data", bad, "--out", run, "--overwrite", "--epochs", "1");
        Assert.Equal(1, r.Code);
        foreach (var f in new[] { "model.safetensors", "checkpoint.safetensors", "config.json", "scaler.safetensors", "epochs.csv" })
            Assert.False(File.Exists(Path.Combine(run, f)), $"{f} of the earlier run survived --overwrite");
        Assert.Equal("mine", File.ReadAllText(Path.Combine(run, "notes.txt")));
        Assert.NotEqual(0, Run("eval", run).Code);
        // A stopped new run resumes its own configuration, not the old one.
        CliHarness.Ok("train", "--epochs", "1", "--hidden", "4", "--out", run, "--data", "breast_cancer", "--overwrite");
        Assert.Contains("--overwrite: deleted the earlier run's", Run("train", "--epochs", "1", "--hidden", "6", "--out", run, "--data", "breast_cancer", "--overwrite").Out);
    }

    [Fact]
    public void OverwriteAndCompareRefuseToDestroyTheirInputsOrAnEarlierRun()
    {
        var dir = CliRobustnessTests.Tmp("outsafe-inputs");
        var run = Path.Combine(dir, "run");
        CliHarness.Ok("train", "--epochs", "1", "--hidden", "4", "--out", run, "--data", "breast_cancer");
        var model = Path.Combine(run, "model.safetensors");
        var before = Bytes(model);
        CliRobustnessTests.AssertOneLineError(Run("train", "--epochs", "1", "--hidden", "4", "--out", run, "--data", "breast_cancer", "--overwrite", "--init", model), "--init", "inside --out");
        Assert.Equal(before, Bytes(model));
        // compare over a train run without --overwrite: refused, the run untouched.
        CliRobustnessTests.AssertOneLineError(Run("compare", "--epochs", "1", "--hidden", "4", "--out", run, "--data", "breast_cancer"), "already holds a run", "--overwrite");
        Assert.Equal(before, Bytes(model));
        // --out naming an existing file.
        var file = Path.Combine(dir, "file.txt");
        File.WriteAllText(file, "keep");
        CliRobustnessTests.AssertOneLineError(Run("train", "--epochs", "1", "--out", file, "--data", "breast_cancer"), "is a file, not a folder");
        Assert.Equal("keep", File.ReadAllText(file));
    }
}
