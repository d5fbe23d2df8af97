using Kindling.NN;
using F = Kindling.NN.Functional;

namespace Kindling.Tests;

/// <summary>Each rejection names the loss, the argument and the offending value, and gives the fix for common mistakes.</summary>
public class LossErrorTests
{
    private static Tensor X(params int[] s) => Tensor.Randn(s, new Generator(1));
    private static Tensor I(params long[] v) => Tensor.FromArray(v);

    private static string Msg(Action a)
    {
        var e = Assert.ThrowsAny<ArgumentException>(a);
        return e.Message;
    }

    [Fact]
    public void TheSourceMaterialsOneOutputBugPointsToBCEWithLogits()
    {
        // The source's example: a model with one output column trained with CrossEntropyLoss on 0/1 labels.
        var m = Msg(() => new CrossEntropyLoss().Call(X(4, 1), I(0, 1, 1, 0)));
        Assert.Contains("cross_entropy", m);
        Assert.Contains("target 1 is out of range for 1 classes", m);
        Assert.Contains("BCEWithLogitsLoss", m);
    }

    [Fact]
    public void ClassTargetErrors()
    {
        Assert.Contains("target 3 is out of range for 3 classes", Msg(() => F.CrossEntropy(X(4, 3), I(0, 3, 1, 2))));
        Assert.Contains("Negative labels", Msg(() => F.CrossEntropy(X(4, 3), I(0, -1, 1, 2))));
        Assert.Contains("1-based", Msg(() => F.CrossEntropy(X(3, 3), I(1, 2, 3))));
        Assert.Contains("batch size 4 does not match target batch size 3", Msg(() => F.CrossEntropy(X(4, 3), I(0, 1, 2))));
        Assert.Contains("must be int64", Msg(() => F.CrossEntropy(X(4, 3), Tensor.FromArray(new float[] { 0, 1, 2, 1 }))));
        Assert.Contains("probability targets must have the input's shape (4, 3)", Msg(() => F.CrossEntropy(X(4, 3), X(4, 2))));
        Assert.Contains("weight must be 1-D with one entry per class (3), got shape (4,)", Msg(() => F.CrossEntropy(X(4, 3), I(0, 1, 2, 1), Tensor.Ones(4))));
        Assert.Contains("label_smoothing must be between 0.0 and 1.0, got 1.5", Msg(() => F.CrossEntropy(X(4, 3), I(0, 1, 2, 1), labelSmoothing: 1.5)));
        Assert.Contains("got -0.1", Msg(() => F.CrossEntropy(X(4, 3), I(0, 1, 2, 1), labelSmoothing: -0.1)));
        Assert.Contains("nll_loss", Msg(() => F.NllLoss(X(2, 3), I(0, 5))));
    }

    [Fact]
    public void UnknownReduction()
    {
        var m = Msg(() => Reductions.Parse("avg", "mse_loss"));
        Assert.Contains("'avg' is not a valid reduction", m);
        Assert.Contains("mse_loss", m);
        Assert.Contains("batchmean' is only defined for kl_div", Msg(() => F.MseLoss(X(2), X(2), Reduction.BatchMean)));
    }

    [Fact]
    public void BceErrorsTeach()
    {
        var m = Msg(() => F.BinaryCrossEntropy(Tensor.FromArray(new float[] { 0.2f, 1.7f }), Tensor.FromArray(new float[] { 0, 1 })));
        Assert.Contains("found 1.7 at flat index 1", m);
        Assert.Contains("BCEWithLogitsLoss", m);
        Assert.Contains("in [0, 1]", Msg(() => F.BinaryCrossEntropy(Tensor.FromArray(new float[] { float.NaN }), Tensor.FromArray(new float[] { 0 }))));
        Assert.Contains("must have the same shape", Msg(() => F.BinaryCrossEntropy(Tensor.Full([2, 3], 0.5), Tensor.Zeros(3, 2))));
        Assert.Contains("(4, 1) and target (4,)", Msg(() => F.BinaryCrossEntropyWithLogits(X(4, 1), Tensor.Zeros(4))));
        Assert.Contains("ToFloat32", Msg(() => F.BinaryCrossEntropyWithLogits(X(2), I(0, 1))));
    }

    [Theory]
    [InlineData("mse")]
    [InlineData("l1")]
    [InlineData("huber")]
    [InlineData("smooth_l1")]
    public void TheClassicNBy1BroadcastBugIsRejected(string loss)
    {
        Func<Tensor, Tensor, Tensor> f = loss switch
        {
            "mse" => (a, b) => F.MseLoss(a, b),
            "l1" => (a, b) => F.L1Loss(a, b),
            "huber" => (a, b) => F.HuberLoss(a, b),
            _ => (a, b) => F.SmoothL1Loss(a, b),
        };
        var m = Msg(() => f(X(8, 1), X(8)));
        Assert.Contains("(8, 1)", m);
        Assert.Contains("(8,)", m);
        Assert.Contains("(8, 8)", m);
        Assert.Contains("Reshape(8, 1)", m);
    }

    [Fact]
    public void OtherLossErrors()
    {
        Assert.Contains("negative entries", Msg(() => F.GaussianNllLoss(X(3), X(3), Tensor.FromArray(new float[] { 1, -1, 1 }))));
        Assert.Contains("var of shape (2,)", Msg(() => F.GaussianNllLoss(X(3, 4), X(3, 4), Tensor.Ones(2))));
        Assert.Contains("only p = 1 and p = 2", Msg(() => F.MultiMarginLoss(X(2, 3), I(0, 1), p: 3)));
        Assert.Contains("huber_loss: delta must be positive", Msg(() => F.HuberLoss(X(2), X(2), delta: 0)));
        Assert.Contains("blank", Msg(() => F.CtcLoss(X(5, 1, 3).LogSoftmax(2), Tensor.FromArray(new long[] { 0, 1 }, 1, 2), I(5), I(2))));
        Assert.Contains("target 4", Msg(() => F.MultilabelMarginLoss(X(1, 3), Tensor.FromArray(new long[] { 4, -1, 0 }, 1, 3))));
    }

    [Fact]
    public void StableForExtremeLogits()
    {
        var x = Tensor.FromArray(new float[] { 1e4f, -1e4f, 0, -1e4f, 1e4f, 0 }, 2, 3).RequiresGrad_();
        var l = F.CrossEntropy(x, I(1, 1));
        l.Backward();
        Assert.True(float.IsFinite(l.Item()));
        Assert.Equal(1e4f, l.Item(), 0);
        Assert.All(x.Grad!.ToArray(), v => Assert.True(float.IsFinite(v)));
        var y = Tensor.FromArray(new float[] { float.NegativeInfinity, 2, 1 }, 1, 3).RequiresGrad_();
        var l2 = F.CrossEntropy(y, I(1));
        l2.Backward();
        Assert.Equal(MathF.Log(1 + MathF.Exp(-1)), l2.Item(), 5);
        Assert.Equal(0f, y.Grad!.ToArray()[0]);
        var z = Tensor.FromArray(new float[] { 1e4f, -1e4f, 100, -100 }).RequiresGrad_();
        var l3 = F.BinaryCrossEntropyWithLogits(z, Tensor.FromArray(new float[] { 0, 1, 1, 0 }), reduction: Reduction.None);
        Assert.Equal(new float[] { 1e4f, 1e4f, 0, 0 }, l3.ToArray().Select(v => MathF.Round(v, 3)).ToArray());
        l3.Sum().Backward();
        var gz = z.Grad!.ToArray();
        Assert.Equal(new float[] { 1, -1 }, gz[..2]);
        Assert.InRange(gz[2], -1e-40f, 0f); // σ(100) − 1 = −e^−100: tiny, finite, the right sign
        Assert.InRange(gz[3], 0f, 1e-40f);
    }

    [Fact]
    public void AllIgnoredMeanIsNaNWithZeroGradient()
    {
        var x = X(3, 4).RequiresGrad_();
        var l = F.CrossEntropy(x, I(-100, -100, -100));
        Assert.True(float.IsNaN(l.Item()));
        l.Backward();
        Assert.All(x.Grad!.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void InformationTheoryIdentities()
    {
        var p = Tensor.FromArray(new double[] { 0.5, 0.25, 0.25, 0 });
        var q = Tensor.FromArray(new double[] { 0.25, 0.25, 0.25, 0.25 });
        Assert.Equal(1.5 * Math.Log(2), InformationTheory.Entropy(p).ItemDouble(), 12);
        Assert.Equal(2 * Math.Log(2), InformationTheory.CrossEntropy(p, q).ItemDouble(), 12);
        Assert.Equal(0.5 * Math.Log(2), InformationTheory.KLDivergence(p, q).ItemDouble(), 12);
        // H(Y|X) = H(X,Y) − H(X): X fair coin, Y = X with prob 3/4.
        var joint = Tensor.FromArray(new double[] { 0.375, 0.125, 0.125, 0.375 }, 2, 2);
        double hy_x = -(0.75 * Math.Log(0.75) + 0.25 * Math.Log(0.25));
        Assert.Equal(hy_x, InformationTheory.ConditionalEntropy(joint).ItemDouble(), 12);
        // Cross-entropy loss on a one-hot target equals H(p, softmax) of the distributions.
        var logits = Tensor.FromArray(new double[] { 1, 2, 0.5 }, 1, 3);
        var viaLoss = F.CrossEntropy(logits, Tensor.FromArray(new long[] { 1 })).ItemDouble();
        var viaH = InformationTheory.CrossEntropy(Tensor.FromArray(new double[] { 0, 1, 0 }, 1, 3), logits.Softmax(1)).ItemDouble();
        Assert.Equal(viaH, viaLoss, 12);
    }

    [Fact]
    public void ModulesForwardToFunctional()
    {
        var x = X(5, 3);
        var t = I(0, 2, 1, 1, 0);
        var w = Tensor.FromArray(new float[] { 1, 2, 3 });
        Assert.Equal(F.CrossEntropy(x, t, w, labelSmoothing: 0.1).Item(), new CrossEntropyLoss(weight: w, labelSmoothing: 0.1f).Call(x, t).Item());
        Assert.Equal(F.MseLoss(x, x * 2, Reduction.Sum).Item(), new MSELoss(Reduction.Sum).Call(x, x * 2).Item());
        Assert.Equal("CrossEntropyLoss()", new CrossEntropyLoss().ToString());
        Assert.Equal("MSELoss(reduction='sum')", new MSELoss(Reduction.Sum).ToString());
    }
}
