namespace Kindling.NN;

/// <summary>
/// One transformer encoder block (PyTorch 1.13's <c>nn.TransformerEncoderLayer</c>): self-attention then a feed-forward
/// network linear2(dropout(activation(linear1(x)))), each wrapped in a residual connection and LayerNorm — after the
/// residual by default (x = norm1(x + sa(x)); x = norm2(x + ff(x))), before the block with norm_first
/// (x = x + sa(norm1(x)); x = x + ff(norm2(x))). Input (S, N, E), or (N, S, E) with batch_first, or unbatched (S, E).
/// Defaults as PyTorch: dim_feedforward 2048, dropout 0.1, activation "relu" (or "gelu"), layer_norm_eps 1e-5,
/// batch_first false, norm_first false. Children and state-dict names: self_attn, linear1, dropout, linear2, norm1,
/// norm2, dropout1, dropout2.
/// </summary>
public sealed class TransformerEncoderLayer : Module
{
    public MultiheadAttention SelfAttn { get; }
    public Linear Linear1 { get; }
    public Linear Linear2 { get; }
    public LayerNorm Norm1 { get; }
    public LayerNorm Norm2 { get; }
    private readonly Dropout _dropout, _dropout1, _dropout2;
    public bool NormFirst { get; }
    public string Activation { get; }
    internal readonly TransformerOptions Options;

    public TransformerEncoderLayer(int dModel, int nhead, int dimFeedforward = 2048, double dropout = 0.1, string activation = "relu",
        double layerNormEps = 1e-5, bool batchFirst = false, bool normFirst = false, Generator? generator = null, DType dtype = DType.Float32)
    {
        Options = new TransformerOptions(dModel, nhead, dimFeedforward, dropout, TransformerOptions.CheckActivation(activation), layerNormEps, batchFirst, normFirst, generator, dtype);
        NormFirst = normFirst; Activation = activation;
        SelfAttn = RegisterModule("self_attn", new MultiheadAttention(dModel, nhead, dropout, batchFirst: batchFirst, generator: generator, dtype: dtype));
        Linear1 = RegisterModule("linear1", new Linear(dModel, dimFeedforward, generator: generator, dtype: dtype));
        _dropout = RegisterModule("dropout", new Dropout(dropout, generator));
        Linear2 = RegisterModule("linear2", new Linear(dimFeedforward, dModel, generator: generator, dtype: dtype));
        Norm1 = RegisterModule("norm1", new LayerNorm(dModel, layerNormEps, dtype: dtype));
        Norm2 = RegisterModule("norm2", new LayerNorm(dModel, layerNormEps, dtype: dtype));
        _dropout1 = RegisterModule("dropout1", new Dropout(dropout, generator));
        _dropout2 = RegisterModule("dropout2", new Dropout(dropout, generator));
    }

    /// <summary>The layer without masks.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null, null);

    /// <summary>
    /// PyTorch's <c>forward(src, src_mask=None, src_key_padding_mask=None)</c>; masks as <see cref="MultiheadAttention"/>.
    /// <paramref name="isCausal"/>: causal self-attention without a mask tensor (PyTorch 2's <c>is_causal</c>).
    /// </summary>
    public Tensor Forward(Tensor src, Tensor? srcMask, Tensor? srcKeyPaddingMask, bool isCausal = false) =>
        CallWith(() => ForwardCore(src, srcMask, srcKeyPaddingMask, isCausal));

    private Tensor ForwardCore(Tensor src, Tensor? srcMask, Tensor? srcKeyPaddingMask, bool isCausal)
    {
        var x = src;
        if (NormFirst)
        {
            x = x + SaBlock(Norm1.Call(x), srcMask, srcKeyPaddingMask, isCausal);
            return x + FfBlock(Norm2.Call(x));
        }
        x = Norm1.Call(x + SaBlock(x, srcMask, srcKeyPaddingMask, isCausal));
        return Norm2.Call(x + FfBlock(x));
    }

    private Tensor SaBlock(Tensor x, Tensor? mask, Tensor? kpm, bool isCausal) =>
        _dropout1.Call(SelfAttn.Forward(x, x, x, kpm, needWeights: false, attnMask: mask, isCausal: isCausal).Output);

    private Tensor FfBlock(Tensor x) => _dropout2.Call(Linear2.Call(_dropout.Call(Options.Activate(Linear1.Call(x)))));
}
