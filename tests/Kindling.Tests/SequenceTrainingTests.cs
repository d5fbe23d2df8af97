using System.Text.Json.Nodes;
using Kindling.NN;
using Kindling.Optim;

namespace Kindling.Tests;

/// <summary>
/// What trains a sequence model beside the layers: LambdaLR and SequentialLR against PyTorch 1.13's learning rates
/// (tools/parity/gen_gpt_trajectory.py: two parameter groups, 60 steps), parameter groups by rule, and sampling with
/// temperature, top-k and a seeded generator.
/// </summary>
public class SequenceTrainingTests
{
    private static readonly Lazy<JsonArray> Schedules = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, "tools", "parity", "gpt", "gpt.json")))!["schedules"]!.AsArray());

    [Theory]
    [InlineData("lambda_warmup_cosine")]
    [InlineData("sequential_linear_cosine")]
    [InlineData("sequential_lambda_exponential_step")]
    public void SchedulesMatchPyTorch(string name)
    {
        var expected = Schedules.Value.Single(c => c!["name"]!.GetValue<string>() == name)!["lrs"]!.AsArray()
            .Select(r => r!.AsArray().Select(v => v!.GetValue<double>()).ToArray()).ToArray();
        var opt = new SGD([new ParamGroup([Tensor.Zeros(2).RequiresGrad_()], lr: 0.5), new ParamGroup([Tensor.Zeros(3).RequiresGrad_()], lr: 0.02)], lr: 0.1);
        LRScheduler s = name switch
        {
            "lambda_warmup_cosine" => new LambdaLR(opt, LambdaLR.WarmupCosine(20, 200, 0.1)),
            "sequential_linear_cosine" => new SequentialLR(opt, [new LinearLR(opt, 0.01, 1.0, 10), new CosineAnnealingLR(opt, 40, 1e-4)], [10]),
            _ => new SequentialLR(opt, [new LambdaLR(opt, e => (e + 1) / 6.0), new ExponentialLR(opt, 0.9), new StepLR(opt, 7, 0.5)], [5, 25]),
        };
        for (int step = 0; step < expected.Length; step++)
        {
            var got = opt.ParamGroups.Select(g => g.Lr!.Value).ToArray();
            for (int g = 0; g < 2; g++)
                Assert.True(Math.Abs(got[g] - expected[step][g]) <= 1e-12 * expected[step][g] + 1e-15, $"{name} step {step} group {g}: {got[g]:R}, PyTorch {expected[step][g]:R}");
            opt.Step();
            s.Step();
        }
    }

    [Fact]
    public void SequentialLRRejectsBadMilestones()
    {
        var opt = new SGD([Tensor.Zeros(2).RequiresGrad_()], lr: 0.1);
        var other = new SGD([Tensor.Zeros(2).RequiresGrad_()], lr: 0.1);
        Assert.Contains("one milestone fewer than schedulers", Assert.Throws<ArgumentException>(() => new SequentialLR(opt, [new StepLR(opt, 2), new StepLR(opt, 3)], [])).Message);
        Assert.Contains("scheduler 1 drives a different optimizer", Assert.Throws<ArgumentException>(() => new SequentialLR(opt, [new StepLR(opt, 2), new StepLR(other, 3)], [4])).Message);
        Assert.Contains("positive and increasing", Assert.Throws<ArgumentException>(() => new SequentialLR(opt, [new StepLR(opt, 2), new StepLR(opt, 3), new StepLR(opt, 3)], [4, 4])).Message);
    }

    [Fact]
    public void ParamGroupsByRuleDecayOnlyMatrices()
    {
        var m = new TransformerEncoderLayer(8, 2, 16);
        var groups = ParamGroups.DecayMatricesOnly(m, 0.1);
        Assert.Equal(0.1, groups[0].WeightDecay);
        Assert.Equal(0.0, groups[1].WeightDecay);
        Assert.All(groups[0].Params, p => Assert.True(p.Rank >= 2));
        Assert.All(groups[1].Params, p => Assert.Equal(1, p.Rank));
        Assert.Equal(m.Parameters().Count(), groups[0].Params.Count + groups[1].Params.Count);
        Assert.Equal(4, groups[0].Params.Count); // in_proj, out_proj, linear1, linear2 weights
        // The rule is the caller's: by name too.
        var byName = ParamGroups.ByRule(m.NamedParameters(), (n, _) => !n.StartsWith("norm"), 0.01);
        Assert.Equal(4, byName[1].Params.Count); // norm1/norm2 weight and bias
        // And AdamW honours each group's decay: a 1-D parameter with zero gradient stays put, a 2-D one shrinks.
        var w = Tensor.Ones([2, 2]).RequiresGrad_(); var b = Tensor.Ones([2]).RequiresGrad_();
        var opt = new AdamW(ParamGroups.ByRule([("w", w), ("b", b)], (_, p) => p.Rank >= 2, 0.5), lr: 0.1);
        w.Grad = Tensor.Zeros([2, 2]); b.Grad = Tensor.Zeros([2]);
        opt.Step();
        Assert.Equal([0.95f, 0.95f, 0.95f, 0.95f], w.ToArray());
        Assert.Equal([1f, 1f], b.ToArray());
    }

    [Fact]
    public void SamplingIsSeededRespectsTopKAndTemperature()
    {
        var logits = Tensor.FromArray(new double[] { 2.0, 1.0, 0.5, -1.0, 3.0, 0.0 }, 1, 6);
        var g1 = new Generator(5); var g2 = new Generator(5);
        var s1 = Enumerable.Range(0, 200).Select(_ => Sampling.SampleNext(logits, 1.0, null, g1).ToInt64Array()[0]).ToArray();
        var s2 = Enumerable.Range(0, 200).Select(_ => Sampling.SampleNext(logits, 1.0, null, g2).ToInt64Array()[0]).ToArray();
        Assert.Equal(s1, s2); // same seed, same tokens
        // top-k 2 only ever draws the two largest logits (indices 4 and 0).
        var g = new Generator(6);
        var topk = Enumerable.Range(0, 2000).Select(_ => Sampling.SampleNext(logits, 1.0, 2, g).ToInt64Array()[0]).ToArray();
        Assert.All(topk, t => Assert.Contains(t, new long[] { 4, 0 }));
        // ... in the ratio e^3 : e^2 (p(4) = 0.731), within 4 standard deviations of 2000 draws.
        double p4 = topk.Count(t => t == 4) / 2000.0;
        Assert.InRange(p4, 0.731 - 4 * 0.0099, 0.731 + 4 * 0.0099);
        // Without top-k, frequencies follow softmax(logits / T); at T = 0.5 the top token's share grows to softmax(2·logits).
        foreach (var temp in new[] { 1.0, 0.5 })
        {
            var probs = logits.Detach() / temp;
            var p = probs.Softmax(1).ToDoubleArray();
            var gen = new Generator(7);
            var counts = new int[6];
            for (int i = 0; i < 4000; i++) counts[Sampling.SampleNext(logits, temp, null, gen).ToInt64Array()[0]]++;
            for (int j = 0; j < 6; j++)
                Assert.True(Math.Abs(counts[j] / 4000.0 - p[j]) <= 4 * Math.Sqrt(p[j] * (1 - p[j]) / 4000) + 1e-9, $"T={temp} token {j}: {counts[j] / 4000.0:F4} vs p {p[j]:F4}");
        }
        // A batch draws one token per row.
        Assert.Equal([3], Sampling.SampleNext(Tensor.Randn([3, 6], new Generator(1)), generator: new Generator(1)).Shape);
        Assert.Contains("temperature must be a positive number", Assert.Throws<ArgumentOutOfRangeException>(() => Sampling.SampleNext(logits, 0)).Message);
        Assert.Contains("top_k must be in [1, 6]", Assert.Throws<ArgumentOutOfRangeException>(() => Sampling.SampleNext(logits, 1, 7)).Message);
    }
}
