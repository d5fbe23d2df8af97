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
    public static ComponentTable<ActivationEntry> Activations { get; } = new("activation", WithGelu(GeneratedActivations()));

    /// <summary>GELU's module is written by hand (see NN/Layers/Activations.cs): its entry goes after elu, where the command line lists it.</summary>
    private static IEnumerable<ActivationEntry> WithGelu(IEnumerable<ActivationEntry> generated)
    {
        foreach (var e in generated)
        {
            yield return e;
            if (e.Name == "elu") yield return new() { Name = "gelu", Help = "x·Φ(x) (exact, with erf)", Create = _ => new GELU() };
        }
    }
}
