namespace Kindling.NN;

/// <summary>
/// One LSTM step (PyTorch's <c>nn.LSTMCell</c>), gates (i, f, g, o) as in <see cref="LSTM"/>. input (B, in) or (in);
/// hx = (h, c), each (B, H) or (H), zeros when null → (h', c').
/// </summary>
public sealed class LSTMCell : RNNCellBase
{
    public LSTMCell(int inputSize, int hiddenSize, bool bias = true, Generator? generator = null, DType dtype = DType.Float32)
        : base(Kernels.RecurrentMode.Lstm, inputSize, hiddenSize, bias, generator, dtype) { }

    public (Tensor H, Tensor C) Forward(Tensor input, (Tensor H, Tensor C)? hx)
    {
        var (h, c) = Step(input, hx?.H, hx?.C);
        return (h, c!);
    }

    /// <summary>h' only (for <see cref="Sequential"/>).</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null).H;
}
