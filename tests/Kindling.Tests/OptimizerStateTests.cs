using Kindling.Optim;

namespace Kindling.Tests;

/// <summary>
/// The optimizers' per-parameter state as explicit records (optax's init/update): the records are what the state dict
/// holds, a resumed run continues bit for bit, Adam's β₁ has its own group slot (cycled by OneCycleLR, saved as
/// "group.N.beta1"), and checkpoints written when β₁ was saved as the group's momentum still load.
/// </summary>
public class OptimizerStateTests
{
    private static Tensor Grad(int step, int n) => Tensor.Randn([n], new Generator(50 + (ulong)step), DType.Float64);

    private static (Tensor P, Adam Opt) Fresh()
    {
        var p = Tensor.Randn([6000], new Generator(9), DType.Float64).RequiresGrad_();
        return (p, new Adam([p], 0.01, amsgrad: true));
    }

    [Fact]
    public void StateRecordsAreTheStateDictBuffers()
    {
        var (p, opt) = Fresh();
        Assert.Null(opt.StateOf(p));
        p.Grad = Grad(0, 6000);
        opt.Step();
        var adam = Assert.Single(opt.StateOf(p)!.OfType<AdamState>());
        var d = opt.StateDict();
        Assert.Equal(adam.ExpAvg.ToDoubleArray(), d["state.0.exp_avg"].ToDoubleArray());
        Assert.Equal(adam.MaxExpAvgSq!.ToDoubleArray(), d["state.0.max_exp_avg_sq"].ToDoubleArray());
        Assert.Equal(["exp_avg", "exp_avg_sq", "max_exp_avg_sq"], adam.Buffers.Select(b => b.Key));
        Assert.NotEqual(0, adam.ExpAvg.ToDoubleArray()[0]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AResumedRunContinuesBitForBitFromNewOrLegacyCheckpoints(bool legacyMomentumKey)
    {
        var (a, straight) = Fresh();
        var (b, first) = Fresh();
        straight.ParamGroups[0].Beta1 = 0.8;
        first.ParamGroups[0].Beta1 = 0.8;
        for (int s = 0; s < 3; s++) { a.Grad = Grad(s, 6000); b.Grad = Grad(s, 6000); straight.Step(); first.Step(); }
        var saved = first.StateDict();
        Assert.Equal(0.8, saved["group.0.beta1"].ItemDouble());
        Assert.False(saved.ContainsKey("group.0.momentum"));
        if (legacyMomentumKey) { saved["group.0.momentum"] = saved["group.0.beta1"]; saved.Remove("group.0.beta1"); }
        var resumed = new Adam([b], 0.01, amsgrad: true);
        resumed.LoadStateDict(saved);
        Assert.Equal(0.8, resumed.ParamGroups[0].Beta1);
        Assert.Null(resumed.ParamGroups[0].Momentum);
        for (int s = 3; s < 6; s++) { a.Grad = Grad(s, 6000); b.Grad = Grad(s, 6000); straight.Step(); resumed.Step(); }
        Assert.Equal(a.ToDoubleArray(), b.ToDoubleArray());
    }

    [Fact]
    public void OneCycleCyclesAdamsBeta1AndSgdsMomentum()
    {
        var adam = new Adam([Tensor.Ones([2]).RequiresGrad_()], 0.01);
        var sgd = new SGD([Tensor.Ones([2]).RequiresGrad_()], 0.01, momentum: 0.9);
        _ = new OneCycleLR(adam, 0.1, 10);
        _ = new OneCycleLR(sgd, 0.1, 10);
        Assert.Equal(0.95, adam.ParamGroups[0].Beta1!.Value, 12);
        Assert.Null(adam.ParamGroups[0].Momentum);
        Assert.Equal(0.95, sgd.ParamGroups[0].Momentum!.Value, 12);
        Assert.Null(sgd.ParamGroups[0].Beta1);
    }

    [Fact]
    public void TheDivisorIsAStageOutput()
    {
        var p = Tensor.Ones([3], DType.Float64);
        var group = new ParamGroup([p]);
        var ctx = new StepContext(p, 4, 0.1, 0, group, 1);
        Assert.Equal(1 - Math.Pow(0.9, 4), new ScaleByAdam(0.9, 0.999, 1e-8).Update<double>(ctx, null).LrDivisor);
        Assert.Equal(1 + 3 * 0.5, new InverseTimeDecay(0.5).Update<double>(ctx, null).LrDivisor);
        Assert.Null(new InverseTimeDecay(0.5).Update<double>(ctx, null).Update);
        // The last stage divides the rate by what it is given: w ← w − (0.1 / 4)·u.
        var w = new double[] { 1, 1, 1 };
        var u = new double[] { 1, 2, 3 };
        new ScaleByLearningRate().Update<double>(ctx with { LrDivisor = 4 }, null).Update!(0, w, u, new double[3]);
        Assert.Equal([1 - 0.025, 1 - 0.05, 1 - 0.075], w);
    }
}
