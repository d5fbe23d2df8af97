using System.Text.Json.Nodes;
using Kindling.NN;
using Kindling.Optim;

namespace Kindling.Tests;

/// <summary>
/// Public surface checked against PyTorch 1.13's numbers (tools/parity/gen_nn_extras.py → tools/parity/nn_extras.json):
/// the ELU/GELU/LeakyReLU/SiLU/Identity modules, the Init functions, Module.Eval, optimizer maximize and Adagrad lr_decay.
/// </summary>
public class NNExtrasParityTests
{
    private static readonly Lazy<JsonObject> Data = new(() => JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, "tools", "parity", "nn_extras.json")))!.AsObject());
    private static double[] D(JsonNode n) => n.AsArray().Select(v => v!.GetValue<double>()).ToArray();
    private static double[][] D2(JsonNode n) => n.AsArray().Select(r => D(r!)).ToArray();

    private static void Close(double[] expected, double[] got, double tol, string what)
    {
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - got[i]) <= tol * Math.Max(1, Math.Abs(expected[i])), $"{what}[{i}]: {got[i]:R}, PyTorch {expected[i]:R}");
    }

    public static TheoryData<string> ActivationNames() => new("elu", "elu_0.5", "gelu", "leaky_relu", "leaky_relu_0.2", "silu", "identity");

    [Theory]
    [MemberData(nameof(ActivationNames))]
    public void ActivationModulesMatchPyTorch(string name)
    {
        var a = Data.Value["activations"]!.AsArray().First(v => v!["name"]!.GetValue<string>() == name)!;
        Module m = name switch
        {
            "elu" => new ELU(), "elu_0.5" => new ELU(0.5), "gelu" => new GELU(), "leaky_relu" => new LeakyReLU(),
            "leaky_relu_0.2" => new LeakyReLU(0.2), "silu" => new SiLU(), _ => new Identity(),
        };
        var x = Tensor.FromArray(D(a["x"]!)).RequiresGrad_();
        var y = m.Call(x);
        y.Sum().Backward();
        // float64 throughout: 1e-12 leaves room only for the last bits (GELU's erf is a polynomial approximation: 1e-9).
        double tol = name == "gelu" ? 1e-9 : 1e-12;
        Close(D(a["y"]!), y.ToDoubleArray(), tol, name);
        Close(D(a["grad"]!), x.Grad!.ToDoubleArray(), tol, name + " grad");
    }

    [Fact]
    public void InitGainsAndFansMatchPyTorch()
    {
        var init = Data.Value["init"]!;
        foreach (var (key, v) in init["gains"]!.AsObject())
        {
            var parts = key.Split(':');
            double g = parts.Length == 2 ? Init.Gain(parts[0], double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)) : Init.Gain(parts[0]);
            Assert.Equal(v!.GetValue<double>(), g, 1e-12);
        }
        foreach (var f in init["fans"]!.AsArray())
        {
            var t = Tensor.Zeros(f!["shape"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray());
            if (f["error"] != null) { Assert.Contains("rank", Assert.Throws<ArgumentException>(() => Init.Fans(t)).Message); continue; }
            Assert.Equal((f["fan_in"]!.GetValue<int>(), f["fan_out"]!.GetValue<int>()), Init.Fans(t));
        }
    }

    [Fact]
    public void InitFunctionsDrawFromPyTorchsDistributions()
    {
        var d = Data.Value["init"]!["dists"]!;
        double P(string k, string f) => d[k]![f]!.GetValue<double>();
        var g = new Generator(11);
        // (64, 48): fan_in 48, fan_out 64, as the generator assumed. Uniform(−b, b): max |w| just under b, std b/√3.
        void Uniform(Tensor w, double bound, string what)
        {
            var v = w.ToDoubleArray();
            Assert.True(v.Max(Math.Abs) <= bound && v.Max(Math.Abs) > 0.99 * bound, $"{what}: max |w| {v.Max(Math.Abs)} vs bound {bound}");
            Assert.InRange(Std(v), 0.95 * bound / Math.Sqrt(3), 1.05 * bound / Math.Sqrt(3));
        }
        void Normal(Tensor w, double std, string what) => Assert.True(Math.Abs(Std(w.ToDoubleArray()) / std - 1) < 0.05, $"{what}: std {Std(w.ToDoubleArray())} vs {std}");
        Uniform(Init.XavierUniform_(Tensor.Zeros(64, 48), 2, g), P("xavier_uniform_gain2", "bound"), "xavier_uniform");
        Normal(Init.XavierNormal_(Tensor.Zeros(64, 48), 2, g), P("xavier_normal_gain2", "std"), "xavier_normal");
        Uniform(Init.KaimingUniform_(Tensor.Zeros(64, 48), Math.Sqrt(5), g: g), P("kaiming_uniform_a_sqrt5", "bound"), "kaiming_uniform");
        Normal(Init.KaimingNormal_(Tensor.Zeros(64, 48), mode: "fan_out", nonlinearity: "relu", g: g), P("kaiming_normal_relu_fan_out", "std"), "kaiming_normal");
        var u = Init.Uniform_(Tensor.Zeros(4000), -2, 3, g).ToDoubleArray();
        Assert.True(u.Min() >= -2 && u.Max() < 3 && Math.Abs(u.Average() - 0.5) < 0.1);
        var n = Init.Normal_(Tensor.Zeros(4000), 1.5, 0.5, g).ToDoubleArray();
        Assert.True(Math.Abs(n.Average() - 1.5) < 0.05 && Math.Abs(Std(n) - 0.5) < 0.03);
        Assert.All(Init.Constant_(Tensor.Zeros(3, 2), 0.25).ToArray(), v => Assert.Equal(0.25f, v));
        Assert.All(Init.Ones_(Tensor.Zeros(3)).ToArray(), v => Assert.Equal(1f, v));
        Assert.All(Init.Zeros_(Tensor.Ones(3)).ToArray(), v => Assert.Equal(0f, v));
        // The same generator seed gives the same draws; the functions fill in place and return the tensor.
        var a = Tensor.Zeros(5, 5);
        Assert.Same(a, Init.XavierUniform_(a, g: new Generator(1)));
        Assert.Equal(a.ToArray(), Init.XavierUniform_(Tensor.Zeros(5, 5), g: new Generator(1)).ToArray());
    }

    private static double Std(double[] v) { double m = v.Average(); return Math.Sqrt(v.Average(x => (x - m) * (x - m))); }

    [Fact]
    public void EvalUsesRunningStatisticsAndNoDropout()
    {
        var e = Data.Value["eval"]!;
        var lin = new Linear(4, 3, generator: new Generator(0));
        var init = e["init"]!.AsObject();
        using (Autograd.NoGrad())
        {
            lin.Weight.CopyFrom(Tensor.FromArray(D2(init["0.weight"]!).SelectMany(r => r).Select(v => (float)v).ToArray(), 3, 4));
            lin.Bias!.CopyFrom(Tensor.FromArray(D(init["0.bias"]!).Select(v => (float)v).ToArray()));
        }
        var bn = new BatchNorm1d(3);
        var model = new Sequential(lin, bn, new Dropout(0.5, new Generator(5)));
        var opt = new SGD(model.Parameters(), e["lr"]!.GetValue<double>());
        foreach (var b in e["batches"]!.AsArray())
        {
            var xb = Tensor.FromArray(D2(b!).SelectMany(r => r).Select(v => (float)v).ToArray(), 6, 4);
            opt.ZeroGrad();
            bn.Call(lin.Call(xb)).Pow(2).Mean().Backward();
            opt.Step();
        }
        Close(D(e["running_mean"]!), bn.RunningMean.ToDoubleArray(), 1e-5, "running_mean");
        Close(D(e["running_var"]!), bn.RunningVar.ToDoubleArray(), 1e-5, "running_var");
        var x = Tensor.FromArray(D2(e["x"]!).SelectMany(r => r).Select(v => (float)v).ToArray(), 2, 4);
        Assert.Same(model, model.Eval());
        Assert.False(bn.Training);
        using (Autograd.NoGrad())
        {
            var y1 = model.Call(x).ToDoubleArray();
            // Two float32 training steps through BatchNorm leave rounding of ~1e-5 here (PyTorch-float32 is 2e-5 off its
            // float64 answer): allowed is 4× PyTorch-float32's own distance, plus 1e-6.
            var y64 = D2(e["y"]!).SelectMany(r => r).ToArray();
            var y32 = D2(e["y32"]!).SelectMany(r => r).ToArray();
            for (int i = 0; i < y64.Length; i++)
                Assert.True(Math.Abs(y1[i] - y64[i]) <= 4 * Math.Abs(y32[i] - y64[i]) + 1e-6, $"eval output[{i}]: {y1[i]:R}, PyTorch float64 {y64[i]:R}, float32 {y32[i]:R}");
            Assert.Equal(y1, model.Call(x).ToDoubleArray()); // deterministic: no dropout mask in eval
        }
        model.Train();
        Assert.True(bn.Training);
    }

    public static TheoryData<string> OptimizerCases() => new("sgd_momentum_maximize", "adam_maximize", "rmsprop_maximize", "adagrad_maximize", "adagrad_lr_decay", "adagrad_lr_decay_wd_maximize");

    [Theory]
    [MemberData(nameof(OptimizerCases))]
    public void MaximizeAndLrDecayMatchPyTorch(string name)
    {
        var c = Data.Value["optimizers"]!.AsArray().First(v => v!["name"]!.GetValue<string>() == name)!;
        var s = c["spec"]!.AsObject();
        double N(string k, double d) => s[k] is JsonNode v ? v.GetValue<double>() : d;
        bool max = s["maximize"]?.GetValue<bool>() ?? false;
        var w = Tensor.FromArray(D(c["w0"]!)).RequiresGrad_();
        Optimizer opt = s["name"]!.GetValue<string>() switch
        {
            "sgd" => new SGD([w], N("lr", 0), N("momentum", 0), maximize: max),
            "adam" => new Adam([w], N("lr", 1e-3), maximize: max),
            "rmsprop" => new RMSprop([w], N("lr", 1e-2), maximize: max),
            _ => new Adagrad([w], N("lr", 1e-2), lrDecay: N("lr_decay", 0), weightDecay: N("weight_decay", 0), maximize: max),
        };
        var cst = Tensor.FromArray(new[] { 1.0, -0.5, 2.0, 0.3 });
        var expected = D2(c["params"]!);
        for (int step = 0; step < expected.Length; step++)
        {
            opt.ZeroGrad();
            (cst * w * w + 0.1 * w.Pow(3)).Sum().Backward();
            opt.Step();
            Close(expected[step], w.ToDoubleArray(), 1e-12, $"{name} step {step + 1}");
        }
    }
}
