using Kindling.NN;
using F = Kindling.NN.Functional;

namespace Kindling.Tests;

/// <summary>Every convolution, pooling and padding op's backward against float64 finite differences.</summary>
public class ConvGradcheckTests
{
    private static Tensor Rn(ulong seed, params int[] s) => Tensor.Randn(s, new Generator(seed), DType.Float64).RequiresGrad_();

    private static readonly Dictionary<string, (Tensor[] Inputs, Func<Tensor[], Tensor> F)> All =
        AllCases().ToDictionary(c => (string)c[0], c => ((Tensor[])c[1], (Func<Tensor[], Tensor>)c[2]));

    public static IEnumerable<object[]> Cases() => All.Keys.Select(k => new object[] { k });

    private static IEnumerable<object[]> AllCases()
    {
        yield return C("conv2d-basic", [Rn(1, 2, 3, 5, 6), Rn(2, 4, 3, 3, 3), Rn(3, 4)], x => F.Conv2d(x[0], x[1], x[2]));
        yield return C("conv2d-stride-pad-dil", [Rn(4, 2, 2, 7, 8), Rn(5, 3, 2, 3, 2), Rn(6, 3)], x => F.Conv2d(x[0], x[1], x[2], stride: (2, 1), padding: (1, 2), dilation: (2, 1)));
        yield return C("conv2d-groups", [Rn(7, 2, 4, 5, 5), Rn(8, 6, 2, 3, 3)], x => F.Conv2d(x[0], x[1], null, padding: 1, groups: 2));
        yield return C("conv2d-depthwise", [Rn(9, 3, 3, 6, 5), Rn(10, 3, 1, 3, 3), Rn(11, 3)], x => F.Conv2d(x[0], x[1], x[2], stride: 2, padding: 1, groups: 3));
        yield return C("conv2d-same-even", [Rn(12, 1, 2, 5, 6), Rn(13, 2, 2, 4, 2)], x => F.Conv2d(x[0], x[1], null, padding: "same"));
        yield return C("conv2d-unbatched", [Rn(14, 2, 4, 4), Rn(15, 2, 2, 2, 2)], x => F.Conv2d(x[0], x[1]));
        yield return C("conv1d", [Rn(16, 2, 3, 9), Rn(17, 4, 3, 3), Rn(18, 4)], x => F.Conv1d(x[0], x[1], x[2], stride: 2, padding: 1, dilation: 2));
        yield return C("conv1d-same-groups", [Rn(19, 2, 4, 7), Rn(20, 2, 2, 4)], x => F.Conv1d(x[0], x[1], null, padding: "same", groups: 2));
        yield return C("convT2d", [Rn(21, 2, 3, 3, 4), Rn(22, 3, 2, 3, 3), Rn(23, 2)], x => F.ConvTranspose2d(x[0], x[1], x[2], stride: 2, padding: 1, outputPadding: 1));
        yield return C("convT2d-groups-dil", [Rn(24, 2, 4, 3, 3), Rn(25, 4, 1, 2, 3), Rn(26, 2)], x => F.ConvTranspose2d(x[0], x[1], x[2], stride: (1, 2), padding: (0, 1), groups: 2, dilation: 2));
        yield return C("maxpool2d", [Rn(27, 2, 2, 7, 6)], x => F.MaxPool2d(x[0], 3, 2, 1));
        yield return C("maxpool2d-ceil-dil", [Rn(28, 1, 2, 8, 9)], x => F.MaxPool2d(x[0], (2, 3), (2, 2), (1, 1), (2, 1), ceilMode: true));
        yield return C("maxpool1d", [Rn(29, 2, 3, 11)], x => F.MaxPool1d(x[0], 3, 2, 1, ceilMode: true));
        yield return C("avgpool2d", [Rn(30, 2, 2, 7, 6)], x => F.AvgPool2d(x[0], 3, 2, 1, ceilMode: true));
        yield return C("avgpool2d-nopad-count", [Rn(31, 2, 2, 7, 6)], x => F.AvgPool2d(x[0], (3, 2), (2, 1), (1, 1), ceilMode: true, countIncludePad: false));
        yield return C("avgpool2d-divisor", [Rn(32, 1, 2, 5, 5)], x => F.AvgPool2d(x[0], 2, divisorOverride: 3));
        yield return C("adaptive-avg", [Rn(33, 2, 2, 7, 5)], x => F.AdaptiveAvgPool2d(x[0], (3, 2)));
        yield return C("batchnorm-train", [Rn(34, 3, 2, 3, 4), Rn(35, 2), Rn(36, 2)], x => F.BatchNorm(x[0], null, null, x[1], x[2], training: true));
        yield return C("batchnorm-eval", [Rn(37, 3, 2, 3, 4), Rn(38, 2), Rn(39, 2)], x => F.BatchNorm(x[0], Tensor.FromArray(new[] { 0.1, -0.2 }), Tensor.FromArray(new[] { 1.5, 0.7 }), x[1], x[2]));
        yield return C("pad-constant", [Rn(40, 2, 3, 4)], x => F.Pad(x[0], [1, 2, -1, 1], value: 0.5));
        yield return C("pad-reflect", [Rn(41, 1, 2, 4, 5)], x => F.Pad(x[0], [2, 1, 3, 1], "reflect"));
        yield return C("pad-replicate", [Rn(42, 1, 2, 3, 4)], x => F.Pad(x[0], [2, 3, 1, 2], "replicate"));
        yield return C("pad-circular", [Rn(43, 1, 2, 3, 4)], x => F.Pad(x[0], [2, 1, 1, 3], "circular"));
        yield return C("unfold", [Rn(44, 2, 2, 5, 6)], x => F.Unfold(x[0], (2, 3), dilation: (1, 2), padding: 1, stride: (2, 1)));
        yield return C("fold", [Rn(45, 2, 12, 9)], x => F.Fold(x[0], (5, 6), (2, 3), padding: 1, stride: 2));
        yield return C("dropout2d", [Rn(46, 3, 4, 2, 2)], x => F.Dropout2d(x[0], 0.4, generator: new Generator(7)));
    }

    private static object[] C(string name, Tensor[] inputs, Func<Tensor[], Tensor> f) => [name, inputs, f];

    [Theory]
    [MemberData(nameof(Cases))]
    public void BackwardMatchesFiniteDifferences(string name)
    {
        var (inputs, f) = All[name];
        GradCheck.Check(f, inputs);
    }

    [Theory]
    [InlineData(1, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1)]
    [InlineData(2, 4, 9, 8, 6, 3, 2, 2, 0, 2, 2)]
    [InlineData(3, 2, 6, 7, 4, 5, 5, 1, 2, 1, 1)]
    [InlineData(5, 6, 5, 5, 6, 3, 3, 1, 1, 1, 6)]
    public void FusedConvolutionMatchesUnfoldMatmul(int n, int c, int h, int w, int o, int kh, int kw, int stride, int pad, int dil, int groups)
    {
        var x = Rn(100, n, c, h, w);
        var wt = Rn(101, o, c / groups, kh, kw);
        var b = Rn(102, o);
        var y = F.Conv2d(x, wt, b, stride, pad, dil, groups);
        var gy = Tensor.Randn(y.Shape, new Generator(103), DType.Float64);
        (y * gy).Sum().Backward();
        var (gx, gw, gb) = (x.Grad!.ToDoubleArray(), wt.Grad!.ToDoubleArray(), b.Grad!.ToDoubleArray());
        x.Grad = null; wt.Grad = null; b.Grad = null;

        // Reference: each group is weight_g.View(O/g, −1) @ Unfold(x_g), composed from primitive ops.
        int og = o / groups, cg = c / groups;
        var parts = new List<Tensor>();
        for (int g = 0; g < groups; g++)
        {
            var cols = F.Unfold(x.Narrow(1, g * cg, cg).Contiguous(), (kh, kw), dil, pad, stride);
            parts.Add(Tensor.Matmul(wt.Narrow(0, g * og, og).Reshape(og, -1), cols));
        }
        var r = (Tensor.Cat(parts, 1) + b.Reshape(1, o, 1)).Reshape(y.Shape);
        (r * gy).Sum().Backward();
        AssertClose(r.ToDoubleArray(), y.ToDoubleArray(), "output");
        AssertClose(x.Grad!.ToDoubleArray(), gx, "input grad");
        AssertClose(wt.Grad!.ToDoubleArray(), gw, "weight grad");
        AssertClose(b.Grad!.ToDoubleArray(), gb, "bias grad");
    }

    [Fact]
    public void ChunkedBatchesMatchOneImageAtATime()
    {
        // 64 images of 64×9×9 under a 3×3 kernel fill several chunks of the column buffer: each image's output must
        // equal the convolution of that image alone.
        var x = Tensor.Randn([40, 64, 15, 15], new Generator(5));
        var w = Tensor.Randn([8, 64, 3, 3], new Generator(6));
        var y = F.Conv2d(x, w, padding: 1).ToArray();
        int per = 8 * 15 * 15;
        foreach (int i in new[] { 0, 17, 39 })
        {
            var yi = F.Conv2d(x.Narrow(0, i, 1).Contiguous(), w, padding: 1).ToArray();
            for (int k = 0; k < per; k++) Assert.True(Math.Abs(yi[k] - y[i * per + k]) <= 1e-4f * (1 + Math.Abs(yi[k])), $"image {i} element {k}: {y[i * per + k]} vs {yi[k]}");
        }
    }

    internal static void AssertClose(double[] expected, double[] actual, string what, double tol = 1e-9)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * (1 + Math.Abs(expected[i])), $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }
}
