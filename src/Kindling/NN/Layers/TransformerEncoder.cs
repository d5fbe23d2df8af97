namespace Kindling.NN;

/// <summary>
/// A stack of <c>numLayers</c> encoder layers (PyTorch 1.13's <c>nn.TransformerEncoder</c>), then an optional
/// final norm. As in PyTorch every layer starts as an exact copy of <c>encoderLayer</c> (its options and
/// weights; the prototype itself is not one of them). Names: layers.0…, norm.
/// </summary>
public sealed class TransformerEncoder : Module
{
    private readonly TransformerEncoderLayer[] _layers;
    public IReadOnlyList<TransformerEncoderLayer> Layers => _layers;
    public Module? Norm { get; }

    public TransformerEncoder(TransformerEncoderLayer encoderLayer, int numLayers, Module? norm = null)
    {
        if (numLayers <= 0) throw new ArgumentOutOfRangeException(nameof(numLayers), $"TransformerEncoder: num_layers must be positive, got {numLayers}.");
        var stack = RegisterModule("layers", new ModuleList());
        var state = encoderLayer.StateDict();
        var o = encoderLayer.Options;
        _layers = new TransformerEncoderLayer[numLayers];
        for (int i = 0; i < numLayers; i++)
        {
            var l = new TransformerEncoderLayer(o.DModel, o.NHead, o.DimFeedforward, o.Dropout, o.Activation, o.LayerNormEps, o.BatchFirst, o.NormFirst, o.Generator, o.DType);
            l.LoadStateDict(state);
            _layers[i] = stack.Add(l);
        }
        if (norm != null) Norm = RegisterModule("norm", norm);
    }

    public override Tensor Forward(Tensor input) => Forward(input, null, null);

    /// <summary>PyTorch's <c>forward(src, mask=None, src_key_padding_mask=None)</c>; every layer gets the same masks.</summary>
    public Tensor Forward(Tensor src, Tensor? mask, Tensor? srcKeyPaddingMask, bool isCausal = false) => CallWith(() =>
    {
        var x = src;
        foreach (var l in _layers) x = l.Forward(x, mask, srcKeyPaddingMask, isCausal);
        return Norm != null ? Norm.Call(x) : x;
    });
}
