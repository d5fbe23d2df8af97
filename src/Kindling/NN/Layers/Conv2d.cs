namespace Kindling.NN;

/// <summary>
/// 2-D convolution layer (PyTorch's <c>nn.Conv2d</c>): y = conv2d(x, weight, bias) with weight
/// (out_channels, in_channels/groups, kH, kW) and bias (out_channels). Defaults: stride 1, padding 0 (an int, a pair,
/// "same" or "valid"), dilation 1, groups 1 (groups = in_channels is a depthwise convolution), bias true,
/// padding_mode "zeros" (or "reflect", "replicate", "circular": the input is padded first, then convolved unpadded).
/// Initialised like PyTorch: weight kaiming_uniform with a = √5 (U(−1/√fan_in, 1/√fan_in), fan_in = in/groups·kH·kW),
/// bias U(−1/√fan_in, 1/√fan_in). Input (N, C, H, W) or (C, H, W).
/// </summary>
public sealed class Conv2d : Module
{
    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public int InChannels { get; }
    public int OutChannels { get; }
    public Size2 KernelSize { get; }
    public Size2 Stride { get; }
    public ConvPadding Padding { get; }
    public Size2 Dilation { get; }
    public int Groups { get; }
    public string PaddingMode { get; }
    private readonly string _name;

    public Conv2d(int inChannels, int outChannels, Size2 kernelSize, Size2? stride = null, ConvPadding? padding = null, Size2? dilation = null,
        int groups = 1, bool bias = true, string paddingMode = "zeros", Generator? generator = null, DType dtype = DType.Float32)
    {
        _name = $"Conv2d({inChannels}, {outChannels}, kernel_size={ConvNames.Short(kernelSize)})";
        if (inChannels <= 0 || outChannels <= 0) throw new ArgumentOutOfRangeException(nameof(inChannels), $"{_name}: in_channels and out_channels must be positive.");
        if (kernelSize.H <= 0 || kernelSize.W <= 0) throw new ArgumentOutOfRangeException(nameof(kernelSize), $"{_name}: kernel_size must be positive, got {kernelSize}.");
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"{_name}: groups = {groups} must be positive and divide both in_channels ({inChannels}) and out_channels ({outChannels}).", nameof(groups));
        if (paddingMode is not ("zeros" or "reflect" or "replicate" or "circular"))
            throw new ArgumentException($"{_name}: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', got '{paddingMode}'.", nameof(paddingMode));
        InChannels = inChannels; OutChannels = outChannels; KernelSize = kernelSize; Stride = stride ?? 1; Padding = padding ?? 0;
        Dilation = dilation ?? 1; Groups = groups; PaddingMode = paddingMode;
        if (Padding.Same && (Stride.H != 1 || Stride.W != 1))
            throw new ArgumentException($"{_name}: padding='same' is not supported for strided convolutions (stride {Stride}).", nameof(padding));
        Weight = RegisterParameter("weight", Tensor.Zeros([outChannels, inChannels / groups, kernelSize.H, kernelSize.W], dtype));
        if (bias) Bias = RegisterParameter("bias", Tensor.Zeros([outChannels], dtype));
        ConvInit.ResetParameters(Weight, Bias, generator);
    }

    public override Tensor Forward(Tensor input)
    {
        if (input.Rank is not (3 or 4) || input.Size(-3) != InChannels)
            throw new ArgumentException($"{_name}: expected input (N, {InChannels}, H, W) or ({InChannels}, H, W), got {input.ShapeString}.", nameof(input));
        if (PaddingMode == "zeros") return Functional.Conv2dCore(_name, input, Weight, Bias, Stride, Padding, Dilation, Groups);
        int th = Dilation.H * (KernelSize.H - 1), tw = Dilation.W * (KernelSize.W - 1);
        int[] pad = Padding.Same ? [tw / 2, tw - tw / 2, th / 2, th - th / 2] : [Padding.Size.W, Padding.Size.W, Padding.Size.H, Padding.Size.H];
        return Functional.Conv2dCore(_name, Functional.Pad(input, pad, PaddingMode), Weight, Bias, Stride, 0, Dilation, Groups);
    }

    protected override string ExtraRepr()
    {
        var s = $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}";
        if (Padding.Same) s += ", padding=same";
        else if (Padding.Size != new Size2(0, 0)) s += $", padding={Padding.Size}";
        if (Dilation != new Size2(1, 1)) s += $", dilation={Dilation}";
        if (Groups != 1) s += $", groups={Groups}";
        if (Bias == null) s += ", bias=False";
        if (PaddingMode != "zeros") s += $", padding_mode={PaddingMode}";
        return s;
    }
}
