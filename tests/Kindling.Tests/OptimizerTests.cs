using Kindling.NN;
using Kindling.Optim;

namespace Kindling.Tests;

public class OptimizerTests
{
    [Fact]
    public void BadArgumentsAreClearErrors()
    {
        var p = Tensor.Ones(2).RequiresGrad_();
        Assert.Contains("empty parameter list", Assert.Throws<ArgumentException>(() => new SGD(Array.Empty<Tensor>(), 0.1)).Message);
        Assert.Contains("learning rate must be a finite number ≥ 0, got NaN", Assert.ThrowsAny<ArgumentException>(() => new SGD([p], double.NaN)).Message);
        Assert.Contains("got -0.1", Assert.ThrowsAny<ArgumentException>(() => new Adam([p], -0.1)).Message);
        Assert.Contains("Nesterov", Assert.Throws<ArgumentException>(() => new SGD([p], 0.1, nesterov: true)).Message);
        Assert.Contains("betas", Assert.ThrowsAny<ArgumentException>(() => new Adam([p], beta1: 1.0)).Message);
        Assert.Contains("more than one group", Assert.Throws<ArgumentException>(() => new SGD([new ParamGroup([p]), new ParamGroup([p])], 0.1)).Message);
        Assert.Contains("leaf", Assert.Throws<ArgumentException>(() => new SGD([p * 2], 0.1)).Message);
    }

    [Fact]
    public void ParamGroupsUseTheirOwnLearningRate()
    {
        var a = Tensor.Ones(1).RequiresGrad_();
        var b = Tensor.Ones(1).RequiresGrad_();
        var opt = new SGD([new ParamGroup([a], lr: 0.5), new ParamGroup([b])], lr: 0.1);
        (a + b).Sum().Backward();
        opt.Step();
        Assert.Equal(0.5f, a.Item(), 6);
        Assert.Equal(0.9f, b.Item(), 6);
    }

    [Fact]
    public void StateDictRoundTripContinuesIdentically()
    {
        Tensor Run(bool reload)
        {
            var w = Tensor.FromArray(new float[] { 1, -2, 3 }).RequiresGrad_();
            var opt = new Adam([w], 0.1, amsgrad: true);
            for (int i = 0; i < 5; i++)
            {
                if (reload && i == 3)
                {
                    var saved = opt.StateDict();
                    opt = new Adam([w], 0.1, amsgrad: true);
                    opt.LoadStateDict(saved);
                }
                opt.ZeroGrad();
                (w * w * w).Sum().Backward();
                opt.Step();
            }
            return w;
        }
        Assert.Equal(Run(false).ToArray(), Run(true).ToArray());
    }

    [Fact]
    public void ClippingAndPenalties()
    {
        var w = Tensor.FromArray(new float[] { 3, 4 }).RequiresGrad_();
        (w * w).Sum().Backward(); // grad (6, 8), norm 10
        Assert.Equal(10, GradClip.ClipGradNorm([w], 5), 5);
        Assert.Equal(new[] { 3f, 4f }, w.Grad!.ToArray().Select(v => MathF.Round(v, 4)).ToArray());
        GradClip.ClipGradValue([w], 3.5);
        Assert.Equal(new[] { 3f, 3.5f }, w.Grad!.ToArray().Select(v => MathF.Round(v, 4)).ToArray());
        Assert.Equal(7f, GradClip.L1Penalty([w]).Item());
        Assert.Equal(25f, GradClip.L2Penalty([w]).Item());
    }

    [Fact]
    public void ZeroGradKeepsOrFreesTheBuffers()
    {
        var m = new Linear(3, 2, generator: new Generator(3));
        m.Call(Tensor.Ones(4, 3)).Sum().Backward();
        var g = m.Weight.Grad!;
        m.ZeroGrad();
        Assert.Same(g, m.Weight.Grad);
        Assert.All(g.ToArray(), v => Assert.Equal(0f, v));
        m.Call(Tensor.Ones(4, 3)).Sum().Backward();      // accumulates into the same buffer
        Assert.Same(g, m.Weight.Grad);
        Assert.All(g.ToArray(), v => Assert.Equal(4f, v));
        m.ZeroGrad(setToNone: true);
        Assert.Null(m.Weight.Grad);
    }
}
