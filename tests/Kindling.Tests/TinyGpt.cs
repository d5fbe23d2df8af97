using Kindling.NN;

namespace Kindling.Tests;

/// <summary>
/// The tiny GPT of tools/parity/gen_gpt_trajectory.py, with PyTorch's state-dict names: token and position
/// embeddings (a lookup over a weight parameter, IndexSelect), pre-LayerNorm blocks of causal MultiheadAttention and a
/// GELU-tanh MLP, a final LayerNorm and an output layer tied to the token embedding.
/// </summary>
internal sealed class TinyGpt : Module
{
    public sealed class Lookup : Module
    {
        public Tensor Weight { get; }
        public Lookup(Tensor weight) => Weight = RegisterParameter("weight", weight);
        public override Tensor Forward(Tensor idx) => Weight.IndexSelect(0, idx.Reshape(-1)).Reshape([.. idx.Shape, Weight.Dims[1]]);
    }

    private sealed class Mlp : Module
    {
        private readonly Linear _fc, _proj;
        private readonly GELU _gelu;
        public Mlp(int e, DType dt)
        {
            _fc = RegisterModule("c_fc", new Linear(e, 4 * e, dtype: dt));
            _gelu = RegisterModule("gelu", new GELU("tanh"));
            _proj = RegisterModule("c_proj", new Linear(4 * e, e, dtype: dt));
        }
        public override Tensor Forward(Tensor x) => _proj.Call(_gelu.Call(_fc.Call(x)));
    }

    private sealed class Block : Module
    {
        private readonly LayerNorm _ln1, _ln2;
        private readonly MultiheadAttention _attn;
        private readonly Mlp _mlp;
        public Block(int e, int h, DType dt)
        {
            _ln1 = RegisterModule("ln_1", new LayerNorm(e, dtype: dt));
            _attn = RegisterModule("attn", new MultiheadAttention(e, h, batchFirst: true, dtype: dt));
            _ln2 = RegisterModule("ln_2", new LayerNorm(e, dtype: dt));
            _mlp = RegisterModule("mlp", new Mlp(e, dt));
        }
        public Tensor Forward(Tensor x, KeyValueCache? cache) => CallWith(() =>
        {
            var h = _ln1.Call(x);
            x = x + _attn.Forward(h, h, h, needWeights: false, isCausal: true, cache: cache).Output;
            return x + _mlp.Call(_ln2.Call(x));
        });
        public override Tensor Forward(Tensor x) => Forward(x, null);
    }

    private readonly Block[] _blocks;
    public Lookup Wte { get; }
    public Lookup Wpe { get; }
    public LayerNorm LnF { get; }
    public Linear LmHead { get; }

    public TinyGpt(int vocab, int context, int width, int heads, int layers, DType dt)
    {
        // The output layer's weight is created once and registered by both the embedding and the head (weight tying).
        var shared = Tensor.Zeros([vocab, width], dt);
        Wte = RegisterModule("wte", new Lookup(shared));
        Wpe = RegisterModule("wpe", new Lookup(Tensor.Zeros([context, width], dt)));
        var h = RegisterModule("h", new ModuleList());
        _blocks = Enumerable.Range(0, layers).Select(_ => h.Add(new Block(width, heads, dt))).ToArray();
        LnF = RegisterModule("ln_f", new LayerNorm(width, dtype: dt));
        LmHead = RegisterModule("lm_head", new Linear(Wte.Weight, null));
    }

    /// <summary>Logits (N, T, V) for token ids (N, T); with caches (one per block) only the new positions are given.</summary>
    public Tensor Logits(Tensor idx, KeyValueCache[]? caches = null) => CallWith(() =>
    {
        int past = caches?[0].Length ?? 0;
        var pos = Tensor.Arange(past, past + idx.Dims[1], 1, DType.Int64);
        var x = Wte.Call(idx) + Wpe.Call(pos);
        for (int i = 0; i < _blocks.Length; i++) x = _blocks[i].Forward(x, caches?[i]);
        return LmHead.Call(LnF.Call(x));
    });

    /// <summary>nanoGPT's loss: cross-entropy over (N, C, T) logits with ignore_index −1 and label smoothing 0.1.</summary>
    public Tensor Loss(Tensor idx, Tensor targets) =>
        Functional.CrossEntropy(Logits(idx).Transpose(1, 2), targets, ignoreIndex: -1, labelSmoothing: 0.1);
}
