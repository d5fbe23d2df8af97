namespace Kindling.NN;

/// <summary>
/// 2-D average pooling layer (PyTorch's <c>nn.AvgPool2d</c>); see <see cref="Functional.AvgPool2d"/>. Defaults: stride =
/// kernel_size, padding 0, ceil_mode false, count_include_pad true, divisor_override none.
/// </summary>
public sealed class AvgPool2d(Size2 kernelSize, Size2? stride = null, Size2? padding = null, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null) : Module
{
    public Size2 KernelSize { get; } = kernelSize;
    public Size2 Stride { get; } = stride ?? kernelSize;
    public Size2 Padding { get; } = padding ?? 0;
    public bool CeilMode { get; } = ceilMode;
    public bool CountIncludePad { get; } = countIncludePad;
    public int? DivisorOverride { get; } = divisorOverride;

    public override Tensor Forward(Tensor input) =>
        Functional.AvgPool2dCore($"AvgPool2d(kernel_size={ConvNames.Short(KernelSize)})", input, KernelSize, Stride, Padding, CeilMode, CountIncludePad, DivisorOverride);

    protected override string ExtraRepr() => $"kernel_size={ConvNames.Short(KernelSize)}, stride={ConvNames.Short(Stride)}, padding={ConvNames.Short(Padding)}";
}
