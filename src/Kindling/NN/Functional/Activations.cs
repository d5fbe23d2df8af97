using Kindling.Registry;

namespace Kindling.NN;

// The elementwise activations as functions (PyTorch's F.relu, F.gelu, ...). Each [Activation] definition is the only
// place the activation is described: its module class (ReLU, LeakyReLU, ...) and its registry entry (what
// `kindling --activation` offers) are generated from it by src/Kindling.Generators.
public static partial class Functional
{
    /// <summary>max(x, 0) (PyTorch's <c>F.relu</c>). Any shape; gradient 0 at x = 0.</summary>
    [Activation("relu", "ReLU", "max(0, x)", Order = 10, FreshBuffer = true)]
    public static Tensor Relu(Tensor input) => input.Relu();

    /// <summary>x for x &gt; 0, negativeSlope·x otherwise (PyTorch's <c>F.leaky_relu</c>, default slope 0.01). Any shape.</summary>
    [Activation("leaky_relu", "LeakyReLU", "x for x ≥ 0, negative_slope·x below", Aliases = ["leakyrelu"], Order = 20)]
    public static Tensor LeakyRelu(Tensor input, [Option("slope for x < 0")] double negativeSlope = 0.01) => input.LeakyRelu(negativeSlope);

    /// <summary>x for x &gt; 0, α(eˣ − 1) otherwise (PyTorch's <c>F.elu</c>, default α 1; the limit for large negative x is −α). Any shape.</summary>
    [Activation("elu", "ELU", "x for x > 0, α·(eˣ − 1) below", Order = 30)]
    public static Tensor Elu(Tensor input, [Option("α")] double alpha = 1.0) => input.Elu(alpha);

    /// <summary>x·σ(x) (PyTorch's <c>F.silu</c>, also called swish). Any shape.</summary>
    [Activation("silu", "SiLU", "x·σ(x)", Aliases = ["swish"], Order = 50)]
    public static Tensor Silu(Tensor input) => input.Silu();

    /// <summary>x·min(max(x + 3, 0), 6)/6 (PyTorch's <c>F.hardswish</c>, MobileNetV3): 0 below −3, x above 3. Any shape.</summary>
    [Activation("hardswish", "Hardswish", "x·min(max(x + 3, 0), 6)/6", Order = 52)]
    public static Tensor Hardswish(Tensor input) => input.Hardswish();

    /// <summary>x·tanh(softplus(x)) (PyTorch's <c>F.mish</c>). Any shape.</summary>
    [Activation("mish", "Mish", "x·tanh(softplus(x))", Order = 54)]
    public static Tensor Mish(Tensor input) => input.Mish();

    /// <summary>tanh x (PyTorch's <c>torch.tanh</c>). Any shape.</summary>
    [Activation("tanh", "Tanh", "tanh(x)", Order = 60, FreshBuffer = true)]
    public static Tensor Tanh(Tensor input) => input.Tanh();

    /// <summary>1 / (1 + e⁻ˣ) (PyTorch's <c>torch.sigmoid</c>). Any shape.</summary>
    [Activation("sigmoid", "Sigmoid", "1 / (1 + e⁻ˣ)", Order = 70, FreshBuffer = true)]
    public static Tensor Sigmoid(Tensor input) => input.Sigmoid();
}
