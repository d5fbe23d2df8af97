namespace Kindling.NN;

/// <summary>
/// Adaptive 2-D average pooling to a fixed output size (PyTorch's <c>nn.AdaptiveAvgPool2d</c>); (1, 1) is global
/// average pooling. A null height or width (PyTorch's <c>None</c>) keeps that dimension of the input.
/// See <see cref="Functional.AdaptiveAvgPool2d"/>.
/// </summary>
public sealed class AdaptiveAvgPool2d : Module
{
    private readonly int? _height, _width;

    public AdaptiveAvgPool2d(Size2 outputSize) { _height = outputSize.H; _width = outputSize.W; }

    /// <summary>Output (height, width); null keeps the input's size in that dimension.</summary>
    public AdaptiveAvgPool2d(int? height, int? width) { _height = height; _width = width; }

    /// <summary>The output size; a kept dimension reads as 0.</summary>
    public Size2 OutputSize => (_height ?? 0, _width ?? 0);

    private string Show => _height is { } h && _width is { } w ? ConvNames.Short((h, w)) : $"({_height?.ToString() ?? "None"}, {_width?.ToString() ?? "None"})";

    public override Tensor Forward(Tensor input)
    {
        Size2 size = (_height ?? (input.Rank >= 2 ? input.Size(-2) : 0), _width ?? (input.Rank >= 1 ? input.Size(-1) : 0));
        return Functional.AdaptiveAvgPool2dCore($"AdaptiveAvgPool2d(output_size={Show})", input, size);
    }

    protected override string ExtraRepr() => $"output_size={Show}";
}
