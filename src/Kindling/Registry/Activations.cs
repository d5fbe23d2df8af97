using Kindling.NN;
using static Kindling.Registry.OptionSpec;

namespace Kindling.Registry;

/// <summary>A registered activation layer and its factory.</summary>
public sealed class ActivationEntry : ComponentEntry
{
    public required Func<OptionValues, Module> Create { get; init; }
    /// <summary>The layer with the given options (PyTorch's keywords; unset ones take their defaults).</summary>
    public Module Build(IReadOnlyDictionary<string, object?>? options = null) => Create(Values(options));
}

public static partial class Components
{
    /// <summary>The elementwise activation layers (what <c>kindling --activation</c> offers).</summary>
    public static ComponentTable<ActivationEntry> Activations { get; } = new("activation",
    [
        new() { Name = "relu", Help = "max(0, x)", Create = _ => new ReLU() },
        new() { Name = "leaky_relu", Aliases = ["leakyrelu"], Help = "x for x ≥ 0, negative_slope·x below",
                Options = [Number("negative_slope", 0.01, "slope for x < 0")], Create = o => new LeakyReLU(o.Number("negative_slope")) },
        new() { Name = "elu", Help = "x for x > 0, α·(eˣ − 1) below", Options = [Number("alpha", 1.0, "α")], Create = o => new ELU(o.Number("alpha")) },
        new() { Name = "gelu", Help = "x·Φ(x) (exact, with erf)", Create = _ => new GELU() },
        new() { Name = "silu", Aliases = ["swish"], Help = "x·σ(x)", Create = _ => new SiLU() },
        new() { Name = "hardswish", Help = "x·min(max(x + 3, 0), 6)/6", Create = _ => new Hardswish() },
        new() { Name = "mish", Help = "x·tanh(softplus(x))", Create = _ => new Mish() },
        new() { Name = "tanh", Help = "tanh(x)", Create = _ => new Tanh() },
        new() { Name = "sigmoid", Help = "1 / (1 + e⁻ˣ)", Create = _ => new Sigmoid() },
    ]);
}
