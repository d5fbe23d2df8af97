namespace Kindling.NN;

public static partial class Functional
{
    /// <summary>
    /// GELU (PyTorch's <c>F.gelu</c>). approximate "none" (default): x·Φ(x) = x·½(1 + erf(x/√2)); "tanh":
    /// ½x(1 + tanh(√(2/π)(x + 0.044715x³))), the form GPT-2 was trained with (nanoGPT's <c>GELU(approximate='tanh')</c>).
    /// Any shape; the gradient of the tanh form is the chain rule through its primitives:
    /// ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²), t the tanh.
    /// </summary>
    public static Tensor Gelu(Tensor input, string approximate = "none")
    {
        switch (approximate)
        {
            case "none": return input.Gelu();
            case "tanh":
                if (!input.IsFloatingPoint) throw new ArgumentException($"gelu: input must be float32 or float64, got {input.DType}.", nameof(input));
                // PyTorch's kBeta = √2·(2/√π)·½ = √(2/π), kKappa = 0.044715.
                const double kBeta = 0.7978845608028654, kKappa = 0.044715;
                var inner = (input + input * input * input * kKappa) * kBeta;
                return input * 0.5 * (inner.Tanh() + 1);
            default: throw new ArgumentException($"gelu: approximate must be 'none' or 'tanh', got '{approximate}'.", nameof(approximate));
        }
    }
}
