namespace Kindling.NN;

/// <summary>
/// The encoder–decoder transformer (PyTorch 1.13's <c>nn.Transformer</c>): memory = encoder(src), output =
/// decoder(tgt, memory), each stack ending in a LayerNorm. Defaults as PyTorch: d_model 512, nhead 8, 6 encoder and 6
/// decoder layers, dim_feedforward 2048, dropout 0.1, relu, layer_norm_eps 1e-5, batch_first false, norm_first false.
/// Every parameter with more than one dimension is re-initialised Xavier-uniform (PyTorch's <c>_reset_parameters</c>).
/// Names: encoder.layers.i…, encoder.norm, decoder.layers.i…, decoder.norm.
/// </summary>
public sealed class Transformer : Module
{
    public TransformerEncoder Encoder { get; }
    public TransformerDecoder Decoder { get; }
    public int DModel { get; }
    public int NHead { get; }
    public bool BatchFirst { get; }

    public Transformer(int dModel = 512, int nhead = 8, int numEncoderLayers = 6, int numDecoderLayers = 6, int dimFeedforward = 2048,
        double dropout = 0.1, string activation = "relu", double layerNormEps = 1e-5, bool batchFirst = false, bool normFirst = false,
        Generator? generator = null, DType dtype = DType.Float32)
    {
        DModel = dModel; NHead = nhead; BatchFirst = batchFirst;
        Encoder = RegisterModule("encoder", new TransformerEncoder(
            new TransformerEncoderLayer(dModel, nhead, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, generator, dtype),
            numEncoderLayers, new LayerNorm(dModel, layerNormEps, dtype: dtype)));
        Decoder = RegisterModule("decoder", new TransformerDecoder(
            new TransformerDecoderLayer(dModel, nhead, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, generator, dtype),
            numDecoderLayers, new LayerNorm(dModel, layerNormEps, dtype: dtype)));
        foreach (var p in Parameters())
            if (p.Rank > 1) Init.XavierUniform_(p, g: generator);
    }

    /// <summary>
    /// PyTorch's <c>forward(src, tgt, src_mask, tgt_mask, memory_mask, src_key_padding_mask, tgt_key_padding_mask,
    /// memory_key_padding_mask)</c>: src (S, N, E), tgt (T, N, E) (batch first: (N, S, E), (N, T, E)); output like tgt.
    /// </summary>
    public Tensor Forward(Tensor src, Tensor tgt, Tensor? srcMask = null, Tensor? tgtMask = null, Tensor? memoryMask = null,
        Tensor? srcKeyPaddingMask = null, Tensor? tgtKeyPaddingMask = null, Tensor? memoryKeyPaddingMask = null) => CallWith(() =>
    {
        int bdim = BatchFirst ? 0 : 1;
        if (src.Rank == 3 && tgt.Rank == 3 && src.Dims[bdim] != tgt.Dims[bdim])
            throw new ArgumentException($"Transformer: the batch number of src {src.ShapeString} and tgt {tgt.ShapeString} must be equal (batch_first {BatchFirst}).");
        if (src.Dims[^1] != DModel || tgt.Dims[^1] != DModel)
            throw new ArgumentException($"Transformer: the feature number of src {src.ShapeString} and tgt {tgt.ShapeString} must be equal to d_model {DModel}.");
        var memory = Encoder.Forward(src, srcMask, srcKeyPaddingMask);
        return Decoder.Forward(tgt, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask);
    });

    /// <summary>
    /// The causal mask for a sequence of <paramref name="size"/> (PyTorch's <c>generate_square_subsequent_mask</c>): a
    /// float (size, size) tensor with −∞ above the diagonal (position i may not see j &gt; i) and 0 elsewhere.
    /// </summary>
    public static Tensor GenerateSquareSubsequentMask(int size, DType dtype = DType.Float32)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), $"GenerateSquareSubsequentMask: size must be positive, got {size}.");
        return Functional.CausalMask(size, size, 0, dtype);
    }
}
