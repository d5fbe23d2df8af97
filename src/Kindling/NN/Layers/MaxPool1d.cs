namespace Kindling.NN;

/// <summary>
/// 1-D max pooling layer (PyTorch's <c>nn.MaxPool1d</c>) over input (N, C, L) or (C, L). Defaults: stride =
/// kernel_size, padding 0, dilation 1, ceil_mode false.
/// </summary>
public sealed class MaxPool1d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false) : Module
{
    public int KernelSize { get; } = kernelSize;
    public int Stride { get; } = stride ?? kernelSize;
    public int Padding { get; } = padding;
    public int Dilation { get; } = dilation;
    public bool CeilMode { get; } = ceilMode;

    public override Tensor Forward(Tensor input) =>
        Functional.MaxPool1dCore($"MaxPool1d(kernel_size={KernelSize})", input, KernelSize, Stride, Padding, Dilation, CeilMode).Output;

    /// <summary>The pooled output and the index (into L) of each maximum.</summary>
    public (Tensor Output, Tensor Indices) ForwardWithIndices(Tensor input)
    {
        var (y, i) = Functional.MaxPool1dCore($"MaxPool1d(kernel_size={KernelSize})", input, KernelSize, Stride, Padding, Dilation, CeilMode, wantIndices: true);
        return (y, i!);
    }

    protected override string ExtraRepr() => $"kernel_size={KernelSize}, stride={Stride}, padding={Padding}, dilation={Dilation}, ceil_mode={(CeilMode ? "True" : "False")}";
}
