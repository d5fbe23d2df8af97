namespace Kindling.NN;

/// <summary>
/// Layer normalisation over the last dimensions (PyTorch's <c>nn.LayerNorm</c>): (x − mean) / √(var + eps)·γ + β with the
/// biased variance over <c>normalizedShape</c>. Defaults: eps 1e-5, elementwise affine (γ ones, β zeros).
/// </summary>
public sealed class LayerNorm : Module
{
    private readonly int[] _shape;
    public double Eps { get; }
    /// <summary>The trailing dimensions normalised over (a copy).</summary>
    public int[] NormalizedShape => (int[])_shape.Clone();
    public Tensor? Weight { get; }
    public Tensor? Bias { get; }

    public LayerNorm(int[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true, DType dtype = DType.Float32)
    {
        if (normalizedShape.Length == 0 || normalizedShape.Any(d => d <= 0)) throw new ArgumentException($"LayerNorm: normalized_shape must be non-empty and positive, got {Tensor.ShapeStr(normalizedShape)}.");
        _shape = (int[])normalizedShape.Clone();
        Eps = eps;
        if (elementwiseAffine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(_shape, dtype));
            Bias = RegisterParameter("bias", Tensor.Zeros(_shape, dtype));
        }
    }

    public LayerNorm(int normalizedShape, double eps = 1e-5, bool elementwiseAffine = true, DType dtype = DType.Float32) : this([normalizedShape], eps, elementwiseAffine, dtype) { }

    /// <summary>See <see cref="Functional.LayerNorm"/>.</summary>
    public override Tensor Forward(Tensor input) => Functional.LayerNorm(input, _shape, Weight, Bias, Eps);

    protected override string ExtraRepr() => $"{Tensor.ShapeStr(_shape)}, eps={Eps}, elementwise_affine={(Weight != null ? "True" : "False")}";
}
