namespace Kindling.NN;

/// <summary>
/// Multi-head attention (PyTorch 1.13's <c>nn.MultiheadAttention</c>): heads h = 1…H of size E/H attend with
/// softmax(q_h·k_hᵀ/√(E/H) + mask)·v_h, where q = query·W_qᵀ + b_q, k = key·W_kᵀ + b_k, v = value·W_vᵀ + b_v; the heads
/// are concatenated and projected by <c>out_proj</c>. Shapes (batch_first false, PyTorch's default): query (L, N, E),
/// key (S, N, kdim), value (S, N, vdim), output (L, N, E); batch_first: (N, L, E) …; unbatched (L, E) also works.
/// Parameters and state-dict names as PyTorch: <c>in_proj_weight</c> (3E, E) when kdim = vdim = E, else
/// <c>q_proj_weight</c> (E, E), <c>k_proj_weight</c> (E, kdim), <c>v_proj_weight</c> (E, vdim); <c>in_proj_bias</c> (3E);
/// <c>bias_k</c>, <c>bias_v</c> (1, 1, E) with add_bias_kv; <c>out_proj.weight</c> (E, E), <c>out_proj.bias</c> (E).
/// Initialisation as PyTorch: Xavier-uniform projections, zero in_proj_bias and out_proj.bias, Xavier-normal bias_k/v,
/// out_proj.weight as Linear. Defaults: dropout 0, bias true, add_bias_kv false, add_zero_attn false, batch_first false.
/// <para>Masks: attn_mask (L, S) or (N·H, L, S), bool (true = blocked) or float (added); key_padding_mask (N, S), bool
/// (true = padding, ignored) or float (added). A query row whose keys are all masked gives NaN in its output (and
/// weights), exactly as PyTorch 1.13 does.</para>
/// <para>With need_weights false (what the transformer layers use) and no dropout in effect the fused blocked kernel
/// runs (no L×S matrix); need_weights true (PyTorch's default) materialises the weights to return them.</para>
/// </summary>
public sealed class MultiheadAttention : Module
{
    public int EmbedDim { get; }
    public int NumHeads { get; }
    public int HeadDim { get; }
    public int KDim { get; }
    public int VDim { get; }
    public double DropoutP { get; }
    public bool BatchFirst { get; }
    public bool AddZeroAttn { get; }
    /// <summary>Whether key and value have E features (then one packed (3E, E) projection).</summary>
    public bool QkvSameEmbedDim { get; }
    public Tensor? InProjWeight { get; }
    public Tensor? QProjWeight { get; }
    public Tensor? KProjWeight { get; }
    public Tensor? VProjWeight { get; }
    public Tensor? InProjBias { get; }
    public Tensor? BiasK { get; }
    public Tensor? BiasV { get; }
    public Linear OutProj { get; }
    private readonly Generator? _generator;

    public MultiheadAttention(int embedDim, int numHeads, double dropout = 0, bool bias = true, bool addBiasKv = false, bool addZeroAttn = false,
        int? kdim = null, int? vdim = null, bool batchFirst = false, Generator? generator = null, DType dtype = DType.Float32)
    {
        const string W = "MultiheadAttention";
        if (embedDim <= 0 || numHeads <= 0) throw new ArgumentOutOfRangeException(nameof(embedDim), $"{W}: embed_dim and num_heads must be positive, got {embedDim} and {numHeads}.");
        if (embedDim % numHeads != 0) throw new ArgumentException($"{W}: embed_dim {embedDim} must be divisible by num_heads {numHeads}.", nameof(numHeads));
        if (!(dropout >= 0 && dropout <= 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, $"{W}: dropout must be in [0, 1], got {dropout}.");
        EmbedDim = embedDim; NumHeads = numHeads; HeadDim = embedDim / numHeads;
        KDim = kdim ?? embedDim; VDim = vdim ?? embedDim;
        if (KDim <= 0 || VDim <= 0) throw new ArgumentOutOfRangeException(nameof(kdim), $"{W}: kdim and vdim must be positive, got {KDim} and {VDim}.");
        DropoutP = dropout; BatchFirst = batchFirst; AddZeroAttn = addZeroAttn; _generator = generator;
        QkvSameEmbedDim = KDim == embedDim && VDim == embedDim;
        if (QkvSameEmbedDim) InProjWeight = RegisterParameter("in_proj_weight", Init.XavierUniform_(Tensor.Zeros([3 * embedDim, embedDim], dtype), g: generator));
        else
        {
            QProjWeight = RegisterParameter("q_proj_weight", Init.XavierUniform_(Tensor.Zeros([embedDim, embedDim], dtype), g: generator));
            KProjWeight = RegisterParameter("k_proj_weight", Init.XavierUniform_(Tensor.Zeros([embedDim, KDim], dtype), g: generator));
            VProjWeight = RegisterParameter("v_proj_weight", Init.XavierUniform_(Tensor.Zeros([embedDim, VDim], dtype), g: generator));
        }
        if (bias) InProjBias = RegisterParameter("in_proj_bias", Tensor.Zeros([3 * embedDim], dtype));
        if (addBiasKv)
        {
            BiasK = RegisterParameter("bias_k", Init.XavierNormal_(Tensor.Zeros([1, 1, embedDim], dtype), g: generator));
            BiasV = RegisterParameter("bias_v", Init.XavierNormal_(Tensor.Zeros([1, 1, embedDim], dtype), g: generator));
        }
        OutProj = RegisterModule("out_proj", new Linear(embedDim, embedDim, bias, generator, dtype));
        if (OutProj.Bias != null) Init.Zeros_(OutProj.Bias);
    }

    /// <summary>Self-attention of <paramref name="input"/> with itself, without masks (the output only).</summary>
    public override Tensor Forward(Tensor input) => Forward(input, input, input, needWeights: false).Output;

    /// <summary>
    /// PyTorch's <c>forward(query, key, value, key_padding_mask, need_weights=True, attn_mask, average_attn_weights=True)</c>.
    /// Returns the output and, when <paramref name="needWeights"/>, the attention weights: (N, L, S) averaged over heads,
    /// or (N, H, L, S) without averaging. <paramref name="isCausal"/> (PyTorch 2.1's hint) adds the causal mask (key j
    /// visible from query i when j ≤ i + S − L) without building it, and lets the kernel skip the blocks above the diagonal.
    /// <paramref name="cache"/>: incremental decoding — this call's keys and values (after projection) are appended to the
    /// cache and the queries attend to everything cached (see <see cref="KeyValueCache"/>).
    /// </summary>
    public (Tensor Output, Tensor? Weights) Forward(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask = null, bool needWeights = true,
        Tensor? attnMask = null, bool averageAttnWeights = true, bool isCausal = false, KeyValueCache? cache = null) =>
        CallWith(() => ForwardCore(query, key, value, keyPaddingMask, needWeights, attnMask, averageAttnWeights, isCausal, cache));

    private (Tensor Output, Tensor? Weights) ForwardCore(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask, bool needWeights,
        Tensor? attnMask, bool averageAttnWeights, bool isCausal, KeyValueCache? cache)
    {
        const string W = "MultiheadAttention";
        bool batched = query.Rank == 3;
        if (query.Rank != 2 && query.Rank != 3) throw new ArgumentException($"{W}: query must be (L, N, E), (N, L, E) with batch_first, or unbatched (L, E); got {query.ShapeString}.", nameof(query));
        if (key.Rank != query.Rank || value.Rank != query.Rank) throw new ArgumentException($"{W}: query {query.ShapeString}, key {key.ShapeString} and value {value.ShapeString} must have the same number of dimensions.");
        bool self = ReferenceEquals(query, key) && ReferenceEquals(key, value);
        // Internally batch first: (N, L, E).
        Tensor q = ToBatchFirst(query, batched), k = ToBatchFirst(key, batched), v = ToBatchFirst(value, batched);
        int N = q.Dims[0], L = q.Dims[1], E = EmbedDim, H = NumHeads;
        if (q.Dims[2] != E) throw new ArgumentException($"{W}: query has {q.Dims[2]} features, expected embed_dim {E} (query {query.ShapeString}).", nameof(query));
        if (k.Dims[2] != KDim || v.Dims[2] != VDim) throw new ArgumentException($"{W}: key and value must have kdim {KDim} and vdim {VDim} features, got {key.ShapeString} and {value.ShapeString}.");
        if (k.Dims[0] != N || v.Dims[0] != N || k.Dims[1] != v.Dims[1]) throw new ArgumentException($"{W}: key {key.ShapeString} and value {value.ShapeString} must have the same batch and length as each other (and the batch of query {query.ShapeString}).");
        var mask = BuildMask(attnMask, keyPaddingMask, N, L, k.Dims[1], batched, q.DType);

        double p = Training ? DropoutP : 0;
        bool materialise = needWeights || p > 0 || mask is { RequiresGrad: true };
        bool packedSelf = self && QkvSameEmbedDim && BiasK == null && !AddZeroAttn && cache == null && !materialise;
        Tensor o;
        Tensor? weights = null;
        if (packedSelf)
        {
            var qkv = Functional.Linear(q, InProjWeight!, InProjBias);
            o = Functional.AttentionHeads(qkv, null, null, null, H, mask, isCausal, 0);
        }
        else
        {
            var (qp, kp, vp) = Project(q, k, v);
            if (BiasK != null)
            {
                kp = Tensor.Cat([kp, BiasK.Expand(N, 1, E)], 1);
                vp = Tensor.Cat([vp, BiasV!.Expand(N, 1, E)], 1);
                mask = PadKey(mask);
            }
            if (AddZeroAttn)
            {
                kp = Tensor.Cat([kp, Tensor.Zeros([N, 1, E], kp.DType)], 1);
                vp = Tensor.Cat([vp, Tensor.Zeros([N, 1, E], vp.DType)], 1);
                mask = PadKey(mask);
            }
            if (cache != null) (kp, vp) = cache.Append(kp, vp);
            int S = kp.Dims[1], shift = S - L;
            if (mask != null && mask.Dims[^1] != S) throw new ArgumentException($"{W}: with a cache of {S - k.Dims[1]} positions the masks must cover all {S} keys, got {mask.ShapeString}.");
            if (!materialise) o = Functional.AttentionHeads(null, qp, kp, vp, H, mask, isCausal, shift);
            else
            {
                var (oh, w) = Functional.AttentionMath(SplitHeads(qp), SplitHeads(kp), SplitHeads(vp), mask, isCausal, shift, p, _generator);
                o = oh.Transpose(1, 2).Reshape(N, L, E);
                if (needWeights) weights = averageAttnWeights ? w.Sum(1) / H : w;
            }
        }
        var y = OutProj.Call(o);
        if (!batched) return (y.Squeeze(0), weights?.Squeeze(0));
        return (BatchFirst ? y : y.Transpose(0, 1), weights);
    }

    private Tensor ToBatchFirst(Tensor t, bool batched) => !batched ? t.Unsqueeze(0) : BatchFirst ? t : t.Transpose(0, 1);

    private Tensor SplitHeads(Tensor x) => x.Reshape(x.Dims[0], x.Dims[1], NumHeads, HeadDim).Transpose(1, 2);

    private (Tensor Q, Tensor K, Tensor V) Project(Tensor q, Tensor k, Tensor v)
    {
        int E = EmbedDim;
        Tensor? bq = InProjBias?.Narrow(0, 0, E), bk = InProjBias?.Narrow(0, E, E), bv = InProjBias?.Narrow(0, 2 * E, E);
        if (!QkvSameEmbedDim)
            return (Functional.Linear(q, QProjWeight!, bq), Functional.Linear(k, KProjWeight!, bk), Functional.Linear(v, VProjWeight!, bv));
        var w = InProjWeight!;
        return (Functional.Linear(q, w.Narrow(0, 0, E), bq), Functional.Linear(k, w.Narrow(0, E, E), bk), Functional.Linear(v, w.Narrow(0, 2 * E, E), bv));
    }

    /// <summary>
    /// attn_mask and key_padding_mask merged as PyTorch 1.13 merges them, into scores to add, broadcastable to
    /// (N, H, L, S): bool true → −∞; a float mask as given; bool and bool → or (blocked by either); float attn_mask with a bool padding mask → −∞ filled.
    /// </summary>
    private Tensor? BuildMask(Tensor? attnMask, Tensor? kpm, int N, int L, int S, bool batched, DType dtype)
    {
        const string W = "MultiheadAttention";
        int H = NumHeads;
        Tensor? am = null, pm = null;
        if (attnMask != null)
        {
            if (attnMask.Rank == 2)
            {
                if (attnMask.Dims[0] != L || attnMask.Dims[1] != S) throw new ArgumentException($"{W}: the 2-D attn_mask is {attnMask.ShapeString}, but should be ({L}, {S}) (target length, source length).", nameof(attnMask));
                am = attnMask.Reshape(1, 1, L, S);
            }
            else if (attnMask.Rank == 3)
            {
                if (attnMask.Dims[0] != N * H || attnMask.Dims[1] != L || attnMask.Dims[2] != S) throw new ArgumentException($"{W}: the 3-D attn_mask is {attnMask.ShapeString}, but should be ({N * H}, {L}, {S}) (batch·heads, target length, source length).", nameof(attnMask));
                am = attnMask.Reshape(N, H, L, S);
            }
            else throw new ArgumentException($"{W}: attn_mask must have 2 or 3 dimensions, got {attnMask.ShapeString}.", nameof(attnMask));
            if (am.DType != DType.Bool && !am.IsFloatingPoint) throw new ArgumentException($"{W}: attn_mask must be bool or floating point, got {am.DType}.", nameof(attnMask));
        }
        if (kpm != null)
        {
            var k2 = batched ? kpm : kpm.Unsqueeze(0);
            if (k2.Rank != 2 || k2.Dims[0] != N || k2.Dims[1] != S) throw new ArgumentException($"{W}: key_padding_mask is {kpm.ShapeString}, expected ({N}, {S}) (batch, source length).", nameof(kpm));
            if (k2.DType != DType.Bool && !k2.IsFloatingPoint) throw new ArgumentException($"{W}: key_padding_mask must be bool or floating point, got {k2.DType}.", nameof(kpm));
            pm = k2.Reshape(N, 1, 1, S);
        }
        if (am == null && pm == null) return null;
        if (am == null) return AttentionCheck.Additive(W, "key_padding_mask", pm!, dtype, trueBlocks: true);
        if (pm == null) return AttentionCheck.Additive(W, "attn_mask", am, dtype, trueBlocks: true);
        if (pm.DType != DType.Bool) throw new ArgumentException($"{W}: a float key_padding_mask cannot be combined with an attn_mask (PyTorch 1.13 fills the attn_mask where the padding mask is true, which needs a bool padding mask).", nameof(kpm));
        if (am.DType == DType.Bool) return AttentionCheck.Additive(W, "attn_mask", am.Expand(N, H, L, S).LogicalNot().LogicalAnd(pm.Expand(N, H, L, S).LogicalNot()).LogicalNot(), dtype, trueBlocks: true);
        return Tensor.Where(pm, Tensor.Scalar(double.NegativeInfinity, dtype), am.To(dtype));
    }

    /// <summary>One more key column that no mask blocks (PyTorch pads masks with 0 / false for bias_kv and zero_attn).</summary>
    private static Tensor? PadKey(Tensor? mask) =>
        mask == null ? null : Tensor.Cat([mask, Tensor.Zeros([.. mask.Shape[..^1], 1], mask.DType)], -1);

    protected override string ExtraRepr() => "";
}
