namespace Kindling.NN;

/// <summary>The shape of a <see cref="GPT"/>: nanoGPT's <c>GPTConfig</c> (its CPU configuration: 4 layers, 4 heads, width 128, context 64).</summary>
/// <param name="VocabSize">V.</param>
/// <param name="BlockSize">The longest context (position embeddings).</param>
/// <param name="Layers">Transformer blocks.</param>
/// <param name="Heads">Attention heads per block (must divide <paramref name="Width"/>).</param>
/// <param name="Width">Embedding width C.</param>
/// <param name="Dropout">Dropout on embeddings, attention output and MLP output (0 in nanoGPT's small runs).</param>
public sealed record GPTConfig(int VocabSize, int BlockSize = 64, int Layers = 4, int Heads = 4, int Width = 128, double Dropout = 0);

/// <summary>
/// A decoder-only transformer in nanoGPT's shape: token and position embeddings, <c>Layers</c> pre-LayerNorm blocks
/// (x + attn(ln_1(x)), x + mlp(ln_2(x)); causal self-attention through <see cref="Functional.ScaledDotProductAttention"/>'s
/// blocked online-softmax kernel; MLP C → 4C → GELU → C), a final LayerNorm, and logits through the token embedding
/// (weight tying: the output projection is wte's weight, one parameter). Input ids int64 (B, T ≤ BlockSize) → logits
/// (B, T, V). Initialisation as nanoGPT: N(0, 0.02) for weights and embeddings, the residual projections (c_proj)
/// N(0, 0.02/√(2·Layers)), zero biases. State-dict names are nanoGPT's (<c>transformer.wte.weight</c>,
/// <c>transformer.h.0.attn.c_attn.weight</c>, …; with biases, as nanoGPT's <c>bias=True</c>).
/// </summary>
public sealed class GPT : Module, ILanguageModel
{
    /// <summary>The configuration.</summary>
    public GPTConfig Config { get; }
    private readonly Embedding _wte, _wpe;
    private readonly ModuleList _h;
    private readonly LayerNorm _lnF;
    private readonly Dropout _drop;

    public GPT(GPTConfig config, Generator? generator = null, DType dtype = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.VocabSize < 1 || config.BlockSize < 1 || config.Layers < 1 || config.Width < 1)
            throw new ArgumentOutOfRangeException(nameof(config), $"GPT: vocabulary, block size, layers and width must be positive, got {config}.");
        if (config.Heads < 1 || config.Width % config.Heads != 0)
            throw new ArgumentException($"GPT: heads ({config.Heads}) must divide the width ({config.Width}).", nameof(config));
        Config = config;
        var g = generator ?? Generator.Default;
        var transformer = RegisterModule("transformer", new Container());
        _wte = transformer.Add("wte", new Embedding(config.VocabSize, config.Width, generator: g, dtype: dtype));
        _wpe = transformer.Add("wpe", new Embedding(config.BlockSize, config.Width, generator: g, dtype: dtype));
        _drop = transformer.Add("drop", new Dropout(config.Dropout, g));
        _h = transformer.Add("h", new ModuleList());
        for (int i = 0; i < config.Layers; i++) _h.Add(new Block(config, g, dtype));
        _lnF = transformer.Add("ln_f", new LayerNorm(config.Width, dtype: dtype));
        foreach (var (name, p) in NamedParameters())
        {
            if (name.EndsWith(".bias", StringComparison.Ordinal) || name.Contains(".ln_", StringComparison.Ordinal)) continue;
            double std = name.EndsWith("c_proj.weight", StringComparison.Ordinal) ? 0.02 / Math.Sqrt(2.0 * config.Layers) : 0.02;
            Init.Normal_(p, 0, std, g);
        }
        foreach (var (name, p) in NamedParameters())
            if (name.EndsWith(".bias", StringComparison.Ordinal) && !name.Contains(".ln_", StringComparison.Ordinal)) Init.Zeros_(p);
    }

    /// <inheritdoc/>
    public int VocabSize => Config.VocabSize;

    /// <inheritdoc/>
    public int? ContextSize => Config.BlockSize;

    /// <inheritdoc/>
    public Tensor Logits(Tensor ids) => Forward(ids);

    /// <summary>Logits (B, T, V) for ids (B, T).</summary>
    public override Tensor Forward(Tensor input) => Run(input, null, 0);

    private Tensor Run(Tensor ids, KeyValueCache[]? caches, int start)
    {
        if (ids.Rank != 2) throw new ArgumentException($"GPT: ids must be (batch, time), got {ids.ShapeString}.");
        int b = ids.Dims[0], t = ids.Dims[1];
        if (start + t > Config.BlockSize)
            throw new ArgumentException($"GPT: a sequence of {start + t} tokens is longer than the block size {Config.BlockSize}.");
        var pos = new long[t];
        for (int i = 0; i < t; i++) pos[i] = start + i;
        var x = _drop.Call(_wte.Call(ids) + _wpe.Call(Tensor.Wrap(pos, [t])));
        for (int i = 0; i < _h.Count; i++) x = ((Block)_h[i]).Run(x, caches?[i]);
        x = _lnF.Call(x);
        return Functional.Linear(x.Reshape(b * t, Config.Width), _wte.Weight, null).Reshape(b, t, Config.VocabSize);
    }

    /// <inheritdoc/>
    public ILanguageModelDecoder StartDecoding() => new Decoder(this);

    // One key/value cache per block: each new chunk attends to every cached position before it.
    private sealed class Decoder(GPT model) : ILanguageModelDecoder
    {
        private readonly KeyValueCache[] _caches = Enumerable.Range(0, model.Config.Layers).Select(_ => new KeyValueCache()).ToArray();
        private int _length;

        public float[] Append(ReadOnlySpan<int> ids)
        {
            if (ids.Length == 0) throw new ArgumentException("Append: give at least one token.");
            var x = new long[ids.Length];
            for (int i = 0; i < x.Length; i++) x[i] = ids[i];
            using var _ = Autograd.NoGrad();
            var logits = model.Run(Tensor.Wrap(x, [1, x.Length]), _caches, _length);
            _length += x.Length;
            return logits.Select(1, x.Length - 1).Reshape(model.VocabSize).ToFloat32().ToArray();
        }
    }

    /// <summary>A named holder of children (nanoGPT's <c>transformer</c> ModuleDict).</summary>
    private sealed class Container : Module
    {
        public T Add<T>(string name, T module) where T : Module => RegisterModule(name, module);
    }

    private sealed class Block : Module
    {
        private readonly LayerNorm _ln1, _ln2;
        private readonly SelfAttention _attn;
        private readonly Mlp _mlp;

        public Block(GPTConfig c, Generator g, DType dtype)
        {
            _ln1 = RegisterModule("ln_1", new LayerNorm(c.Width, dtype: dtype));
            _attn = RegisterModule("attn", new SelfAttention(c, g, dtype));
            _ln2 = RegisterModule("ln_2", new LayerNorm(c.Width, dtype: dtype));
            _mlp = RegisterModule("mlp", new Mlp(c, g, dtype));
        }

        public Tensor Run(Tensor x, KeyValueCache? cache)
        {
            x = x + _attn.Run(_ln1.Call(x), cache);
            return x + _mlp.Call(_ln2.Call(x));
        }
    }

    private sealed class SelfAttention : Module
    {
        private readonly Linear _cAttn, _cProj;
        private readonly Dropout _residDrop;
        private readonly int _heads, _width;

        public SelfAttention(GPTConfig c, Generator g, DType dtype)
        {
            _heads = c.Heads; _width = c.Width;
            _cAttn = RegisterModule("c_attn", new Linear(c.Width, 3 * c.Width, generator: g, dtype: dtype));
            _cProj = RegisterModule("c_proj", new Linear(c.Width, c.Width, generator: g, dtype: dtype));
            _residDrop = RegisterModule("resid_dropout", new Dropout(c.Dropout, g));
        }

        public Tensor Run(Tensor x, KeyValueCache? cache) => CallWith(() =>
        {
            int b = x.Dims[0], t = x.Dims[1], hd = _width / _heads;
            var qkv = _cAttn.Call(x.Reshape(b * t, _width)).Reshape(b, t, 3 * _width);
            Tensor q = qkv.Narrow(2, 0, _width), k = qkv.Narrow(2, _width, _width), v = qkv.Narrow(2, 2 * _width, _width);
            int past = cache?.Length ?? 0;
            if (cache != null) (k, v) = cache.Append(k.Contiguous(), v.Contiguous());
            int s = k.Dims[1];
            // (B, T, C) → (B, heads, T, head size)
            Tensor Heads(Tensor m, int len) => m.Reshape(b, len, _heads, hd).Transpose(1, 2);
            Tensor y;
            if (past == 0) y = Functional.ScaledDotProductAttention(Heads(q, t), Heads(k, s), Heads(v, s), isCausal: true);
            else if (t == 1) y = Functional.ScaledDotProductAttention(Heads(q, t), Heads(k, s), Heads(v, s));
            else y = Functional.ScaledDotProductAttention(Heads(q, t), Heads(k, s), Heads(v, s), Functional.CausalMask(t, s, past, x.DType));
            y = y.Transpose(1, 2).Contiguous().Reshape(b * t, _width);
            return _residDrop.Call(_cProj.Call(y).Reshape(b, t, _width));
        });
    }

    private sealed class Mlp : Module
    {
        private readonly Linear _cFc, _cProj;
        private readonly GELU _gelu;
        private readonly Dropout _drop;

        public Mlp(GPTConfig c, Generator g, DType dtype)
        {
            _cFc = RegisterModule("c_fc", new Linear(c.Width, 4 * c.Width, generator: g, dtype: dtype));
            _gelu = RegisterModule("gelu", new GELU());
            _cProj = RegisterModule("c_proj", new Linear(4 * c.Width, c.Width, generator: g, dtype: dtype));
            _drop = RegisterModule("dropout", new Dropout(c.Dropout, g));
        }

        public override Tensor Forward(Tensor x)
        {
            int b = x.Dims[0], t = x.Dims[1], w = x.Dims[2];
            var h = _cProj.Call(_gelu.Call(_cFc.Call(x.Reshape(b * t, w))));
            return _drop.Call(h.Reshape(b, t, w));
        }
    }
}
