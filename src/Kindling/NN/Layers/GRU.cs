using Kindling.Kernels;

namespace Kindling.NN;

/// <summary>
/// Gated recurrent unit layer (PyTorch's <c>nn.GRU</c>), gates in PyTorch's order (r, z, n):
/// r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz), n = tanh(W_in x + b_in + r·(W_hn h + b_hn)),
/// h' = (1 − z)·n + z·h. Shapes as <see cref="RNN"/>; weight_ih_l0 is (3·hidden, input) stacked (r, z, n).
/// </summary>
public sealed class GRU : RNNBase
{
    public GRU(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
        bool bidirectional = false, Generator? generator = null, DType dtype = DType.Float32)
        : base(RecurrentMode.Gru, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, 0, generator, dtype) { }

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
}
