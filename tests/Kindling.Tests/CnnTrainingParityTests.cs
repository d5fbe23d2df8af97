using System.Diagnostics;
using System.Text.Json.Nodes;
using Kindling.IO;
using Kindling.NN;

namespace Kindling.Tests;

/// <summary>
/// A small CNN (conv–BatchNorm2d–ReLU–max-pool twice, then Linear) trained 200 steps from PyTorch-written initial weights
/// on the batches of tools/parity/gen_cnn_training.py: every step's float32 loss within 2× PyTorch float32's own distance
/// from PyTorch's float64 run (<see cref="TrainingParityTests.Multiple"/>; never less than its float32 resolution floor). Also: a PyTorch-trained CNN's
/// safetensors (BatchNorm buffers included) loads strictly and predicts PyTorch's logits, and a Kindling-trained one
/// loads into torch.nn.Sequential with strict=True and predicts the same classes.
/// </summary>
public class CnnTrainingParityTests
{
    private static readonly string Dir = Path.Combine(Repo.Root, "tools", "parity", "training");
    private static readonly Lazy<JsonObject> Data = new(() => JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "cnn_trajectories.json")))!.AsObject());

    /// <summary>The generator's model: PyTorch's state-dict names 0.weight, 1.running_mean, 4.weight, 8.weight …</summary>
    internal static Sequential Model() => new(
        new Conv2d(1, 8, 3, padding: 1), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
        new Conv2d(8, 16, 3, padding: 1), new ReLU(), new MaxPool2d(2),
        new Flatten(), new Linear(16 * 3 * 3, 10));

    internal static Tensor Images(int n, int s) => TrainingParityTests.Features(n, s * s).Reshape(n, 1, s, s);

    public static IEnumerable<object[]> Optimizers() => Data.Value["trajectories"]!.AsArray().Select(t => new object[] { t!["optimizer"]!.GetValue<string>() });

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void MatchesPyTorchStepByStep(string optimizer)
    {
        var root = Data.Value;
        var traj = root["trajectories"]!.AsArray().Select(t => t!.AsObject()).First(t => t["optimizer"]!.GetValue<string>() == optimizer);
        int n = root["n"]!.GetValue<int>(), b = root["batch"]!.GetValue<int>(), s = root["size"]!.GetValue<int>();
        var x = Images(n, s);
        var y = Tensor.FromArray(root["targets"]!.AsArray().Select(v => v!.GetValue<long>()).ToArray());
        var model = Model();
        Safetensors.LoadModule(Path.Combine(Dir, "cnn_init.safetensors"), model);
        var opt = TrainingParityTests.MakeOptimizer(traj["spec"]!.AsObject(), model.Parameters());
        var truth = traj["losses64"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        var drift = traj["drift32"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        for (int step = 0; step < truth.Length; step++)
        {
            var idx = Tensor.FromArray(Enumerable.Range(0, b).Select(r => (long)((step * b + r) % n)).ToArray());
            opt.ZeroGrad();
            var loss = Functional.CrossEntropy(model.Call(x.IndexSelect(0, idx)), y.IndexSelect(0, idx));
            loss.Backward();
            opt.Step();
            // Kindling's float32 distance from PyTorch's float64 run, against PyTorch-float32's own distance so far.
            double got = loss.ItemDouble(), exp = truth[step], rel = Math.Abs(got - exp) / Math.Abs(exp);
            double tol = TrainingParityTests.Multiple * Math.Max(drift[step], TrainingParityTests.Floor);
            Assert.True(rel <= tol, $"step {step}: Kindling {got:R}, PyTorch float64 {exp:R} (relative {rel:E2}); PyTorch float32 is {drift[step]:E2} away, so at most {tol:E2} is allowed");
        }
    }

    [Fact]
    public void PyTorchTrainedCnnLoadsStrictlyAndPredictsTheSame()
    {
        var model = Model();
        Safetensors.LoadModule(Path.Combine(Dir, "cnn_trained.safetensors"), model, strict: true);
        var bn = (BatchNorm2d)model[1];
        Assert.True(bn.NumBatchesTracked!.ToInt64Array()[0] == 200, "num_batches_tracked comes from the file");
        model.Eval();
        var expected = Data.Value["trained_eval_logits"]!.AsArray().Select(r => r!.AsArray().Select(v => v!.GetValue<double>()).ToArray()).ToArray();
        Tensor logits;
        using (Autograd.NoGrad()) logits = model.Call(Images(Data.Value["n"]!.GetValue<int>(), 12).Narrow(0, 0, expected.Length));
        var got = logits.ToDoubleArray();
        for (int i = 0; i < expected.Length; i++)
        {
            for (int c = 0; c < 10; c++) Assert.True(Math.Abs(expected[i][c] - got[i * 10 + c]) <= 1e-4, $"image {i} logit {c}: PyTorch {expected[i][c]}, Kindling {got[i * 10 + c]}");
            Assert.Equal(Array.IndexOf(expected[i], expected[i].Max()), logits.ArgMax(1).ToInt64Array()[i]);
        }
    }

    [SkippableFact]
    public void KindlingTrainedCnnLoadsIntoTorchSequentialStrictly()
    {
        var model = Model();
        Safetensors.LoadModule(Path.Combine(Dir, "cnn_init.safetensors"), model);
        var x = Images(64, 12);
        var y = Tensor.FromArray(Data.Value["targets"]!.AsArray().Take(64).Select(v => v!.GetValue<long>()).ToArray());
        var opt = new Optim.Adam(model.Parameters(), 1e-2);
        for (int s = 0; s < 5; s++) { opt.ZeroGrad(); Functional.CrossEntropy(model.Call(x), y).Backward(); opt.Step(); }
        model.Eval();
        string dir = Path.Combine(Path.GetTempPath(), "kindling-cnn-interop-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        string file = Path.Combine(dir, "model.safetensors");
        Safetensors.SaveModule(file, model);
        long[] classes;
        using (Autograd.NoGrad()) classes = model.Call(x.Narrow(0, 0, 16)).ArgMax(1).ToInt64Array();

        var psi = new ProcessStartInfo("python3", $"\"{Path.Combine(Repo.Root, "tools", "parity", "check_cnn_safetensors.py")}\" \"{file}\"")
        { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["PYENV_VERSION"] = "system";
        Process? p = null;
        try { p = Process.Start(psi); } catch (System.ComponentModel.Win32Exception) { }
        Skip.If(p == null, "python3 is not installed (CI installs python3-torch; see .ci/run)");
        string stdout = p!.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Skip.If(p.ExitCode == 3, "PyTorch is not installed for python3 (Debian: python3-torch)");
        Assert.True(p.ExitCode == 0, $"torch could not load Kindling's file strictly: {stderr}{stdout}");
        var torchClasses = stdout.Trim().Split(' ').Select(long.Parse).ToArray();
        Assert.Equal(classes, torchClasses);
        Directory.Delete(dir, true);
    }
}
