using Kindling.Kernels;

namespace Kindling.NN;

/// <summary>
/// Elman recurrent layer (PyTorch's <c>nn.RNN</c>): h_t = tanh(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh), or relu with
/// <c>nonlinearity: "relu"</c>. Input (T, B, input_size) ((B, T, ·) with batch_first; (T, input_size) unbatched) or a
/// <see cref="PackedSequence"/>; h0 (num_layers·D, B, hidden_size), zeros when omitted. Output (T, B, D·hidden_size)
/// and h_n (num_layers·D, B, hidden_size). Options, parameter names and init as <see cref="RNNBase"/>.
/// </summary>
public sealed class RNN : RNNBase
{
    /// <summary>"tanh" (default) or "relu".</summary>
    public string Nonlinearity { get; }

    public RNN(int inputSize, int hiddenSize, int numLayers = 1, string nonlinearity = "tanh", bool bias = true, bool batchFirst = false,
        double dropout = 0, bool bidirectional = false, Generator? generator = null, DType dtype = DType.Float32)
        : base(ParseMode(nonlinearity), inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, 0, generator, dtype)
        => Nonlinearity = nonlinearity;

    internal static RecurrentMode ParseMode(string nonlinearity) => nonlinearity switch
    {
        "tanh" => RecurrentMode.RnnTanh,
        "relu" => RecurrentMode.RnnRelu,
        _ => throw new ArgumentException($"RNN: unknown nonlinearity '{nonlinearity}'; expected \"tanh\" or \"relu\"."),
    };

    /// <summary>Output and final hidden state for a padded input; <paramref name="h0"/> may be null (zeros).</summary>
    public (Tensor Output, Tensor HN) Forward(Tensor input, Tensor? h0)
    {
        var (o, h, _) = RunPadded(input, h0, null);
        return (o, h);
    }

    /// <summary>Output (packed like the input) and final hidden state, in the input's original batch order.</summary>
    public (PackedSequence Output, Tensor HN) Forward(PackedSequence input, Tensor? h0 = null)
    {
        var (o, h, _) = RunPacked(input, h0, null);
        return (o, h);
    }

    protected override string ExtraRepr() => base.ExtraRepr() + (Nonlinearity != "tanh" ? $", nonlinearity='{Nonlinearity}'" : "");
}
