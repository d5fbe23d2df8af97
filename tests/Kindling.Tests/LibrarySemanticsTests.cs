using Kindling.Data;
using Kindling.NN;
using Kindling.Optim;

namespace Kindling.Tests;

/// <summary>Issue 12: library corner semantics with PyTorch 1.13 as the reference (its behaviour quoted in each test).</summary>
public class LibrarySemanticsTests
{
    private static Tensor X() => Tensor.FromArray([0f, 1, 2, 3, 4, 5], 2, 3);

    [Fact]
    public void GatherRefusesNegativeIndices()
    {
        // torch: x.gather(1, tensor([[-1]])) → RuntimeError: index -1 is out of bounds for dimension 1 with size 3
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => X().Gather(1, Tensor.FromArray([-1L], 1, 1)));
        Assert.Contains("index -1", e.Message);
        Assert.Equal(2f, X().Gather(1, Tensor.FromArray([2L], 1, 1)).Item());
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.ScatterAdd(Tensor.Zeros(2, 3), 1, Tensor.FromArray([-1L], 1, 1), Tensor.Ones(1, 1)));
    }

    [Fact]
    public void IndexSelectRefusesNegativeIndicesOnEveryPath()
    {
        // torch: x.index_select(1, tensor([-1])) → RuntimeError (INDICES element is out of DATA bounds, id=-1)
        Assert.Throws<ArgumentOutOfRangeException>(() => X().IndexSelect(1, Tensor.FromArray([-1L])));
        Assert.Throws<ArgumentOutOfRangeException>(() => X().IndexSelect(0, Tensor.FromArray([-1L]))); // the row-copy path
        Assert.Equal(new[] { 3f, 4, 5 }, X().IndexSelect(0, Tensor.FromArray([1L])).ToArray());
    }

    [Fact]
    public void InPlaceOnAViewOfALeafThatRequiresGradIsRefused()
    {
        // torch: w[0:2].mul_(2) → RuntimeError: a view of a leaf Variable that requires grad is being used in an in-place operation.
        var w = Tensor.Zeros(3).RequiresGrad_();
        var e = Assert.Throws<InvalidOperationException>(() => w.Narrow(0, 0, 2).MulInPlace(2));
        Assert.Contains("view of a leaf", e.Message);
        Assert.Throws<InvalidOperationException>(() => w.Reshape(3, 1).Fill_(1));
        // Allowed: under NoGrad, through Detach(), and on a view of a leaf that does not require grad.
        using (Autograd.NoGrad()) w.Narrow(0, 0, 2).Fill_(1);
        w.Detach().Narrow(0, 2, 1).Fill_(2);
        Assert.Equal(new[] { 1f, 1, 2 }, w.ToArray());
        var plain = Tensor.Zeros(3);
        plain.Narrow(0, 0, 1).Fill_(5);
        Assert.Equal(5f, plain.ToArray()[0]);
        // A view of a non-leaf (an intermediate result) may still be modified in place, as in PyTorch.
        var y = w * 2;
        y.Narrow(0, 0, 1).Fill_(7);
    }

    [Fact]
    public void AModuleUsedTwiceListsItsParametersOnce()
    {
        // torch: nn.Sequential(l, l) → 2 parameters, state_dict keys 0.weight 0.bias 1.weight 1.bias
        var l = new Linear(2, 2);
        var s = new Sequential(l, l);
        Assert.Equal(2, s.Parameters().Count());
        Assert.Equal(new[] { "0.bias", "0.weight", "1.bias", "1.weight" }, s.StateDict().Keys.OrderBy(k => k, StringComparer.Ordinal));
        var opt = new SGD(s.Parameters(), 0.1); // threw on the duplicate before
        s.Call(Tensor.Ones(1, 2)).Sum().Backward();
        var before = l.Parameters().First().ToArray();
        opt.Step();
        var after = l.Parameters().First().ToArray();
        Assert.NotEqual(before, after);
        s.LoadStateDict(s.StateDict());
    }

    [Fact]
    public void ClipGradNormWithANaNGradientMakesEveryGradientNaNLikePyTorch()
    {
        // torch 1.13 clip_grad_norm_(error_if_nonfinite=False): total nan; every grad multiplied by clamp(nan, max=1) = nan.
        var a = Tensor.Zeros(2).RequiresGrad_();
        var b = Tensor.Zeros(2).RequiresGrad_();
        a.Grad = Tensor.FromArray([float.NaN, 1f]);
        b.Grad = Tensor.FromArray([3f, 4f]);
        Assert.True(double.IsNaN(GradClip.ClipGradNorm([a, b], 1.0)));
        Assert.All(a.Grad.ToArray().Concat(b.Grad.ToArray()), v => Assert.True(float.IsNaN(v)));
        // An infinite gradient: total inf, coefficient 0 → [nan, 0] and [0, 0].
        a.Grad = Tensor.FromArray([float.PositiveInfinity, 1f]);
        b.Grad = Tensor.FromArray([3f, 4f]);
        Assert.True(double.IsPositiveInfinity(GradClip.ClipGradNorm([a, b], 1.0)));
        Assert.True(float.IsNaN(a.Grad.ToArray()[0]));
        Assert.Equal(new[] { 0f, 0, 0 }, a.Grad.ToArray()[1..].Concat(b.Grad.ToArray()));
    }

    [Fact]
    public void DataLoaderCountDoesNotOverflowNearIntMax()
    {
        var ds = new TensorDataset(Tensor.Zeros(10, 2), Tensor.Zeros(10));
        foreach (int bs in new[] { int.MaxValue, int.MaxValue - 1, int.MaxValue - 5 })
        {
            var dl = new DataLoader(ds, bs);
            Assert.Equal(1, dl.Count);
            Assert.Equal(10, dl.Single().X.Size(0));
        }
    }
}
