using Kindling.Kernels;

namespace Kindling.NN;

/// <summary>
/// Long short-term memory layer (PyTorch's <c>nn.LSTM</c>), gates in PyTorch's order (i, f, g, o):
/// i, f, o = σ(·), g = tanh(·) of x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh; c' = f·c + i·g; h' = o·tanh(c'), then
/// h' = h'·W_hrᵀ when proj_size &gt; 0. Input (T, B, input_size) ((B, T, ·) with batch_first; (T, input_size) unbatched)
/// or a <see cref="PackedSequence"/>; h0 (num_layers·D, B, P), c0 (num_layers·D, B, hidden_size), zeros when omitted
/// (P = proj_size or hidden_size). Output (T, B, D·P), h_n and c_n shaped like h0 and c0.
/// </summary>
public sealed class LSTM : RNNBase
{
    public LSTM(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
        bool bidirectional = false, int projSize = 0, Generator? generator = null, DType dtype = DType.Float32)
        : base(RecurrentMode.Lstm, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, projSize, generator, dtype) { }

    /// <summary>Output and final (h, c) for a padded input; <paramref name="hx"/> = (h0, c0), or null for zeros.</summary>
    public (Tensor Output, (Tensor H, Tensor C) State) Forward(Tensor input, (Tensor H, Tensor C)? hx)
    {
        var (o, h, c) = RunPadded(input, hx?.H, hx?.C);
        return (o, (h, c!));
    }

    /// <summary>Output (packed like the input) and final (h, c), in the input's original batch order.</summary>
    public (PackedSequence Output, (Tensor H, Tensor C) State) Forward(PackedSequence input, (Tensor H, Tensor C)? hx = null)
    {
        var (o, h, c) = RunPacked(input, hx?.H, hx?.C);
        return (o, (h, c!));
    }
}
