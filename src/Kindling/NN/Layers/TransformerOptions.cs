namespace Kindling.NN;

/// <summary>The options every transformer layer shares, kept so that stacks can build identical copies (PyTorch's deepcopy in <c>_get_clones</c>).</summary>
internal sealed record TransformerOptions(int DModel, int NHead, int DimFeedforward, double Dropout, string Activation, double LayerNormEps,
    bool BatchFirst, bool NormFirst, Generator? Generator, DType DType)
{
    /// <summary>"relu" or "gelu" (exact), PyTorch's two named activations.</summary>
    public static string CheckActivation(string activation) => activation is "relu" or "gelu"
        ? activation
        : throw new ArgumentException($"Transformer: activation must be 'relu' or 'gelu', got '{activation}'.", nameof(activation));

    public Tensor Activate(Tensor x) => Activation == "relu" ? x.Relu() : x.Gelu();
}
