namespace Kindling.NN;

/// <summary>
/// 1-D convolution layer (PyTorch's <c>nn.Conv1d</c>): weight (out_channels, in_channels/groups, kernel_size), bias
/// (out_channels). Defaults: stride 1, padding 0 (an int, "same" or "valid"), dilation 1, groups 1, bias true,
/// padding_mode "zeros" (or "reflect", "replicate", "circular"). Initialised like PyTorch (kaiming_uniform, a = √5;
/// bias U(±1/√fan_in)). Input (N, C, L) or (C, L).
/// </summary>
public sealed class Conv1d : Module
{
    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public int InChannels { get; }
    public int OutChannels { get; }
    public int KernelSize { get; }
    public int Stride { get; }
    public ConvPadding Padding { get; }
    public int Dilation { get; }
    public int Groups { get; }
    public string PaddingMode { get; }
    private readonly string _name;

    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride = 1, ConvPadding? padding = null, int dilation = 1,
        int groups = 1, bool bias = true, string paddingMode = "zeros", Generator? generator = null, DType dtype = DType.Float32)
    {
        _name = $"Conv1d({inChannels}, {outChannels}, kernel_size={kernelSize})";
        foreach (var (name, value) in new[] { ("in_channels", inChannels), ("out_channels", outChannels), ("kernel_size", kernelSize), ("stride", stride), ("dilation", dilation) })
            if (value <= 0) throw new ArgumentOutOfRangeException(name, value, $"{_name}: {name} must be positive, got {value}.");
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"{_name}: groups = {groups} must be positive and divide both in_channels ({inChannels}) and out_channels ({outChannels}).", nameof(groups));
        if (paddingMode is not ("zeros" or "reflect" or "replicate" or "circular"))
            throw new ArgumentException($"{_name}: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', got '{paddingMode}'.", nameof(paddingMode));
        var p = padding ?? 0;
        if (!p.Same && p.Size.H != p.Size.W) throw new ArgumentException($"{_name}: padding must be an int, 'same' or 'valid', got {p}.", nameof(padding));
        if (p.Same && stride != 1) throw new ArgumentException($"{_name}: padding='same' is not supported for strided convolutions (stride {stride}).", nameof(padding));
        InChannels = inChannels; OutChannels = outChannels; KernelSize = kernelSize; Stride = stride; Padding = p;
        Dilation = dilation; Groups = groups; PaddingMode = paddingMode;
        Weight = RegisterParameter("weight", Tensor.Zeros([outChannels, inChannels / groups, kernelSize], dtype));
        if (bias) Bias = RegisterParameter("bias", Tensor.Zeros([outChannels], dtype));
        ConvInit.ResetParameters(Weight, Bias, generator);
    }

    public override Tensor Forward(Tensor input)
    {
        if (input.Rank is not (2 or 3) || input.Size(-2) != InChannels)
            throw new ArgumentException($"{_name}: expected input (N, {InChannels}, L) or ({InChannels}, L), got {input.ShapeString}.", nameof(input));
        if (PaddingMode == "zeros") return Functional.Conv1dCore(_name, input, Weight, Bias, Stride, Padding, Dilation, Groups);
        int t = Dilation * (KernelSize - 1);
        int[] pad = Padding.Same ? [t / 2, t - t / 2] : [Padding.Size.W, Padding.Size.W];
        return Functional.Conv1dCore(_name, Functional.Pad(input, pad, PaddingMode), Weight, Bias, Stride, 0, Dilation, Groups);
    }

    protected override string ExtraRepr()
    {
        var s = $"{InChannels}, {OutChannels}, kernel_size=({KernelSize},), stride=({Stride},)";
        if (Padding.Same) s += ", padding=same";
        else if (Padding.Size.W != 0) s += $", padding=({Padding.Size.W},)";
        if (Dilation != 1) s += $", dilation=({Dilation},)";
        if (Groups != 1) s += $", groups={Groups}";
        if (Bias == null) s += ", bias=False";
        if (PaddingMode != "zeros") s += $", padding_mode={PaddingMode}";
        return s;
    }
}
