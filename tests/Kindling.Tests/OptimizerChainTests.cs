using Kindling.Optim;
using Kindling.Tests.Legacy;

namespace Kindling.Tests;

/// <summary>
/// The optimizers composed of transforms (SGD, Adam, AdamW, RMSprop, Adagrad as chains) against their previous
/// hand-written update loops (LegacyOptimizers.cs): the same parameters, state-dict entries and values bit for bit, over
/// every option, both float types, a parameter longer than one block, and a second group overriding lr and momentum.
/// </summary>
public class OptimizerChainTests
{
    public static TheoryData<string> Configs() =>
    [
        "sgd", "sgd-momentum", "sgd-dampening", "sgd-nesterov", "sgd-wd-maximize", "sgd-all",
        "adam", "adam-amsgrad", "adam-wd", "adam-maximize", "adam-all",
        "adamw", "adamw-amsgrad-maximize", "adamw-wd0",
        "rmsprop", "rmsprop-centered", "rmsprop-momentum", "rmsprop-all",
        "adagrad", "adagrad-decay-init-wd", "adagrad-maximize",
    ];

    private static (Optimizer Modern, Optimizer Legacy) Make(string config, Func<IEnumerable<ParamGroup>> groupsA, Func<IEnumerable<ParamGroup>> groupsB) => config switch
    {
        "sgd" => (new SGD(groupsA(), 0.1), new LegacySGD(groupsB(), 0.1)),
        "sgd-momentum" => (new SGD(groupsA(), 0.1, 0.9), new LegacySGD(groupsB(), 0.1, 0.9)),
        "sgd-dampening" => (new SGD(groupsA(), 0.1, 0.9, 0.3), new LegacySGD(groupsB(), 0.1, 0.9, 0.3)),
        "sgd-nesterov" => (new SGD(groupsA(), 0.1, 0.9, nesterov: true), new LegacySGD(groupsB(), 0.1, 0.9, nesterov: true)),
        "sgd-wd-maximize" => (new SGD(groupsA(), 0.1, weightDecay: 0.01, maximize: true), new LegacySGD(groupsB(), 0.1, weightDecay: 0.01, maximize: true)),
        "sgd-all" => (new SGD(groupsA(), 0.07, 0.8, 0, 0.05, true, true), new LegacySGD(groupsB(), 0.07, 0.8, 0, 0.05, true, true)),
        "adam" => (new Adam(groupsA(), 0.01), new LegacyAdam(groupsB(), 0.01)),
        "adam-amsgrad" => (new Adam(groupsA(), 0.01, amsgrad: true), new LegacyAdam(groupsB(), 0.01, amsgrad: true)),
        "adam-wd" => (new Adam(groupsA(), 0.01, weightDecay: 0.1), new LegacyAdam(groupsB(), 0.01, weightDecay: 0.1)),
        "adam-maximize" => (new Adam(groupsA(), 0.01, maximize: true), new LegacyAdam(groupsB(), 0.01, maximize: true)),
        "adam-all" => (new Adam(groupsA(), 0.02, 0.85, 0.99, 1e-6, 0.1, true, true), new LegacyAdam(groupsB(), 0.02, 0.85, 0.99, 1e-6, 0.1, true, true)),
        "adamw" => (new AdamW(groupsA(), 0.01), new LegacyAdamW(groupsB(), 0.01)),
        "adamw-amsgrad-maximize" => (new AdamW(groupsA(), 0.01, weightDecay: 0.2, amsgrad: true, maximize: true), new LegacyAdamW(groupsB(), 0.01, weightDecay: 0.2, amsgrad: true, maximize: true)),
        "adamw-wd0" => (new AdamW(groupsA(), 0.01, weightDecay: 0), new LegacyAdamW(groupsB(), 0.01, weightDecay: 0)),
        "rmsprop" => (Rms(groupsA()), LegacyRms(groupsB())),
        "rmsprop-centered" => (Rms(groupsA(), centered: true), LegacyRms(groupsB(), centered: true)),
        "rmsprop-momentum" => (Rms(groupsA(), momentum: 0.9), LegacyRms(groupsB(), momentum: 0.9)),
        "rmsprop-all" => (Rms(groupsA(), 0.9, true, 0.05, true), LegacyRms(groupsB(), 0.9, true, 0.05, true)),
        "adagrad" => (Ada(groupsA()), LegacyAda(groupsB())),
        "adagrad-decay-init-wd" => (Ada(groupsA(), 0.1, 0.5, 0.1), LegacyAda(groupsB(), 0.1, 0.5, 0.1)),
        _ => (Ada(groupsA(), maximize: true), LegacyAda(groupsB(), maximize: true)),
    };

    // RMSprop and Adagrad take a plain parameter list; the groups' parameters, flattened, with lr and momentum set after.
    private static Optimizer Rms(IEnumerable<ParamGroup> g, double momentum = 0, bool centered = false, double wd = 0, bool maximize = false) =>
        Regroup(g, p => new RMSprop(p, 0.01, 0.9, 1e-8, wd, momentum, centered, maximize));
    private static Optimizer LegacyRms(IEnumerable<ParamGroup> g, double momentum = 0, bool centered = false, double wd = 0, bool maximize = false) =>
        Regroup(g, p => new LegacyRMSprop(p, 0.01, 0.9, 1e-8, wd, momentum, centered, maximize));
    private static Optimizer Ada(IEnumerable<ParamGroup> g, double lrDecay = 0, double init = 0, double wd = 0, bool maximize = false) =>
        Regroup(g, p => new Adagrad(p, 0.05, lrDecay, wd, init, 1e-10, maximize));
    private static Optimizer LegacyAda(IEnumerable<ParamGroup> g, double lrDecay = 0, double init = 0, double wd = 0, bool maximize = false) =>
        Regroup(g, p => new LegacyAdagrad(p, 0.05, lrDecay, wd, init, 1e-10, maximize));
    private static Optimizer Regroup(IEnumerable<ParamGroup> g, Func<IEnumerable<Tensor>, Optimizer> make) => make(g.SelectMany(x => x.Params));

    [Theory]
    [MemberData(nameof(Configs))]
    public void ComposedOptimizerMatchesTheHandWrittenLoopBitForBit(string config)
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            Tensor[] Params() => [Tensor.Randn([5000], new Generator(1), dtype).RequiresGrad_(), Tensor.Randn([3, 7], new Generator(2), dtype).RequiresGrad_(), Tensor.Randn([9], new Generator(3), dtype).RequiresGrad_()];
            var (pa, pb) = (Params(), Params());
            // The second group overrides the learning rate and the momentum (SGD/RMSprop momentum, Adam β₁: its own
            // slot now, the group's momentum in the legacy loop).
            bool adam = config.StartsWith("adam");
            IEnumerable<ParamGroup> Groups(Tensor[] p, bool modern) => [new ParamGroup(p[..2]),
                new ParamGroup(p[2..], lr: 0.03, momentum: adam && modern ? null : adam ? 0.8 : 0.5, beta1: adam && modern ? 0.8 : null)];
            var (modern, legacy) = Make(config, () => Groups(pa, true), () => Groups(pb, false));
            for (int step = 0; step < 7; step++)
            {
                var gen = new Generator(100 + (ulong)step);
                for (int i = 0; i < pa.Length; i++)
                {
                    // Parameter 1 has no gradient at step 2: skipped, as PyTorch skips it.
                    if (i == 1 && step == 2) { pa[i].Grad = null; pb[i].Grad = null; continue; }
                    var g = Tensor.Randn(pa[i].Shape, gen, dtype) * (step % 3 == 0 ? 1e-3 : 2.0);
                    pa[i].Grad = g.Clone(); pb[i].Grad = g.Clone();
                }
                modern.Step(); legacy.Step();
                for (int i = 0; i < pa.Length; i++)
                    Assert.True(pa[i].ToDoubleArray().SequenceEqual(pb[i].ToDoubleArray()), $"{config} {dtype}: parameter {i} differs after step {step + 1}");
            }
            var sa = modern.StateDict();
            var sb = legacy.StateDict().ToDictionary(kv => adam ? kv.Key.Replace(".momentum", ".beta1") : kv.Key, kv => kv.Value);
            Assert.Equal(sb.Keys.Order(), sa.Keys.Order());
            foreach (var (k, v) in sb)
                Assert.True(v.ToDoubleArray().SequenceEqual(sa[k].ToDoubleArray()), $"{config} {dtype}: state '{k}' differs");
        }
    }

    [Fact]
    public void ACustomChainIsAnOptimizer()
    {
        // AdamW from its stages equals AdamW.
        var a = Tensor.Randn([50], new Generator(4)).RequiresGrad_();
        var b = a.Detach().Clone().RequiresGrad_();
        var chain = new ChainedOptimizer([new ParamGroup([a])], 1e-2, 0.1, "MyAdamW",
            new DecoupledWeightDecay(), new ScaleByAdam(0.9, 0.999, 1e-8), new ScaleByLearningRate());
        var adamw = new AdamW([b], 1e-2, weightDecay: 0.1);
        for (int s = 0; s < 4; s++)
        {
            var g = Tensor.Randn([50], new Generator(10 + (ulong)s));
            a.Grad = g.Clone(); b.Grad = g.Clone();
            chain.Step(); adamw.Step();
        }
        Assert.Equal(b.ToArray(), a.ToArray());
        Assert.Equal(new[] { "exp_avg", "exp_avg_sq" }, chain.StateDict().Keys.Where(k => k.StartsWith("state.0.") && !k.EndsWith("step")).Select(k => k[8..]).Order());
    }
}
