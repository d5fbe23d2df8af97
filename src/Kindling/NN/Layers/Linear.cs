namespace Kindling.NN;

/// <summary>
/// Fully connected layer y = x·Wᵀ + b (PyTorch's <c>nn.Linear</c>). weight: (out, in); bias: (out). Initialised like
/// PyTorch: weight kaiming_uniform with a = √5, i.e. U(−1/√in, 1/√in), and bias U(−1/√in, 1/√in).
/// </summary>
public sealed class Linear : Module
{
    /// <summary>(out_features, in_features).</summary>
    public Tensor Weight { get; }
    /// <summary>(out_features), or null without bias.</summary>
    public Tensor? Bias { get; }
    public int InFeatures { get; }
    public int OutFeatures { get; }

    public Linear(int inFeatures, int outFeatures, bool bias = true, Generator? generator = null, DType dtype = DType.Float32)
    {
        if (inFeatures <= 0 || outFeatures <= 0) throw new ArgumentOutOfRangeException(nameof(inFeatures), $"Linear: in_features and out_features must be positive, got {inFeatures} and {outFeatures}.");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = RegisterParameter("weight", Tensor.Zeros([outFeatures, inFeatures], dtype));
        Init.KaimingUniform_(Weight, Math.Sqrt(5), g: generator);
        if (bias)
        {
            double bound = 1 / Math.Sqrt(inFeatures);
            Bias = RegisterParameter("bias", Tensor.Zeros([outFeatures], dtype));
            Init.Uniform_(Bias, -bound, bound, generator);
        }
    }

    /// <summary>
    /// A layer over existing tensors, registered as they are (not copied): weight tying, e.g. a language model's output
    /// layer sharing the token embedding's (vocab, width) matrix as nanoGPT does
    /// (<c>lm_head = new Linear(wte.Weight, bias: null)</c>). The shared tensor is one parameter: listed once by
    /// <see cref="Module.Parameters"/>, its gradient the sum of both uses, and saved under both names as PyTorch's
    /// state_dict does.
    /// </summary>
    public Linear(Tensor weight, Tensor? bias)
    {
        if (weight.Rank != 2) throw new ArgumentException($"Linear: weight must be (out_features, in_features), got {weight.ShapeString}.", nameof(weight));
        if (bias != null && (bias.Rank != 1 || bias.Dims[0] != weight.Dims[0])) throw new ArgumentException($"Linear: bias must be ({weight.Dims[0]},), got {bias.ShapeString}.", nameof(bias));
        if (!weight.IsLeaf || (bias != null && !bias.IsLeaf)) throw new ArgumentException("Linear: shared tensors must be leaves (parameters), not results of operations.", nameof(weight));
        OutFeatures = weight.Dims[0];
        InFeatures = weight.Dims[1];
        Weight = RegisterParameter("weight", weight);
        if (bias != null) Bias = RegisterParameter("bias", bias);
    }

    public override Tensor Forward(Tensor input) => Functional.Linear(input, Weight, Bias);

    protected override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={(Bias != null ? "True" : "False")}";
}
