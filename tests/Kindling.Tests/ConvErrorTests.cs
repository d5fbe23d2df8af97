using Kindling.NN;
using F = Kindling.NN.Functional;

namespace Kindling.Tests;

/// <summary>Impossible shapes and arguments give errors that name the layer, the sizes and the fix.</summary>
public class ConvErrorTests
{
    private static string Err(Action a) => Assert.ThrowsAny<ArgumentException>(a).Message;

    [Fact]
    public void InputSmallerThanKernelNamesLayerAndSizes()
    {
        var m = new Conv2d(3, 16, 5);
        var msg = Err(() => m.Call(Tensor.Zeros(2, 3, 4, 4)));
        Assert.StartsWith("Conv2d(3, 16, kernel_size=5): input 3×4×4 is smaller than the kernel", msg);
    }

    [Fact]
    public void WrongChannelCountIsExplained()
    {
        var msg = Err(() => new Conv2d(3, 8, 3).Call(Tensor.Zeros(2, 1, 28, 28)));
        Assert.Contains("Conv2d(3, 8, kernel_size=3)", msg);
        Assert.Contains("(N, 3, H, W)", msg);
        Assert.Contains("(2, 1, 28, 28)", msg);
        Assert.Contains("expected input (N, C, H, W)", Err(() => F.Conv2d(Tensor.Zeros(5, 3), Tensor.Zeros(4, 3, 1, 1))));
    }

    [Fact]
    public void ArgumentsOutsideTheirDomainAreRejected()
    {
        Assert.Contains("groups", Err(() => new Conv2d(3, 8, 3, groups: 2)));
        Assert.Contains("strided", Err(() => new Conv2d(3, 8, 3, stride: 2, padding: "same")));
        Assert.Contains("invalid padding string 'full'", Err(() => new Conv2d(3, 8, 3, padding: "full")));
        Assert.Contains("padding_mode", Err(() => new Conv2d(3, 8, 3, paddingMode: "mirror")));
        Assert.Contains("output_padding", Err(() => new ConvTranspose2d(3, 8, 3, stride: 2, outputPadding: 2)));
        Assert.Contains("at most half the kernel", Err(() => new MaxPool2d(2, padding: 2).Call(Tensor.Zeros(1, 1, 8, 8))));
        Assert.Contains("MaxPool2d(kernel_size=3): input 1×2×2 is smaller than the kernel", Err(() => new MaxPool2d(3).Call(Tensor.Zeros(1, 1, 2, 2))));
        Assert.Contains("BatchNorm2d(4): expected input (N, 4, H, W)", Err(() => new BatchNorm2d(4).Call(Tensor.Zeros(2, 3, 5, 5))));
        Assert.Contains("more than 1 value per channel", Err(() => new BatchNorm2d(3).Call(Tensor.Zeros(1, 3, 1, 1))));
        Assert.Contains("reflect padding (4, 4) must be smaller than dimension", Err(() => F.Pad(Tensor.Zeros(1, 1, 4, 4), [4, 4], "reflect")));
        Assert.Contains("block positions", Err(() => F.Fold(Tensor.Zeros(1, 4, 5), (3, 3), 2)));
        Assert.Contains("cannot unflatten", Err(() => new Unflatten(1, 2, 5).Call(Tensor.Zeros(3, 9))));
    }

    [Fact]
    public void ModulesHavePyTorchParameterNamesShapesAndInitBounds()
    {
        var c = new Conv2d(4, 6, (3, 5), groups: 2);
        Assert.Equal(["weight", "bias"], c.NamedParameters().Select(p => p.Name));
        Assert.Equal([6, 2, 3, 5], c.Weight.Shape);
        double bound = 1 / Math.Sqrt(2 * 3 * 5);
        Assert.All(c.Weight.ToDoubleArray().Concat(c.Bias!.ToDoubleArray()), v => Assert.InRange(v, -bound, bound));
        var t = new ConvTranspose2d(4, 6, 3, groups: 2);
        Assert.Equal([4, 3, 3, 3], t.Weight.Shape);
        var bn = new BatchNorm2d(5);
        Assert.Equal(["weight", "bias", "running_mean", "running_var", "num_batches_tracked"], bn.StateDict().Keys);
        Assert.Equal("Conv2d(4, 6, kernel_size=(3, 5), stride=(1, 1), groups=2)", c.ToString());
        Assert.Equal("MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)", new MaxPool2d(2).ToString());
    }

    [Fact]
    public void BatchNormEvaluationUsesRunningStatisticsAndDropout2dDropsWholeChannels()
    {
        var bn = new BatchNorm2d(2);
        bn.Eval();
        var x = Tensor.Randn([2, 2, 3, 3], new Generator(1));
        var y = bn.Call(x).ToArray();
        var xs = x.ToArray();
        for (int i = 0; i < xs.Length; i++) Assert.Equal(xs[i] / Math.Sqrt(1 + 1e-5), y[i], 5);
        Assert.Equal(0L, bn.NumBatchesTracked!.ToInt64Array()[0]);

        var d = new Dropout2d(0.5, new Generator(3));
        var z = d.Call(Tensor.Ones(64, 32, 2, 2)).ToArray();
        int zeroChannels = 0;
        for (int ch = 0; ch < 64 * 32; ch++)
        {
            var v = z.AsSpan(ch * 4, 4).ToArray();
            Assert.True(v.All(e => e == 0) || v.All(e => e == 2), "a channel is either dropped whole or scaled by 1/(1 − p)");
            if (v[0] == 0) zeroChannels++;
        }
        Assert.InRange(zeroChannels, 64 * 32 * 0.45, 64 * 32 * 0.55);
        d.Eval();
        Assert.Equal(Tensor.Ones(2, 3, 2, 2).ToArray(), d.Call(Tensor.Ones(2, 3, 2, 2)).ToArray());
    }
}
