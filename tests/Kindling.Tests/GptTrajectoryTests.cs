using System.Text.Json.Nodes;
using Kindling.IO;
using Kindling.NN;
using Kindling.Optim;

namespace Kindling.Tests;

/// <summary>
/// A tiny GPT (2 layers, width 32, 2 heads, context 16, vocabulary 20) trained 200 steps from PyTorch-written weights
/// exactly as tools/parity/gen_gpt_trajectory.py trains it in PyTorch 1.13: tied embedding/output weight, AdamW over
/// parameter groups built by rule (decay only on ≥ 2-D weights), LambdaLR warm-up + cosine, two accumulated
/// micro-batches, gradient clipping, cross-entropy over (N, C, T) with ignore_index and label smoothing. Kindling float64
/// equals PyTorch float64 to 1e-10 at every step and in the final weights; Kindling float32's drift from PyTorch float64
/// is at most 2× PyTorch float32's own.
/// </summary>
public class GptTrajectoryTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly string Dir = Path.Combine(Repo.Root, "tools", "parity", "gpt");
    private static readonly Lazy<JsonNode> Json = new(() => JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "gpt.json")))!);

    private static (double[] Losses, double[] Lrs, TinyGpt Model) Train(DType dt)
    {
        var j = Json.Value;
        var cfg = j["config"]!;
        int V = cfg["vocab"]!.GetValue<int>(), T = cfg["context"]!.GetValue<int>(), steps = cfg["steps"]!.GetValue<int>(), micro = cfg["micro_batches"]!.GetValue<int>();
        var corpus = j["corpus"]!.AsArray().Select(v => v!.GetValue<long>()).ToArray();
        var offsets = j["offsets"]!.AsArray();
        var m = new TinyGpt(V, T, cfg["width"]!.GetValue<int>(), cfg["heads"]!.GetValue<int>(), cfg["layers"]!.GetValue<int>(), dt);
        m.LoadStateDict(Safetensors.Load(Path.Combine(Dir, "init.safetensors")).Tensors);
        var opt = new AdamW(ParamGroups.DecayMatricesOnly(m, cfg["weight_decay"]!.GetValue<double>()), lr: cfg["lr"]!.GetValue<double>(), beta1: 0.9, beta2: 0.95);
        var sched = new LambdaLR(opt, LambdaLR.WarmupCosine(cfg["warmup"]!.GetValue<int>(), cfg["decay_iters"]!.GetValue<int>(), cfg["min_ratio"]!.GetValue<double>()));
        var losses = new double[steps];
        var lrs = new double[steps];
        for (int s = 0; s < steps; s++)
        {
            m.ZeroGrad(setToNone: true);
            lrs[s] = opt.ParamGroups[0].Lr!.Value;
            double total = 0;
            for (int k = 0; k < micro; k++)
            {
                var o = offsets[s]![k]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
                var x = Tensor.FromArray(o.SelectMany(i => corpus[i..(i + T)]).ToArray(), o.Length, T);
                var yArr = o.SelectMany(i => corpus[(i + 1)..(i + T + 1)]).ToArray();
                for (int r = 0; r < o.Length; r++) yArr[r * T] = -1;
                // Gradient accumulation: each micro-batch's loss / micro is backpropagated; Grad sums them.
                var loss = m.Loss(x, Tensor.FromArray(yArr, o.Length, T)) / micro;
                loss.Backward();
                total += loss.ItemDouble();
            }
            GradClip.ClipGradNorm(m.Parameters(), 1.0);
            opt.Step();
            sched.Step();
            losses[s] = total;
        }
        return (losses, lrs, m);
    }

    private static double[] Arr(string key) => Json.Value[key]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();

    [Fact]
    public void Float64TrajectoryEqualsPyTorchs()
    {
        var (losses, lrs, m) = Train(DType.Float64);
        var expected = Arr("loss64");
        Assert.Equal(Arr("lr"), lrs);
        for (int s = 0; s < losses.Length; s++)
            Assert.True(Math.Abs(losses[s] - expected[s]) <= 1e-10 * Math.Max(1, Math.Abs(expected[s])), $"step {s}: loss {losses[s]:R}, PyTorch {expected[s]:R}");
        Assert.True(expected[^1] < expected[0] - 1, "the model learned (PyTorch's loss fell by more than 1 nat)");
        output.WriteLine($"float64 loss: max |Kindling − PyTorch| {losses.Zip(expected, (a, b) => Math.Abs(a - b)).Max():G3}");
        var final = Safetensors.Load(Path.Combine(Dir, "final64.safetensors")).Tensors;
        var state = m.StateDict();
        output.WriteLine($"float64 final weights: max |difference| {final.Max(kv => (state[kv.Key] - kv.Value).Abs().Max().ItemDouble()):G3}");
        Assert.Equal(final.Keys.OrderBy(k => k), state.Keys.OrderBy(k => k)); // both names of the tied weight, as PyTorch saves it
        foreach (var (name, t) in final)
        {
            double d = (state[name] - t).Abs().Max().ItemDouble();
            Assert.True(d <= 1e-10, $"{name}: max |difference| {d:G3} from PyTorch's float64 weights after 200 steps");
        }
    }

    [Fact]
    public void Float32DriftIsWithinTwicePyTorchs()
    {
        var (losses, _, m) = Train(DType.Float32);
        var l64 = Arr("loss64");
        var l32 = Arr("loss32");
        double torchDrift = l64.Zip(l32, (a, b) => Math.Abs(a - b)).Max();
        double ourDrift = l64.Zip(losses, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"loss drift from PyTorch float64: Kindling float32 {ourDrift:G3}, PyTorch float32 {torchDrift:G3}");
        Assert.True(ourDrift <= 2 * torchDrift, $"loss drift from PyTorch float64: Kindling float32 {ourDrift:G3}, PyTorch float32 {torchDrift:G3} (limit 2x)");
        var f64 = Safetensors.Load(Path.Combine(Dir, "final64.safetensors")).Tensors;
        var f32 = Safetensors.Load(Path.Combine(Dir, "final32.safetensors")).Tensors;
        var state = m.StateDict();
        double torchW = f64.Max(kv => (f32[kv.Key].ToFloat64() - kv.Value).Abs().Max().ItemDouble());
        double ourW = f64.Max(kv => (state[kv.Key].ToFloat64() - kv.Value).Abs().Max().ItemDouble());
        output.WriteLine($"final-weight drift: Kindling float32 {ourW:G3}, PyTorch float32 {torchW:G3}");
        Assert.True(ourW <= 2 * torchW, $"final-weight drift from PyTorch float64: Kindling float32 {ourW:G3}, PyTorch float32 {torchW:G3} (limit 2x)");
    }

    [Fact]
    public void TiedWeightIsOneParameter()
    {
        var m = new TinyGpt(20, 16, 32, 2, 2, DType.Float64);
        Assert.Same(m.Wte.Weight, m.LmHead.Weight);
        var names = m.NamedParameters().Select(p => p.Name).ToList();
        Assert.Contains("wte.weight", names);
        Assert.DoesNotContain("lm_head.weight", names);          // counted once, under its first name (PyTorch's named_parameters)
        Assert.Equal(names.Count, m.Parameters().Count());
        Assert.Contains("lm_head.weight", m.StateDict().Keys);    // but saved under both names, as PyTorch's state_dict
        // Its gradient is the sum of both uses: equal to the gradient with the two uses untied and added.
        var x = Tensor.FromArray(new long[] { 1, 5, 7, 2 }, 1, 4);
        var y = Tensor.FromArray(new long[] { 5, 7, 2, 9 }, 1, 4);
        Init.Normal_(m.Wte.Weight, 0, 0.3, new Generator(3));
        m.Loss(x, y).Backward();
        var tied = m.Wte.Weight.Grad!.ToDoubleArray();
        Assert.Contains(tied, v => v != 0);
        // Loading a PyTorch state dict with both keys leaves them tied.
        var sd = m.StateDict();
        sd["lm_head.weight"] = sd["wte.weight"];
        m.LoadStateDict(sd);
        Assert.Same(m.Wte.Weight, m.LmHead.Weight);
    }

    [Fact]
    public void GradientAccumulationEqualsOneBigBatch()
    {
        var m = new TinyGpt(20, 16, 32, 2, 2, DType.Float64);
        Init.Normal_(m.Wte.Weight, 0, 0.3, new Generator(1));
        var g = new Generator(2);
        var x = Tensor.RandInt(0, 20, [8, 16], g);
        var y = Tensor.RandInt(0, 20, [8, 16], g);
        m.Loss(x, y).Backward();
        var big = m.Parameters().Select(p => p.Grad!.ToDoubleArray()).ToList();
        m.ZeroGrad();
        for (int k = 0; k < 4; k++) (m.Loss(x.Narrow(0, 2 * k, 2), y.Narrow(0, 2 * k, 2)) / 4).Backward();
        var acc = m.Parameters().Select(p => p.Grad!.ToDoubleArray()).ToList();
        for (int i = 0; i < big.Count; i++)
            for (int j = 0; j < big[i].Length; j++)
                Assert.True(Math.Abs(big[i][j] - acc[i][j]) <= 1e-13, $"parameter {i}[{j}]: one batch {big[i][j]}, four accumulated micro-batches {acc[i][j]}");
    }

    [Fact]
    public void CachedGenerationEqualsFullRecompute()
    {
        var m = new TinyGpt(20, 16, 32, 2, 2, DType.Float64);
        m.LoadStateDict(Safetensors.Load(Path.Combine(Dir, "final64.safetensors")).Tensors);
        m.Eval();
        using var _ = Autograd.NoGrad();
        var seq = Tensor.FromArray(new long[] { 3, 1, 4 }, 1, 3);
        var caches = new[] { new KeyValueCache(), new KeyValueCache() };
        var next = m.Logits(seq, caches);
        var g = new Generator(11);
        var tokens = seq.ToInt64Array().ToList();
        for (int t = 0; t < 10; t++)
        {
            var last = next.Select(1, next.Dims[1] - 1);
            var full = m.Logits(Tensor.FromArray(tokens.ToArray(), 1, tokens.Count)).Select(1, tokens.Count - 1);
            Assert.True((full - last).Abs().Max().ItemDouble() < 1e-12, $"token {t}: cached logits differ from a full recompute");
            long tok = Sampling.SampleNext(last, temperature: 0.8, topK: 5, generator: g).ToInt64Array()[0];
            tokens.Add(tok);
            next = m.Logits(Tensor.FromArray(new[] { tok }, 1, 1), caches);
        }
    }
}
