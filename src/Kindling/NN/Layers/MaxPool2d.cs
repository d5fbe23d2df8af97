namespace Kindling.NN;

/// <summary>
/// 2-D max pooling layer (PyTorch's <c>nn.MaxPool2d</c>); see <see cref="Functional.MaxPool2d"/>. Defaults: stride =
/// kernel_size, padding 0, dilation 1, ceil_mode false. With <see cref="ForwardWithIndices"/> it also returns the flat
/// index of each maximum (<c>return_indices=True</c>).
/// </summary>
public sealed class MaxPool2d(Size2 kernelSize, Size2? stride = null, Size2? padding = null, Size2? dilation = null, bool ceilMode = false) : Module
{
    public Size2 KernelSize { get; } = kernelSize;
    public Size2 Stride { get; } = stride ?? kernelSize;
    public Size2 Padding { get; } = padding ?? 0;
    public Size2 Dilation { get; } = dilation ?? 1;
    public bool CeilMode { get; } = ceilMode;
    private string Name => $"MaxPool2d(kernel_size={ConvNames.Short(KernelSize)})";

    public override Tensor Forward(Tensor input) => Functional.MaxPool2dCore(Name, input, KernelSize, Stride, Padding, Dilation, CeilMode).Output;

    /// <summary>The pooled output and the flat index (into H·W) of each maximum.</summary>
    public (Tensor Output, Tensor Indices) ForwardWithIndices(Tensor input)
    {
        var (y, i) = Functional.MaxPool2dCore(Name, input, KernelSize, Stride, Padding, Dilation, CeilMode, wantIndices: true);
        return (y, i!);
    }

    protected override string ExtraRepr() =>
        $"kernel_size={ConvNames.Short(KernelSize)}, stride={ConvNames.Short(Stride)}, padding={ConvNames.Short(Padding)}, dilation={ConvNames.Short(Dilation)}, ceil_mode={(CeilMode ? "True" : "False")}";
}
