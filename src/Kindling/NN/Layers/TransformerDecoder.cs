namespace Kindling.NN;

/// <summary>
/// A stack of <c>numLayers</c> decoder layers (PyTorch 1.13's <c>nn.TransformerDecoder</c>), copies of
/// <c>decoderLayer</c>, then an optional final norm. Names: layers.0…, norm.
/// </summary>
public sealed class TransformerDecoder : Module
{
    private readonly TransformerDecoderLayer[] _layers;
    public IReadOnlyList<TransformerDecoderLayer> Layers => _layers;
    public Module? Norm { get; }

    public TransformerDecoder(TransformerDecoderLayer decoderLayer, int numLayers, Module? norm = null)
    {
        if (numLayers <= 0) throw new ArgumentOutOfRangeException(nameof(numLayers), $"TransformerDecoder: num_layers must be positive, got {numLayers}.");
        var stack = RegisterModule("layers", new ModuleList());
        var state = decoderLayer.StateDict();
        var o = decoderLayer.Options;
        _layers = new TransformerDecoderLayer[numLayers];
        for (int i = 0; i < numLayers; i++)
        {
            var l = new TransformerDecoderLayer(o.DModel, o.NHead, o.DimFeedforward, o.Dropout, o.Activation, o.LayerNormEps, o.BatchFirst, o.NormFirst, o.Generator, o.DType);
            l.LoadStateDict(state);
            _layers[i] = stack.Add(l);
        }
        if (norm != null) Norm = RegisterModule("norm", norm);
    }

    /// <summary>PyTorch's <c>forward(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask)</c>.</summary>
    public Tensor Forward(Tensor tgt, Tensor memory, Tensor? tgtMask = null, Tensor? memoryMask = null, Tensor? tgtKeyPaddingMask = null,
        Tensor? memoryKeyPaddingMask = null, bool tgtIsCausal = false) => CallWith(() =>
    {
        var x = tgt;
        foreach (var l in _layers) x = l.Forward(x, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask, tgtIsCausal);
        return Norm != null ? Norm.Call(x) : x;
    });
}
