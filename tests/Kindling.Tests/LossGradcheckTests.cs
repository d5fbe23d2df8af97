using Kindling.NN;
using F = Kindling.NN.Functional;

namespace Kindling.Tests;

/// <summary>Every loss's backward against float64 finite differences, for every differentiable input.</summary>
public class LossGradcheckTests
{
    private static Tensor Rn(ulong seed, params int[] s) => Tensor.Randn(s, new Generator(seed), DType.Float64).RequiresGrad_();
    private static Tensor U(ulong seed, double lo, double hi, params int[] s) => (Tensor.Rand(s, new Generator(seed), DType.Float64) * (hi - lo) + lo).Detach().RequiresGrad_();
    private static Tensor Idx(params long[] v) => Tensor.FromArray(v);
    private static Tensor Pm1(ulong seed, params int[] s) => Tensor.Where(Tensor.Rand(s, new Generator(seed)).Gt(0.5), Tensor.Scalar(1.0, DType.Float64), Tensor.Scalar(-1.0, DType.Float64));

    public static IEnumerable<object[]> Cases()
    {
        var red = new[] { Reduction.None, Reduction.Mean, Reduction.Sum };
        foreach (var r in red)
        {
            yield return C($"ce-{r}", [Rn(1, 4, 5)], x => F.CrossEntropy(x[0], Idx(0, 4, 2, 2), reduction: r));
            yield return C($"ce-w-ls-ign-{r}", [Rn(2, 4, 5)], x => F.CrossEntropy(x[0], Idx(0, -100, 2, 3), Tensor.FromArray(new double[] { 0.3, 1, 2, 0.7, 1.5 }), reduction: r, labelSmoothing: 0.2));
            yield return C($"ce-kdim-{r}", [Rn(4, 2, 3, 2, 2)], x => F.CrossEntropy(x[0], Tensor.FromArray(new long[] { 0, 1, 2, 1, 2, 0, 0, 1 }, 2, 2, 2), reduction: r));
            yield return C($"ce-prob-{r}", [Rn(5, 3, 4), U(6, 0, 1, 3, 4)], x => F.CrossEntropy(x[0], x[1], Tensor.FromArray(new double[] { 1, 2, 0.5, 1 }), reduction: r, labelSmoothing: 0.1));
            yield return C($"nll-{r}", [Rn(7, 4, 3)], x => F.NllLoss(x[0], Idx(2, 0, -100, 1), Tensor.FromArray(new double[] { 0.3, 1, 2 }), reduction: r));
            yield return C($"bce-{r}", [U(8, 0.05, 0.95, 3, 4), U(9, 0, 1, 3, 4)], x => F.BinaryCrossEntropy(x[0], x[1], Tensor.FromArray(new double[] { 1, 2, 0.5, 1 }), r));
            yield return C($"bcel-{r}", [Rn(10, 3, 4), U(11, 0, 1, 3, 4)], x => F.BinaryCrossEntropyWithLogits(x[0], x[1], Tensor.FromArray(new double[] { 1, 2, 0.5, 1 }), Tensor.FromArray(new double[] { 3, 1, 0.2, 1 }), r));
            yield return C($"mse-{r}", [Rn(12, 3, 4), Rn(13, 3, 4)], x => F.MseLoss(x[0], x[1], r));
            yield return C($"l1-{r}", [Rn(14, 3, 4), Rn(15, 3, 4)], x => F.L1Loss(x[0], x[1], r));
            yield return C($"sl1-{r}", [Rn(16, 3, 4), Rn(17, 3, 4)], x => F.SmoothL1Loss(x[0], x[1], r, 0.7));
            yield return C($"huber-{r}", [Rn(18, 3, 4), Rn(19, 3, 4)], x => F.HuberLoss(x[0], x[1], r, 0.6));
            yield return C($"kl-{r}", [Rn(20, 3, 4), U(21, 0.05, 1, 3, 4)], x => F.KLDiv(x[0], x[1], r));
            yield return C($"kl-log-{r}", [Rn(22, 3, 4), Rn(23, 3, 4)], x => F.KLDiv(x[0], x[1], r, logTarget: true));
            yield return C($"poisson-{r}", [Rn(24, 3, 4), U(25, 0, 4, 3, 4)], x => F.PoissonNllLoss(x[0], x[1], full: true, reduction: r));
            yield return C($"poisson-lin-{r}", [U(26, 0.2, 3, 3, 4), U(27, 0, 4, 3, 4)], x => F.PoissonNllLoss(x[0], x[1], logInput: false, reduction: r));
            yield return C($"gauss-{r}", [Rn(28, 3, 4), Rn(29, 3, 4), U(30, 0.1, 2, 3, 1)], x => F.GaussianNllLoss(x[0], x[1], x[2], full: true, reduction: r));
            yield return C($"softmargin-{r}", [Rn(31, 3, 4)], x => F.SoftMarginLoss(x[0], Pm1(32, 3, 4), r));
            yield return C($"mlsm-{r}", [Rn(33, 3, 4), U(34, 0, 1, 3, 4)], x => F.MultilabelSoftMarginLoss(x[0], x[1], Tensor.FromArray(new double[] { 1, 2, 0.5, 1 }), r));
            yield return C($"hinge-{r}", [Rn(35, 3, 4)], x => F.HingeEmbeddingLoss(x[0], Pm1(36, 3, 4), 0.8, r));
            yield return C($"ranking-{r}", [Rn(37, 6), Rn(38, 6), Rn(39, 6)], x => F.MarginRankingLoss(x[0], x[1], x[2], 0.3, r));
            yield return C($"cosine-{r}", [Rn(40, 4, 3), Rn(41, 4, 3)], x => F.CosineEmbeddingLoss(x[0], x[1], Tensor.FromArray(new double[] { 1, -1, 1, -1 }), -0.5, r));
            yield return C($"multimargin-{r}", [Rn(42, 4, 5)], x => F.MultiMarginLoss(x[0], Idx(0, 3, 4, 1), 2, 0.7, Tensor.FromArray(new double[] { 1, 2, 0.5, 1, 3 }), r));
            yield return C($"mlmargin-{r}", [Rn(43, 3, 4)], x => F.MultilabelMarginLoss(x[0], Tensor.FromArray(new long[] { 3, 0, -1, 1, 1, -1, 0, 0, 0, 1, 2, -1 }, 3, 4), r));
            yield return C($"triplet-{r}", [Rn(44, 3, 4), Rn(45, 3, 4), Rn(46, 3, 4)], x => F.TripletMarginLoss(x[0], x[1], x[2], 1.5, 2, 1e-6, true, r));
            yield return C($"triplet-p1-{r}", [Rn(47, 3, 4), Rn(48, 3, 4), Rn(49, 3, 4)], x => F.TripletMarginLoss(x[0], x[1], x[2], 2, 1, reduction: r));
            yield return C($"tripletdist-{r}", [Rn(50, 3, 4), Rn(51, 3, 4), Rn(52, 3, 4)], x => F.TripletMarginWithDistanceLoss(x[0], x[1], x[2], (a, b) => 1 - (a * b).Sum(-1), 1.0, false, r));
            yield return C($"ctc-{r}", [Rn(53, 6, 2, 4)], x => F.CtcLoss(x[0].LogSoftmax(2), Tensor.FromArray(new long[] { 1, 2, 2, 3, 1, 0 }, 2, 3), Idx(6, 5), Idx(3, 2), 0, r));
            yield return C($"sfocal-{r}", [Rn(54, 3, 4), U(55, 0, 1, 3, 4)], x => F.SigmoidFocalLoss(x[0], x[1], 0.3, 2, r));
            yield return C($"focal-{r}", [Rn(56, 4, 3)], x => F.SoftmaxFocalLoss(x[0], Idx(0, 2, -100, 1), Tensor.FromArray(new double[] { 0.2, 0.5, 0.3 }), 2, -100, r));
        }
        yield return C("ce-unbatched", [Rn(57, 5)], x => F.CrossEntropy(x[0], Tensor.Scalar(3, DType.Int64)));
        yield return C("kl-batchmean", [Rn(58, 3, 4), U(59, 0, 1, 3, 4)], x => F.KLDiv(x[0], x[1], Reduction.BatchMean));
        yield return C("entropy", [U(60, 0.1, 1, 3, 4)], x => InformationTheory.Entropy(x[0]));
        yield return C("xent-dist", [U(61, 0.1, 1, 4), U(62, 0.1, 1, 4)], x => InformationTheory.CrossEntropy(x[0], x[1]));
        yield return C("kl-dist", [U(63, 0.1, 1, 4), U(64, 0.1, 1, 4)], x => InformationTheory.KLDivergence(x[0], x[1]));
    }

    private static object[] C(string name, Tensor[] inputs, Func<Tensor[], Tensor> f) => [name, inputs, f];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradcheck(string name, Tensor[] inputs, Func<Tensor[], Tensor> f)
    {
        GradCheck.Check(f, inputs, eps: 1e-6, atol: 1e-6, rtol: 1e-4);
        Assert.False(string.IsNullOrEmpty(name));
    }
}
