using Kindling.NN;

namespace Kindling.Registry;

/// <summary>The learning tasks a loss can train a model on (the <c>kindling</c> command's <c>--task</c> values).</summary>
public static class LossTasks
{
    /// <summary>One class of K per row: K logits, int64 class-index targets.</summary>
    public const string Classification = "classification";
    /// <summary>Two classes: int64 targets 0/1.</summary>
    public const string Binary = "binary";
    /// <summary>Several independent 0/1 labels per row: float targets (N, L).</summary>
    public const string MultiLabel = "multilabel";
    /// <summary>One or more real-valued targets: float targets (N) or (N, T).</summary>
    public const string Regression = "regression";

    public static IReadOnlyList<string> All { get; } = [Classification, Binary, MultiLabel, Regression];
}

/// <summary>What a loss needs to know about the data to train a model on a task.</summary>
public sealed record LossTaskContext
{
    /// <summary>Number of classes (classification and binary; 2 for binary).</summary>
    public int Classes { get; init; }
    /// <summary>Number of target columns (multilabel, regression).</summary>
    public int Targets { get; init; } = 1;
    /// <summary>Per-class weights (float32, length <see cref="Classes"/>), or null.</summary>
    public Tensor? ClassWeights { get; init; }
    /// <summary>Label smoothing ε (cross-entropy only).</summary>
    public double LabelSmoothing { get; init; }
}

/// <summary>
/// How a loss trains a model on one task: the number of model outputs it needs, and the loss of a batch of model outputs
/// against the task's targets (class indices, 0/1 labels or values) — e.g. MSE on class labels compares the softmax
/// with one-hot targets.
/// </summary>
public sealed record LossUse(string Task, Func<LossTaskContext, int> Outputs, Func<LossTaskContext, Func<Tensor, Tensor, Tensor>> Make);

/// <summary>
/// A registered loss: its PyTorch functional name (<c>cross_entropy</c>, <c>mse_loss</c>), its module class, the named
/// inputs of its functional form, its options with PyTorch's defaults, and factories for the functional value and the
/// module. <see cref="Uses"/> says which tasks it trains models on (what <c>kindling --loss</c> offers).
/// </summary>
public sealed class LossEntry : ComponentEntry
{
    /// <summary>The short name on the command line and in run folders (<c>mse</c>, <c>focal</c>); defaults to <see cref="ComponentEntry.Name"/>.</summary>
    public string? ShortName { get; init; }
    public string Short => ShortName ?? Name;
    /// <summary>PyTorch's module class name (<c>CrossEntropyLoss</c>).</summary>
    public required string ModuleName { get; init; }
    /// <summary>The names of the functional form's tensor inputs, in order (<c>input</c>, <c>target</c>, ...).</summary>
    public IReadOnlyList<string> Inputs { get; init; } = ["input", "target"];
    /// <summary>The loss of named inputs with the options: the functional form.</summary>
    public required Func<Func<string, Tensor>, OptionValues, Tensor> Functional { get; init; }
    /// <summary>The module twin built with the options (a <see cref="Loss"/>, <see cref="ThreeInputLoss"/> or <see cref="FourInputLoss"/>, by <see cref="Inputs"/>).</summary>
    public required Func<OptionValues, LossModule> Module { get; init; }
    /// <summary>The tasks this loss trains a model on, and how.</summary>
    public IReadOnlyList<LossUse> Uses { get; init; } = [];

    /// <summary>Calls <paramref name="module"/> on the named inputs, in <see cref="Inputs"/>' order.</summary>
    public Tensor Call(LossModule module, Func<string, Tensor> input)
    {
        if (module.Arity != Inputs.Count)
            throw new ArgumentException($"{Name}: the module {module.GetType().Name} takes {module.Arity} tensors, the entry names {Inputs.Count} ({string.Join(", ", Inputs)}).", nameof(module));
        var x = new Tensor[Inputs.Count];
        for (int i = 0; i < x.Length; i++) x[i] = input(Inputs[i]);
        return module.ForwardInputs(x);
    }

    /// <summary>The use for <paramref name="task"/>, or null.</summary>
    public LossUse? For(string task) => Uses.FirstOrDefault(u => u.Task == task);

    /// <summary>Whether <paramref name="name"/> names this loss on the command line: its short name, name or an alias, optionally followed by <c>_loss</c>.</summary>
    public bool IsCalled(string name)
    {
        var k = ComponentTable<LossEntry>.Key(name);
        return Aliases.Append(Name).Append(Short).Select(ComponentTable<LossEntry>.Key).Any(n => n == k || n + "_loss" == k || n == k + "_loss");
    }
}
