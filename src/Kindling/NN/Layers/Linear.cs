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

    public override Tensor Forward(Tensor input) => Functional.Linear(input, Weight, Bias);

    protected override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={(Bias != null ? "True" : "False")}";
}
