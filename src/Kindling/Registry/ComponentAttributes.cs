using System.Diagnostics;

namespace Kindling.Registry;

// The attributes of a component's one definition. The source generator (src/Kindling.Generators) reads them at compile
// time and writes the module class, the registry entry and Sequential's fresh-buffer knowledge; nothing reads them at
// run time (no reflection, so NativeAOT keeps working), and [Conditional] keeps them out of the compiled assembly.

/// <summary>
/// Marks a static <see cref="NN.Functional"/> loss as a registered loss. Its leading non-optional tensor parameters are
/// the loss's inputs (2, 3 or 4: the module derives from <see cref="NN.Loss"/>, <see cref="NN.ThreeInputLoss"/> or
/// <see cref="NN.FourInputLoss"/>); every other parameter is an option whose registry name is the parameter's name in
/// snake_case, whose type and default are the parameter's, and whose help and range come from its
/// <see cref="OptionAttribute"/>. Generated: the module class <paramref name="module"/> (constructor parameters in the
/// functional's order unless <see cref="ModuleOrder"/> says otherwise, one property per option) and the entry of
/// <see cref="Components.Losses"/>.
/// </summary>
/// <param name="name">PyTorch's functional name (<c>mse_loss</c>).</param>
/// <param name="module">PyTorch's module class name (<c>MSELoss</c>).</param>
/// <param name="help">One line: what it is.</param>
[AttributeUsage(AttributeTargets.Method), Conditional("KINDLING_COMPONENT_ATTRIBUTES")]
internal sealed class LossAttribute(string name, string module, string help) : Attribute
{
    public string Name => name;
    public string Module => module;
    public string Help => help;
    /// <summary>The short name on the command line (<c>mse</c>); defaults to the name.</summary>
    public string? ShortName { get; set; }
    public string[] Aliases { get; set; } = [];
    /// <summary>Position in the registry (the order the command line lists losses in); ties by name.</summary>
    public int Order { get; set; } = int.MaxValue;
    /// <summary>Tasks the loss trains models on as a pointwise loss of (prediction, target) (see <c>Components.Pointwise</c>).</summary>
    public string[] PointwiseTasks { get; set; } = [];
    /// <summary>The module constructor's option order (snake_case names) when PyTorch's module differs from its functional.</summary>
    public string[]? ModuleOrder { get; set; }
    /// <summary>The module's default reduction when it differs from the functional's (a member name of <see cref="NN.Reduction"/>).</summary>
    public string? ModuleReduction { get; set; }
}

/// <summary>
/// Marks a static <see cref="NN.Functional"/> activation <c>f(Tensor input, options...)</c> as a registered activation:
/// generated are the module class <paramref name="module"/> and the entry of <see cref="Components.Activations"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Method), Conditional("KINDLING_COMPONENT_ATTRIBUTES")]
internal sealed class ActivationAttribute(string name, string module, string help) : Attribute
{
    public string Name => name;
    public string Module => module;
    public string Help => help;
    public string[] Aliases { get; set; } = [];
    public int Order { get; set; } = int.MaxValue;
    /// <summary>
    /// The forward always returns a new buffer (never its input or a view of it) and the module stores neither, so
    /// <see cref="NN.Sequential"/> may recycle the values passed between such layers at once.
    /// </summary>
    public bool FreshBuffer { get; set; }
    /// <summary>Register it in <see cref="Components.Activations"/> (what <c>kindling --activation</c> offers).</summary>
    public bool Register { get; set; } = true;
}

/// <summary>
/// Marks an optimizer's constructor over <c>IEnumerable&lt;Tensor&gt;</c> as a registered optimizer: its parameters after
/// the first are the options (names, types and defaults from the constructor, help and range from
/// <see cref="OptionAttribute"/>); generated is the entry of <see cref="Components.Optimizers"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Constructor), Conditional("KINDLING_COMPONENT_ATTRIBUTES")]
internal sealed class OptimizerAttribute(string name, string help) : Attribute
{
    public string Name => name;
    public string Help => help;
    public string[] Aliases { get; set; } = [];
    public int Order { get; set; } = int.MaxValue;
    /// <summary>A learning rate for the command line when the optimizer has no default (PyTorch's SGD); NaN: none.</summary>
    public double SuggestedLr { get; set; } = double.NaN;
}

/// <summary>
/// One option of a registered component: its help line and valid range (NaN bounds: unbounded). The name, type and
/// default are the parameter's own.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter), Conditional("KINDLING_COMPONENT_ATTRIBUTES")]
internal sealed class OptionAttribute(string help) : Attribute
{
    public string Help => help;
    public double Min { get; set; } = double.NaN;
    public double Max { get; set; } = double.NaN;
    public bool MinExclusive { get; set; }
    public bool MaxExclusive { get; set; }
    /// <summary>The valid values of a text option (for a <see cref="NN.Reduction"/>: which reductions; default none, mean, sum).</summary>
    public string[]? Choices { get; set; }
    /// <summary>The command-line flag that sets it (<c>--lr</c>).</summary>
    public string? Flag { get; set; }
    /// <summary>
    /// For a value no command line can hold (a callable): a static method of <see cref="Components"/> taking the
    /// <see cref="OptionValues"/> and returning the parameter's value from the chosen name in <see cref="Choices"/>.
    /// </summary>
    public string? FromChoice { get; set; }
}
