using System.Text.Json.Nodes;
using Kindling.IO;
using Kindling.NN;
using Kindling.Optim;

namespace Kindling.Tests;

/// <summary>
/// Trains the source material's three models from PyTorch-written initial weights on the same batches as
/// tools/parity/gen_training.py and checks every step's loss against PyTorch's float64 run of the same configuration (a
/// reference that does not drift): Kindling's float32 loss must be within <see cref="Multiple"/>× PyTorch-float32's own
/// relative distance from it so far (the largest over stock PyTorch and four equally valid float32 variants; never less
/// than <see cref="Floor"/>). Chaotic configurations are compared only up to the step where a float32 run leaves
/// float64 by 1 % (the generator's steps_compared).
/// </summary>
public class TrainingParityTests
{
    private static readonly string Dir = Path.Combine(Repo.Root, "tools", "parity", "training");
    /// <summary>trajectories.json (gen_training.py) with the trajectories of every trajectories_*.json (gen_optimizers.py: optimizers added later, same models and data).</summary>
    private static readonly Lazy<JsonObject> Data = new(() =>
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "trajectories.json")))!.AsObject();
        var all = root["trajectories"]!.AsArray();
        foreach (var f in Directory.GetFiles(Dir, "trajectories_*.json").Order())
        {
            var more = JsonNode.Parse(File.ReadAllText(f))!.AsObject();
            Assert.Equal(root["n"]!.GetValue<int>(), more["n"]!.GetValue<int>());
            Assert.Equal(root["batch"]!.GetValue<int>(), more["batch"]!.GetValue<int>());
            foreach (var t in more["trajectories"]!.AsArray().ToList()) all.Add(t!.DeepClone());
        }
        return root;
    });

    /// <summary>The generator's deterministic features: ((k·2654435761 + 12345) mod 2³²)/2³² − 0.5, k = i·D + j.</summary>
    internal static Tensor Features(int n, int d)
    {
        var v = new float[n * d];
        for (int k = 0; k < v.Length; k++) v[k] = (float)(((ulong)k * 2654435761UL + 12345UL) % 4294967296UL / 4294967296.0 - 0.5);
        return Tensor.FromArray(v, n, d);
    }

    public static IEnumerable<object[]> Trajectories()
    {
        foreach (var t in Data.Value["trajectories"]!.AsArray())
            yield return [t!["model"]!.GetValue<string>(), t["optimizer"]!.GetValue<string>()];
    }

    // The initial weights come from PyTorch's file; the layers' own initialisation is overwritten, but draws from a
    // local generator so that it does not consume (or race on) Generator.Default.
    private static (Module model, Func<Tensor, Tensor, Tensor> loss) Build(string name, Generator g) => name switch
    {
        "image_3072_128_2" => (new Sequential(new Linear(3072, 128, generator: g), new ReLU(), new Linear(128, 2, generator: g)), (y, t) => Functional.CrossEntropy(y, t)),
        "house_10_128_1" => (new Sequential(new Linear(10, 128, generator: g), new ReLU(), new Linear(128, 1, generator: g)), (y, t) => Functional.MseLoss(y, t)),
        "binary_10_5_1" => (new Sequential(new Linear(10, 5, generator: g), new Sigmoid(), new Linear(5, 1, generator: g)), (y, t) => Functional.BinaryCrossEntropyWithLogits(y, t)),
        _ => throw new ArgumentException(name),
    };

    /// <summary>The optimizer a trajectory names, built by the registry from the spec's PyTorch keywords.</summary>
    internal static Optimizer MakeOptimizer(JsonObject spec, IEnumerable<Tensor> p)
    {
        var entry = Kindling.Registry.Components.Optimizers.Get(spec["name"]!.GetValue<string>());
        var options = spec.Where(kv => kv.Key != "name").ToDictionary(kv => kv.Key, kv => kv.Value!.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False
            ? (object?)kv.Value.GetValue<bool>() : kv.Value.GetValue<double>());
        return entry.Build(p, options);
    }

    /// <summary>Kindling may be this many times further from the float64 truth than PyTorch-float32 is.</summary>
    internal const double Multiple = 2; // measured worst: 1.36× (house_10_128_1, sgd_nesterov_wd)

    /// <summary>float32 resolution of a loss value: 8·2⁻²³ relative (PyTorch's own distance can be ~0 at the first steps).</summary>
    internal const double Floor = 8 * 1.1920928955078125e-7;

    [Theory]
    [MemberData(nameof(Trajectories))]
    public void MatchesPyTorchStepByStep(string modelName, string optimizerName)
    {
        var root = Data.Value;
        var traj = root["trajectories"]!.AsArray().Select(t => t!.AsObject()).First(t => t["model"]!.GetValue<string>() == modelName && t["optimizer"]!.GetValue<string>() == optimizerName);
        var info = root["models"]![modelName]!.AsObject();
        int n = root["n"]!.GetValue<int>(), b = root["batch"]!.GetValue<int>();
        var x = Features(n, info["features"]!.GetValue<int>());
        var tv = info["targets"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        Tensor y = info["target_dtype"]!.GetValue<string>() == "int64" ? Tensor.FromArray(tv.Select(v => (long)v).ToArray()) : Tensor.FromArray(tv.Select(v => (float)v).ToArray(), n, 1);
        var (model, lossFn) = Build(modelName, new Generator(0));
        Safetensors.LoadModule(Path.Combine(Dir, modelName + ".safetensors"), model);
        var opt = MakeOptimizer(traj["spec"]!.AsObject(), model.Parameters());
        var truth = traj["losses64"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        var drift32 = traj["drift32"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        int steps = traj["steps_compared"]!.GetValue<int>();
        Assert.InRange(steps, 50, truth.Length); // a configuration cut shorter than this compares too little
        for (int s = 0; s < steps; s++)
        {
            var idx = Tensor.FromArray(Enumerable.Range(0, b).Select(r => (long)((s * b + r) % n)).ToArray());
            opt.ZeroGrad();
            var loss = lossFn(model.Call(x.IndexSelect(0, idx)), y.IndexSelect(0, idx));
            loss.Backward();
            opt.Step();
            // Kindling's float32 distance from PyTorch's float64 run, against PyTorch-float32's own distance so far.
            double rel = Math.Abs(loss.ItemDouble() - truth[s]) / Math.Abs(truth[s]);
            double ratio = rel / Math.Max(drift32[s], Floor);
            Assert.True(ratio <= Multiple, $"step {s}: Kindling {loss.ItemDouble():R}, PyTorch float64 {truth[s]:R} (relative {rel:E2}); " +
                $"PyTorch float32 is {drift32[s]:E2} away, so at most {Multiple}× max(that, {Floor:E1}) = {Multiple * Math.Max(drift32[s], Floor):E2} is allowed");
        }
    }

    public static IEnumerable<object[]> Schedules() => Data.Value["schedulers"]!.AsArray().Select(s => new object[] { s!["name"]!.GetValue<string>() });

    [Theory]
    [MemberData(nameof(Schedules))]
    public void SchedulersMatchPyTorch(string name)
    {
        var s = Data.Value["schedulers"]!.AsArray().Select(v => v!.AsObject()).First(v => v["name"]!.GetValue<string>() == name);
        var spec = s["spec"]!.AsObject();
        double N(string k, double d) => spec[k] is JsonNode v ? v.GetValue<double>() : d;
        var p = Tensor.Zeros(2).RequiresGrad_();
        var opt = new SGD([p], 0.1, momentum: 0.9);
        var lrs = s["lrs"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        if (name == "plateau")
        {
            var pl = new ReduceLROnPlateau(opt, factor: N("factor", 0.1), patience: (int)N("patience", 10), cooldown: (int)N("cooldown", 0));
            var metrics = s["metrics"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            for (int i = 0; i < metrics.Length; i++)
            {
                pl.Step(metrics[i]);
                Assert.Equal(lrs[i], opt.ParamGroups[0].Lr!.Value, 12);
            }
            return;
        }
        LRScheduler sch = spec["name"]!.GetValue<string>() switch
        {
            "step" => new StepLR(opt, (int)N("step_size", 1), N("gamma", 0.1)),
            "multistep" => new MultiStepLR(opt, spec["milestones"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray(), N("gamma", 0.1)),
            "exponential" => new ExponentialLR(opt, N("gamma", 0.1)),
            "cosine" => new CosineAnnealingLR(opt, (int)N("t_max", 1), N("eta_min", 0)),
            "linear" => new LinearLR(opt, N("start_factor", 1.0 / 3), N("end_factor", 1), (int)N("total_iters", 5)),
            "onecycle" => new OneCycleLR(opt, N("max_lr", 0.1), (int)N("total_steps", 10), N("pct_start", 0.3), spec["anneal_strategy"]?.GetValue<string>() ?? "cos"),
            var o => throw new ArgumentException(o),
        };
        var moms = s["momentums"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        for (int i = 0; i < lrs.Length; i++)
        {
            Assert.True(Math.Abs(lrs[i] - opt.ParamGroups[0].Lr!.Value) <= 1e-12 + 1e-9 * lrs[i], $"{name} step {i}: lr {opt.ParamGroups[0].Lr} vs PyTorch {lrs[i]}");
            // The momentum SGD actually uses: the group's (which OneCycleLR must set) or else the optimizer's own.
            if (name == "onecycle") Assert.True(opt.ParamGroups[0].Momentum != null, "OneCycleLR left the group momentum unset");
            double mom = opt.ParamGroups[0].Momentum ?? opt.Momentum;
            Assert.True(Math.Abs(moms[i] - mom) <= 1e-9, $"{name} step {i}: momentum {mom} vs PyTorch {moms[i]}");
            if (i + 1 < lrs.Length) sch.Step();
        }
    }
}
