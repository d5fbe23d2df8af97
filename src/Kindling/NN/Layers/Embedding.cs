namespace Kindling.NN;

/// <summary>
/// A lookup table of <c>num_embeddings</c> vectors of size <c>embedding_dim</c> (PyTorch's <c>nn.Embedding</c>): int64
/// indices of any shape → (*, embedding_dim). weight (num_embeddings, embedding_dim) is initialised N(0, 1), with the
/// <see cref="PaddingIdx"/> row zeroed; that row's gradient stays zero. <see cref="MaxNorm"/> renormalises the rows
/// looked up in place (see <see cref="Functional.Embedding"/>); <see cref="ScaleGradByFreq"/> divides each row's
/// gradient by its index's count in the batch. State-dict name: <c>weight</c>.
/// </summary>
public sealed class Embedding : Module
{
    public int NumEmbeddings { get; }
    public int EmbeddingDim { get; }
    /// <summary>The padding row (normalised to 0..V−1), or null.</summary>
    public int? PaddingIdx { get; }
    public double? MaxNorm { get; }
    public double NormType { get; }
    public bool ScaleGradByFreq { get; }
    /// <summary>(num_embeddings, embedding_dim).</summary>
    public Tensor Weight { get; }

    public Embedding(int numEmbeddings, int embeddingDim, int? paddingIdx = null, double? maxNorm = null, double normType = 2,
        bool scaleGradByFreq = false, Generator? generator = null, DType dtype = DType.Float32)
        : this(numEmbeddings, embeddingDim, paddingIdx, maxNorm, normType, scaleGradByFreq, null, generator, dtype) { }

    private Embedding(int numEmbeddings, int embeddingDim, int? paddingIdx, double? maxNorm, double normType, bool scaleGradByFreq,
        Tensor? weight, Generator? generator, DType dtype)
    {
        if (numEmbeddings <= 0 || embeddingDim <= 0)
            throw new ArgumentOutOfRangeException(nameof(numEmbeddings), $"Embedding: num_embeddings and embedding_dim must be positive, got {numEmbeddings} and {embeddingDim}.");
        if (paddingIdx is int p && (p < -numEmbeddings || p >= numEmbeddings))
            throw new ArgumentOutOfRangeException(nameof(paddingIdx), $"Embedding: padding_idx {p} must be within num_embeddings: [-{numEmbeddings}, {numEmbeddings}).");
        if (maxNorm is double m && !(m > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), $"Embedding: max_norm must be positive, got {m}.");
        NumEmbeddings = numEmbeddings; EmbeddingDim = embeddingDim;
        PaddingIdx = paddingIdx is int q ? (q < 0 ? q + numEmbeddings : q) : null;
        MaxNorm = maxNorm; NormType = normType; ScaleGradByFreq = scaleGradByFreq;
        if (weight == null)
        {
            weight = Tensor.Randn([numEmbeddings, embeddingDim], generator ?? Generator.Default, dtype);
            if (PaddingIdx is int pi) Tensor.CopyInto(Tensor.Zeros([1, embeddingDim], dtype), weight.Narrow(0, pi, 1));
        }
        Weight = RegisterParameter("weight", weight);
    }

    /// <summary>
    /// A table holding <paramref name="embeddings"/> (V, D) (PyTorch's <c>Embedding.from_pretrained</c>); with
    /// <paramref name="freeze"/> (default) the weight does not require grad. The padding row is kept as given.
    /// </summary>
    public static Embedding FromPretrained(Tensor embeddings, bool freeze = true, int? paddingIdx = null, double? maxNorm = null,
        double normType = 2, bool scaleGradByFreq = false)
    {
        if (embeddings.Rank != 2) throw new ArgumentException($"Embedding.FromPretrained: embeddings parameter is expected to be 2-dimensional, got {embeddings.ShapeString}.");
        embeddings.RequireFloat("Embedding.FromPretrained");
        var e = new Embedding(embeddings.Dims[0], embeddings.Dims[1], paddingIdx, maxNorm, normType, scaleGradByFreq, embeddings.Detach().Clone(), null, embeddings.DType);
        e.Weight.RequiresGrad = !freeze;
        return e;
    }

    public override Tensor Forward(Tensor input) => Functional.Embedding(input, Weight, PaddingIdx, MaxNorm, NormType, ScaleGradByFreq);

    protected override string ExtraRepr() => $"{NumEmbeddings}, {EmbeddingDim}" + (PaddingIdx is int p ? $", padding_idx={p}" : "")
        + (MaxNorm is double m ? $", max_norm={m}" : "") + (NormType != 2 ? $", norm_type={NormType}" : "") + (ScaleGradByFreq ? ", scale_grad_by_freq=True" : "");
}
