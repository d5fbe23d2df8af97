namespace Kindling.NN;

/// <summary>
/// One Elman step (PyTorch's <c>nn.RNNCell</c>): h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh), or relu. input (B, in) or
/// (in); hx (B, H) or (H), zeros when null → h' of hx's shape.
/// </summary>
public sealed class RNNCell : RNNCellBase
{
    public string Nonlinearity { get; }

    public RNNCell(int inputSize, int hiddenSize, bool bias = true, string nonlinearity = "tanh", Generator? generator = null, DType dtype = DType.Float32)
        : base(RNN.ParseMode(nonlinearity), inputSize, hiddenSize, bias, generator, dtype) => Nonlinearity = nonlinearity;

    public Tensor Forward(Tensor input, Tensor? hx) => Step(input, hx, null).H;

    public override Tensor Forward(Tensor input) => Forward(input, null);
}
