namespace Kindling.NN;

/// <summary>
/// Bags of embeddings reduced by sum, mean (default) or max without materialising the looked-up rows (PyTorch's
/// <c>nn.EmbeddingBag</c>). input: 1-D int64 (N) with offsets (B) — or (B + 1) with <see cref="IncludeLastOffset"/> —
/// or 2-D (B, L), one bag per row → (B, embedding_dim). weight (num_embeddings, embedding_dim) is initialised N(0, 1),
/// the <see cref="PaddingIdx"/> row zeroed; padding entries are left out of every bag. See
/// <see cref="Functional.EmbeddingBag"/> for the exact semantics and gradients.
/// </summary>
public sealed class EmbeddingBag : Module
{
    public int NumEmbeddings { get; }
    public int EmbeddingDim { get; }
    public EmbeddingBagMode Mode { get; }
    public bool IncludeLastOffset { get; }
    public int? PaddingIdx { get; }
    public double? MaxNorm { get; }
    public double NormType { get; }
    /// <summary>(num_embeddings, embedding_dim).</summary>
    public Tensor Weight { get; }

    public EmbeddingBag(int numEmbeddings, int embeddingDim, EmbeddingBagMode mode = EmbeddingBagMode.Mean, bool includeLastOffset = false,
        int? paddingIdx = null, double? maxNorm = null, double normType = 2, Generator? generator = null, DType dtype = DType.Float32)
    {
        if (numEmbeddings <= 0 || embeddingDim <= 0)
            throw new ArgumentOutOfRangeException(nameof(numEmbeddings), $"EmbeddingBag: num_embeddings and embedding_dim must be positive, got {numEmbeddings} and {embeddingDim}.");
        if (paddingIdx is int p && (p < -numEmbeddings || p >= numEmbeddings))
            throw new ArgumentOutOfRangeException(nameof(paddingIdx), $"EmbeddingBag: padding_idx {p} must be within num_embeddings: [-{numEmbeddings}, {numEmbeddings}).");
        NumEmbeddings = numEmbeddings; EmbeddingDim = embeddingDim; Mode = mode; IncludeLastOffset = includeLastOffset;
        PaddingIdx = paddingIdx is int q ? (q < 0 ? q + numEmbeddings : q) : null;
        MaxNorm = maxNorm; NormType = normType;
        var w = Tensor.Randn([numEmbeddings, embeddingDim], generator ?? Generator.Default, dtype);
        if (PaddingIdx is int pi) Tensor.CopyInto(Tensor.Zeros([1, embeddingDim], dtype), w.Narrow(0, pi, 1));
        Weight = RegisterParameter("weight", w);
    }

    /// <summary>(B, embedding_dim) for input and offsets (null for a 2-D input) and optional per-sample weights (mode Sum).</summary>
    public Tensor Forward(Tensor input, Tensor? offsets, Tensor? perSampleWeights = null) =>
        Functional.EmbeddingBag(input, Weight, offsets, Mode, perSampleWeights, IncludeLastOffset, PaddingIdx, MaxNorm, NormType);

    /// <summary>A 2-D input (B, L): each row is a bag.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null);

    protected override string ExtraRepr() => $"{NumEmbeddings}, {EmbeddingDim}, mode='{Mode.ToString().ToLowerInvariant()}'"
        + (PaddingIdx is int p ? $", padding_idx={p}" : "") + (IncludeLastOffset ? ", include_last_offset=True" : "");
}
