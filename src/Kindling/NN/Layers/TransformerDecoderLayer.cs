namespace Kindling.NN;

/// <summary>
/// One transformer decoder block (PyTorch 1.13's <c>nn.TransformerDecoderLayer</c>): self-attention over the target,
/// attention from the target to the encoder's output (memory), then the feed-forward network, each with a residual
/// connection and LayerNorm — after (default) or before (norm_first) the block:
/// x = norm1(x + sa(x)); x = norm2(x + mha(x, memory)); x = norm3(x + ff(x)). tgt (T, N, E) and memory (S, N, E), or
/// batch first. Defaults and names as PyTorch: self_attn, multihead_attn, linear1, dropout, linear2, norm1–3, dropout1–3.
/// </summary>
public sealed class TransformerDecoderLayer : Module
{
    public MultiheadAttention SelfAttn { get; }
    public MultiheadAttention MultiheadAttn { get; }
    public Linear Linear1 { get; }
    public Linear Linear2 { get; }
    public LayerNorm Norm1 { get; }
    public LayerNorm Norm2 { get; }
    public LayerNorm Norm3 { get; }
    private readonly Dropout _dropout, _dropout1, _dropout2, _dropout3;
    public bool NormFirst { get; }
    internal readonly TransformerOptions Options;

    public TransformerDecoderLayer(int dModel, int nhead, int dimFeedforward = 2048, double dropout = 0.1, string activation = "relu",
        double layerNormEps = 1e-5, bool batchFirst = false, bool normFirst = false, Generator? generator = null, DType dtype = DType.Float32)
    {
        Options = new TransformerOptions(dModel, nhead, dimFeedforward, dropout, TransformerOptions.CheckActivation(activation), layerNormEps, batchFirst, normFirst, generator, dtype);
        NormFirst = normFirst;
        SelfAttn = RegisterModule("self_attn", new MultiheadAttention(dModel, nhead, dropout, batchFirst: batchFirst, generator: generator, dtype: dtype));
        MultiheadAttn = RegisterModule("multihead_attn", new MultiheadAttention(dModel, nhead, dropout, batchFirst: batchFirst, generator: generator, dtype: dtype));
        Linear1 = RegisterModule("linear1", new Linear(dModel, dimFeedforward, generator: generator, dtype: dtype));
        _dropout = RegisterModule("dropout", new Dropout(dropout, generator));
        Linear2 = RegisterModule("linear2", new Linear(dimFeedforward, dModel, generator: generator, dtype: dtype));
        Norm1 = RegisterModule("norm1", new LayerNorm(dModel, layerNormEps, dtype: dtype));
        Norm2 = RegisterModule("norm2", new LayerNorm(dModel, layerNormEps, dtype: dtype));
        Norm3 = RegisterModule("norm3", new LayerNorm(dModel, layerNormEps, dtype: dtype));
        _dropout1 = RegisterModule("dropout1", new Dropout(dropout, generator));
        _dropout2 = RegisterModule("dropout2", new Dropout(dropout, generator));
        _dropout3 = RegisterModule("dropout3", new Dropout(dropout, generator));
    }

    /// <summary>
    /// PyTorch's <c>forward(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask)</c>.
    /// <paramref name="tgtIsCausal"/>: causal self-attention without a mask tensor.
    /// </summary>
    public Tensor Forward(Tensor tgt, Tensor memory, Tensor? tgtMask = null, Tensor? memoryMask = null, Tensor? tgtKeyPaddingMask = null,
        Tensor? memoryKeyPaddingMask = null, bool tgtIsCausal = false) =>
        CallWith(() => ForwardCore(tgt, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask, tgtIsCausal));

    private Tensor ForwardCore(Tensor tgt, Tensor memory, Tensor? tgtMask, Tensor? memoryMask, Tensor? tgtKeyPaddingMask, Tensor? memoryKeyPaddingMask, bool tgtIsCausal)
    {
        var x = tgt;
        if (NormFirst)
        {
            x = x + SaBlock(Norm1.Call(x), tgtMask, tgtKeyPaddingMask, tgtIsCausal);
            x = x + MhaBlock(Norm2.Call(x), memory, memoryMask, memoryKeyPaddingMask);
            return x + FfBlock(Norm3.Call(x));
        }
        x = Norm1.Call(x + SaBlock(x, tgtMask, tgtKeyPaddingMask, tgtIsCausal));
        x = Norm2.Call(x + MhaBlock(x, memory, memoryMask, memoryKeyPaddingMask));
        return Norm3.Call(x + FfBlock(x));
    }

    private Tensor SaBlock(Tensor x, Tensor? mask, Tensor? kpm, bool isCausal) =>
        _dropout1.Call(SelfAttn.Forward(x, x, x, kpm, needWeights: false, attnMask: mask, isCausal: isCausal).Output);

    private Tensor MhaBlock(Tensor x, Tensor mem, Tensor? mask, Tensor? kpm) =>
        _dropout2.Call(MultiheadAttn.Forward(x, mem, mem, kpm, needWeights: false, attnMask: mask).Output);

    private Tensor FfBlock(Tensor x) => _dropout3.Call(Linear2.Call(_dropout.Call(Options.Activate(Linear1.Call(x)))));
}
