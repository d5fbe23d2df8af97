using System.Text.Json.Nodes;
using Kindling.IO;

namespace Kindling.Tests;

/// <summary>
/// A run folder is untrusted input: each defect in config.json, model.safetensors, scaler.safetensors,
/// checkpoint.safetensors or the curves gives one line naming the file, for eval, predict and --resume alike.
/// The defective folders are made here from a real run, not stored.
/// </summary>
[Collection("InProcessCli")]
public class RunFolderTests
{
    private static readonly Lazy<string> Base = new(() =>
    {
        var dir = CliRobustnessTests.Tmp("runfolder-base");
        var r = InProcessCli.Run(["train", "--epochs", "2", "--hidden", "16", "--out", dir], new() { ["KINDLING_STOP_AFTER_STEPS"] = "30" });
        Assert.True(r.Code == 130, r.Err); // interrupted mid-epoch: a checkpoint with batch > 0
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(dir)!, "digits-features.csv"), DigitsCsv());
        return dir;
    });

    private static string DigitsCsv()
    {
        var d = Kindling.Data.Datasets.Load("digits");
        var x = d.Features.ToArray();
        int f = d.Features.Size(1);
        var sb = new System.Text.StringBuilder(string.Join(",", d.FeatureNames)).Append('\n');
        for (int i = 0; i < 20; i++) sb.Append(string.Join(",", Enumerable.Range(0, f).Select(j => x[i * f + j].ToString(System.Globalization.CultureInfo.InvariantCulture)))).Append('\n');
        return sb.ToString();
    }

    private static string Copy()
    {
        var dst = CliRobustnessTests.Tmp("runfolder");
        foreach (var f in Directory.GetFiles(Base.Value))
            if (Path.GetFileName(f) != ".lock") File.Copy(f, Path.Combine(dst, Path.GetFileName(f)));
        return dst;
    }

    private static void Rewrite(string path, Action<Dictionary<string, Tensor>, Dictionary<string, string>> edit)
    {
        var f = Safetensors.Load(path);
        var t = f.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value);
        var m = f.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
        edit(t, m);
        Safetensors.Save(path, t, m);
    }

    private static void EditConfig(string dir, Action<JsonObject> edit)
    {
        var p = Path.Combine(dir, "config.json");
        var j = JsonNode.Parse(File.ReadAllText(p))!.AsObject();
        edit(j);
        File.WriteAllText(p, j.ToJsonString());
    }

    /// <summary>The same defect through eval and predict (and --resume, which reads config.json but not the model or scaler).</summary>
    private static void AllCommandsRefuse(string dir, params string[] parts)
    {
        var csv = Path.Combine(Path.GetDirectoryName(Base.Value)!, "digits-features.csv");
        CliRobustnessTests.AssertOneLineError(InProcessCli.Run(["eval", dir]), parts);
        CliRobustnessTests.AssertOneLineError(InProcessCli.Run(["predict", dir, "--data", csv, "--out", Path.Combine(dir, "p.csv")]), parts);
        if (parts[0] == "config.json") CliRobustnessTests.AssertOneLineError(InProcessCli.Run(["train", "--resume", dir]), parts);
    }

    [Fact]
    public void TheUntouchedFolderWorks()
    {
        var dir = Copy();
        Assert.Equal(0, InProcessCli.Run(["eval", dir]).Code);
        var r = InProcessCli.Run(["train", "--resume", dir]);
        Assert.True(r.Code == 0, r.Err);
    }

    [Fact]
    public void TruncatedModel() { var d = Copy(); var p = Path.Combine(d, "model.safetensors"); File.WriteAllBytes(p, File.ReadAllBytes(p)[..100]); AllCommandsRefuse(d, "model.safetensors", "truncated"); }

    [Fact]
    public void ModelWithAMissingTensor() { var d = Copy(); Rewrite(Path.Combine(d, "model.safetensors"), (t, _) => t.Remove("0.bias")); AllCommandsRefuse(d, "model.safetensors", "0.bias"); }

    [Fact]
    public void ModelWithNaN() { var d = Copy(); Rewrite(Path.Combine(d, "model.safetensors"), (t, _) => t["0.bias"] = Tensor.Full([16], double.NaN)); AllCommandsRefuse(d, "model.safetensors", "NaN"); }

    [Fact]
    public void ModelIsAFolder() { var d = Copy(); File.Delete(Path.Combine(d, "model.safetensors")); Directory.CreateDirectory(Path.Combine(d, "model.safetensors")); AllCommandsRefuse(d, "model.safetensors", "folder"); }

    [Fact]
    public void ConfigNotJson() { var d = Copy(); File.WriteAllText(Path.Combine(d, "config.json"), "{\"data\": "); AllCommandsRefuse(d, "config.json"); }

    [Fact]
    public void ConfigWithoutFeatureNames() { var d = Copy(); EditConfig(d, j => j.Remove("feature_names")); AllCommandsRefuse(d, "config.json", "feature_names"); }

    [Fact]
    public void ConfigWithNullHidden() { var d = Copy(); EditConfig(d, j => j["hidden"] = null); AllCommandsRefuse(d, "config.json", "null"); }

    [Fact]
    public void ConfigWithWrongType() { var d = Copy(); EditConfig(d, j => j["epochs"] = "many"); AllCommandsRefuse(d, "config.json"); }

    [Fact]
    public void ConfigWithHugeHidden() { var d = Copy(); EditConfig(d, j => j["hidden"] = new JsonArray(100000, 100000)); AllCommandsRefuse(d, "config.json", "--hidden"); }

    [Fact]
    public void ConfigWithUnknownTask() { var d = Copy(); EditConfig(d, j => j["resolved_task"] = "astrology"); AllCommandsRefuse(d, "config.json", "resolved_task"); }

    [Fact]
    public void ConfigWithFewerClassesThanOutputs() { var d = Copy(); EditConfig(d, j => j["class_names"] = new JsonArray("a", "b")); AllCommandsRefuse(d, "config.json", "class_names"); }

    [Fact]
    public void ScalerWithoutTargetStd() { var d = Copy(); Rewrite(Path.Combine(d, "scaler.safetensors"), (t, _) => t.Remove("target.std")); AllCommandsRefuse(d, "scaler.safetensors", "target.std"); }

    [Fact]
    public void ScalerWithWrongFeatureCount() { var d = Copy(); Rewrite(Path.Combine(d, "scaler.safetensors"), (t, _) => { t["features.mean"] = Tensor.Zeros(3); t["features.std"] = Tensor.Ones(3); }); AllCommandsRefuse(d, "scaler.safetensors", "3 features"); }

    private static void ResumeRefuses(Action<Dictionary<string, Tensor>, Dictionary<string, string>> edit, params string[] parts)
    {
        var d = Copy();
        Rewrite(Path.Combine(d, "checkpoint.safetensors"), edit);
        CliRobustnessTests.AssertOneLineError(InProcessCli.Run(["train", "--resume", d]), ["checkpoint.safetensors", .. parts]);
    }

    [Fact] public void CheckpointWithoutStep() => ResumeRefuses((_, m) => m.Remove("step"), "\"step\"");
    [Fact] public void CheckpointWithoutBest() => ResumeRefuses((_, m) => m.Remove("best"), "\"best\"");
    [Fact] public void CheckpointWithAWordForEpoch() => ResumeRefuses((_, m) => m["epoch"] = "one", "\"epoch\"");
    [Fact] public void CheckpointWithEpochOutOfRange() => ResumeRefuses((_, m) => m["epoch"] = "99", "\"epoch\"");
    [Fact] public void CheckpointWithNegativeBatch() => ResumeRefuses((_, m) => m["batch"] = "-1", "\"batch\"");
    [Fact] public void CheckpointWithInconsistentStep() => ResumeRefuses((_, m) => m["step"] = "29", "does not match");
    [Fact] public void CheckpointWithoutOptimizerState() => ResumeRefuses((t, _) => { foreach (var k in t.Keys.Where(k => k.StartsWith("optim.state.")).ToList()) t.Remove(k); }, "optimizer state lacks");
    [Fact] public void CheckpointWithoutLr() => ResumeRefuses((t, _) => t.Remove("optim.group.0.lr"), "optim.group.0.lr");
    [Fact] public void CheckpointWithNaNLr() => ResumeRefuses((t, _) => t["optim.group.0.lr"] = Tensor.Scalar(double.NaN, DType.Float64), "NaN");
    [Fact] public void CheckpointWithAMisshapedMoment() => ResumeRefuses((t, _) => t["optim.state.0.exp_avg"] = Tensor.Zeros(2), "optim.state.0.exp_avg");
    [Fact] public void CheckpointWithAStrangeEntry() => ResumeRefuses((t, _) => t["evil"] = Tensor.Zeros(1), "'evil'");

    [Fact]
    public void ShortOrGarbledCurvesAreRefusedOnResume()
    {
        var d = Copy();
        var steps = Path.Combine(d, "steps.csv");
        File.WriteAllLines(steps, File.ReadAllLines(steps)[..10]);
        CliRobustnessTests.AssertOneLineError(InProcessCli.Run(["train", "--resume", d]), "steps.csv", "checkpoint's step 30");
        File.WriteAllText(steps, "step,epoch,loss,lr\n1,1,zzz,0.1\n");
        CliRobustnessTests.AssertOneLineError(InProcessCli.Run(["train", "--resume", d]), "steps.csv", "'zzz'");
    }
}
