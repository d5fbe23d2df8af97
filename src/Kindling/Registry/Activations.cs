using Kindling.NN;

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
    /// <summary>
    /// The elementwise activation layers (what <c>kindling --activation</c> offers), generated from the [Activation]
    /// definitions in NN/Functional.
    /// </summary>
    public static ComponentTable<ActivationEntry> Activations { get; } = new("activation", GeneratedActivations());
}
