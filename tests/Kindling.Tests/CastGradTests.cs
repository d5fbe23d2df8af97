namespace Kindling.Tests;

/// <summary>Gradients through dtype casts (what the gradcheck list cannot test: float32 rounding defeats finite differences).</summary>
public class CastGradTests
{
    [Fact]
    public void GradientFlowsThroughFloat32AndBackInTheSourceDtype()
    {
        var x = Tensor.FromArray(new[] { 0.1, -2.5, 3.0 }).RequiresGrad_();
        var y = (x.ToFloat32().Square() * 3f).ToFloat64().Sum(); // d/dx 3x² = 6x, computed in float32
        y.Backward();
        Assert.Equal(DType.Float64, x.Grad!.DType);
        var g = x.Grad.ToDoubleArray();
        Assert.Equal(0.6, g[0], 1e-6);
        Assert.Equal(-15.0, g[1], 1e-6);
        Assert.Equal(18.0, g[2], 1e-6);
        Assert.NotEqual(0.6, g[0]); // the float32 detour is visible: 6·0.1f ≠ 0.6 in float64
    }
}
