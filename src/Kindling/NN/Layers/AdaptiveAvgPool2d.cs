namespace Kindling.NN;

/// <summary>
/// Adaptive 2-D average pooling to a fixed output size (PyTorch's <c>nn.AdaptiveAvgPool2d</c>); (1, 1) is global
/// average pooling. See <see cref="Functional.AdaptiveAvgPool2d"/>.
/// </summary>
public sealed class AdaptiveAvgPool2d(Size2 outputSize) : Module
{
    public Size2 OutputSize { get; } = outputSize;
    public override Tensor Forward(Tensor input) => Functional.AdaptiveAvgPool2dCore($"AdaptiveAvgPool2d(output_size={ConvNames.Short(OutputSize)})", input, OutputSize);
    protected override string ExtraRepr() => $"output_size={ConvNames.Short(OutputSize)}";
}
