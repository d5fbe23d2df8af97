namespace Kindling.NN;

/// <summary>
/// Transposed 2-D convolution layer (PyTorch's <c>nn.ConvTranspose2d</c>, "deconvolution"): weight
/// (in_channels, out_channels/groups, kH, kW), bias (out_channels); output size
/// (H − 1)·stride − 2·padding + dilation·(kH − 1) + output_padding + 1. Defaults: stride 1, padding 0, output_padding 0,
/// groups 1, bias true, dilation 1. Initialised like PyTorch: kaiming_uniform (a = √5) with fan_in computed from the
/// weight's dimension 1 (out_channels/groups·kH·kW), bias U(±1/√fan_in).
/// </summary>
public sealed class ConvTranspose2d : Module
{
    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public int InChannels { get; }
    public int OutChannels { get; }
    public Size2 KernelSize { get; }
    public Size2 Stride { get; }
    public Size2 Padding { get; }
    public Size2 OutputPadding { get; }
    public int Groups { get; }
    public Size2 Dilation { get; }
    private readonly string _name;

    public ConvTranspose2d(int inChannels, int outChannels, Size2 kernelSize, Size2? stride = null, Size2? padding = null, Size2? outputPadding = null,
        int groups = 1, bool bias = true, Size2? dilation = null, Generator? generator = null, DType dtype = DType.Float32)
    {
        _name = $"ConvTranspose2d({inChannels}, {outChannels}, kernel_size={ConvNames.Short(kernelSize)})";
        if (inChannels <= 0 || outChannels <= 0 || kernelSize.H <= 0 || kernelSize.W <= 0)
            throw new ArgumentOutOfRangeException(nameof(inChannels), $"{_name}: channels and kernel_size must be positive.");
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"{_name}: groups = {groups} must be positive and divide both in_channels ({inChannels}) and out_channels ({outChannels}).", nameof(groups));
        InChannels = inChannels; OutChannels = outChannels; KernelSize = kernelSize; Stride = stride ?? 1; Padding = padding ?? 0;
        OutputPadding = outputPadding ?? 0; Groups = groups; Dilation = dilation ?? 1;
        if ((OutputPadding.H >= Stride.H && OutputPadding.H >= Dilation.H) || (OutputPadding.W >= Stride.W && OutputPadding.W >= Dilation.W))
            throw new ArgumentException($"{_name}: output_padding {OutputPadding} must be smaller than either stride {Stride} or dilation {Dilation}.", nameof(outputPadding));
        Weight = RegisterParameter("weight", Tensor.Zeros([inChannels, outChannels / groups, kernelSize.H, kernelSize.W], dtype));
        if (bias) Bias = RegisterParameter("bias", Tensor.Zeros([outChannels], dtype));
        ConvInit.ResetParameters(Weight, Bias, generator);
    }

    public override Tensor Forward(Tensor input)
    {
        if (input.Rank is not (3 or 4) || input.Size(-3) != InChannels)
            throw new ArgumentException($"{_name}: expected input (N, {InChannels}, H, W) or ({InChannels}, H, W), got {input.ShapeString}.", nameof(input));
        return Functional.ConvTranspose2dCore(_name, input, Weight, Bias, Stride, Padding, OutputPadding, Groups, Dilation);
    }

    protected override string ExtraRepr()
    {
        var s = $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}";
        if (Padding != new Size2(0, 0)) s += $", padding={Padding}";
        if (Dilation != new Size2(1, 1)) s += $", dilation={Dilation}";
        if (OutputPadding != new Size2(0, 0)) s += $", output_padding={OutputPadding}";
        if (Groups != 1) s += $", groups={Groups}";
        if (Bias == null) s += ", bias=False";
        return s;
    }
}
