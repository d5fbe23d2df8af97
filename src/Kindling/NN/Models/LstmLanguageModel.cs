namespace Kindling.NN;

/// <summary>
/// A character (or token) language model: <c>Embedding(V, width)</c> → <c>LSTM(width, width, layers, batch_first)</c>
/// → <c>Linear(width, V)</c>, the char-rnn shape. Input ids int64 (B, T) → logits (B, T, V) predicting each next token.
/// State-dict names: <c>embedding.weight</c>, <c>lstm.weight_ih_l0</c> … (PyTorch's nn.LSTM names), <c>head.weight</c>,
/// <c>head.bias</c>, so the same module written in PyTorch loads both ways. The recurrent state is the natural cache
/// for generation: <see cref="Forward(Tensor, ValueTuple{Tensor, Tensor}?)"/> continues from it.
/// </summary>
public sealed class LstmLanguageModel : Module, ILanguageModel
{
    /// <summary>The token table (V, width).</summary>
    public Embedding Embedding { get; }
    /// <summary>The recurrent stack (batch_first).</summary>
    public LSTM Lstm { get; }
    /// <summary>The output projection (V, width).</summary>
    public Linear Head { get; }
    /// <summary>V.</summary>
    public int VocabSize { get; }

    /// <param name="vocabSize">V.</param>
    /// <param name="width">Embedding and hidden size (default 256).</param>
    /// <param name="layers">LSTM layers (default 2).</param>
    /// <param name="dropout">Dropout between LSTM layers (default 0).</param>
    /// <param name="generator">Initialisation randomness.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    public LstmLanguageModel(int vocabSize, int width = 256, int layers = 2, double dropout = 0, Generator? generator = null, DType dtype = DType.Float32)
    {
        VocabSize = vocabSize;
        Embedding = RegisterModule("embedding", new Embedding(vocabSize, width, generator: generator, dtype: dtype));
        Lstm = RegisterModule("lstm", new LSTM(width, width, layers, batchFirst: true, dropout: dropout, generator: generator, dtype: dtype));
        Head = RegisterModule("head", new Linear(width, vocabSize, generator: generator, dtype: dtype));
    }

    /// <summary>Logits (B, T, V) for ids (B, T), from a zero state.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null).Logits;

    /// <summary>Logits (B, T, V) and the final (h, c), continuing from <paramref name="state"/> (null: zeros).</summary>
    public (Tensor Logits, (Tensor H, Tensor C) State) Forward(Tensor ids, (Tensor H, Tensor C)? state)
    {
        if (ids.Rank != 2) throw new ArgumentException($"LstmLanguageModel: ids must be (batch, time), got {ids.ShapeString}.");
        int b = ids.Dims[0], t = ids.Dims[1];
        var (h, next) = Lstm.Forward(Embedding.Call(ids), state);
        var logits = Head.Call(h.Reshape(b * t, h.Dims[2])).Reshape(b, t, VocabSize);
        return (logits, next);
    }

    /// <inheritdoc/>
    public int? ContextSize => null;

    /// <inheritdoc/>
    public Tensor Logits(Tensor ids) => Forward(ids, null).Logits;

    /// <inheritdoc/>
    public ILanguageModelDecoder StartDecoding() => new Decoder(this);

    // The recurrent state is the whole cache: each new chunk continues from it.
    private sealed class Decoder(LstmLanguageModel model) : ILanguageModelDecoder
    {
        private (Tensor H, Tensor C)? _state;

        public float[] Append(ReadOnlySpan<int> ids)
        {
            if (ids.Length == 0) throw new ArgumentException("Append: give at least one token.");
            var x = new long[ids.Length];
            for (int i = 0; i < x.Length; i++) x[i] = ids[i];
            using var _ = Autograd.NoGrad();
            var (logits, state) = model.Forward(Tensor.Wrap(x, [1, x.Length]), _state);
            _state = (state.H.Detach(), state.C.Detach());
            return logits.Select(1, x.Length - 1).Reshape(model.VocabSize).ToFloat32().ToArray();
        }
    }
}
