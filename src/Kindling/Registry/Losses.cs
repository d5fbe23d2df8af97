using Kindling.NN;
using F = Kindling.NN.Functional;

namespace Kindling.Registry;

/// <summary>
/// The registry of named components (PyTorch's native_functions.yaml, one schema per component): losses, optimizers,
/// activations, LR schedulers and datasets, each with its name, aliases, option schema and factory. The command line
/// (its options, help and validation), the parity tool and the coverage tests read these tables. Losses, activations
/// and optimizers are generated from their one attributed definition ([Loss], [Activation], [Optimizer]); what stays
/// here is how a loss trains a model on each task of the command line.
/// </summary>
public static partial class Components
{
    // The task adapters: how a loss over (input, target) trains a model on class indices, 0/1 labels or values.
    private static Tensor Column(Tensor y) => y.Rank == 1 ? y.Reshape(-1, 1) : y;
    private static Tensor Binary01(Tensor y) => y.ToFloat32().Reshape(-1, 1);
    private static LossUse PerClass(string task, Func<LossTaskContext, Func<Tensor, Tensor, Tensor>> make) => new(task, c => c.Classes, make);
    private static LossUse OneLogit(Func<LossTaskContext, Func<Tensor, Tensor, Tensor>> make) => new(LossTasks.Binary, _ => 1, make);
    private static LossUse PerTarget(string task, Func<LossTaskContext, Func<Tensor, Tensor, Tensor>> make) => new(task, c => c.Targets, make);
    /// <summary>A pointwise loss on every task: softmax vs one-hot for classes, sigmoid vs 0/1 for binary and multi-label, raw for regression.</summary>
    private static LossUse[] Pointwise(Func<Tensor, Tensor, Tensor> f, params string[] tasks) => tasks.Select(t => t switch
    {
        LossTasks.Classification => PerClass(t, c => (o, y) => f(o.Softmax(1), Tensor.OneHot(y, c.Classes).ToFloat32())),
        LossTasks.Binary => OneLogit(_ => (o, y) => f(o.Sigmoid(), Binary01(y))),
        LossTasks.MultiLabel => PerTarget(t, _ => (o, y) => f(o.Sigmoid(), y)),
        _ => PerTarget(t, _ => (o, y) => f(o, Column(y))),
    }).ToArray();

    /// <summary>
    /// How the losses that are not simply pointwise train a model on each task (a pointwise loss says its tasks in its
    /// [Loss] definition). This is command-line policy: class weights, one logit for binary tasks, log-softmax for NLL.
    /// </summary>
    private static LossUse[] TaskUses(string loss) => loss switch
    {
        // Class weights (w₀, w₁) on one logit: pos_weight w₁/w₀ weighs the positives against the negatives.
        "binary_cross_entropy_with_logits" =>
            [OneLogit(c => { var pw = c.ClassWeights == null ? null : Tensor.FromArray(new[] { c.ClassWeights.ToArray()[1] / c.ClassWeights.ToArray()[0] });
                             return (o, y) => F.BinaryCrossEntropyWithLogits(o, Binary01(y), posWeight: pw); }),
             PerTarget(LossTasks.MultiLabel, _ => (o, y) => F.BinaryCrossEntropyWithLogits(o, y))],
        "cross_entropy" =>
            [PerClass(LossTasks.Classification, c => (o, y) => F.CrossEntropy(o, y, c.ClassWeights, labelSmoothing: c.LabelSmoothing)),
             PerClass(LossTasks.Binary, c => (o, y) => F.CrossEntropy(o, y, c.ClassWeights, labelSmoothing: c.LabelSmoothing))],
        "softmax_focal_loss" => [PerClass(LossTasks.Classification, c => (o, y) => F.SoftmaxFocalLoss(o, y, c.ClassWeights))],
        "sigmoid_focal_loss" =>
            [OneLogit(_ => (o, y) => F.SigmoidFocalLoss(o, Binary01(y), reduction: Reduction.Mean)),
             PerTarget(LossTasks.MultiLabel, _ => (o, y) => F.SigmoidFocalLoss(o, y, reduction: Reduction.Mean))],
        "nll_loss" => [PerClass(LossTasks.Classification, c => (o, y) => F.NllLoss(o.LogSoftmax(1), y, c.ClassWeights))],
        "multi_margin_loss" => [PerClass(LossTasks.Classification, c => (o, y) => F.MultiMarginLoss(o, y, weight: c.ClassWeights))],
        "multilabel_soft_margin_loss" => [PerTarget(LossTasks.MultiLabel, _ => (o, y) => F.MultilabelSoftMarginLoss(o, y))],
        "soft_margin_loss" => [OneLogit(_ => (o, y) => F.SoftMarginLoss(o, Binary01(y) * 2 - 1))],
        "poisson_nll_loss" => [PerTarget(LossTasks.Regression, _ => (o, y) => F.PoissonNllLoss(o, Column(y)))],
        _ => [],
    };

    /// <summary>Every loss of torch.nn plus the focal losses, in the order the command line lists them (each one's [Loss] Order).</summary>
    public static ComponentTable<LossEntry> Losses { get; } = new("loss", GeneratedLosses());

    /// <summary>The named distance functions of triplet_margin_with_distance_loss.</summary>
    private static Func<Tensor, Tensor, Tensor>? Distance(OptionValues o) => o.Text("distance_function") switch
    {
        "pairwise_distance" => null, // the default: Euclidean PairwiseDistance
        "pairwise_distance_p1" => (a, b) => F.PairwiseDistance(a, b, 1),
        var name => throw new NotSupportedException($"{o.Owner}: unknown distance_function '{name}' (known: pairwise_distance, pairwise_distance_p1)."),
    };

    /// <summary>The losses that train a model on <paramref name="task"/>, in the order the command line lists them.</summary>
    public static IReadOnlyList<LossEntry> LossesFor(string task) => Losses.All.Where(e => e.For(task) != null).ToList();

    /// <summary>The loss called <paramref name="name"/> (short name, name or alias, optionally with <c>_loss</c>) among those for <paramref name="task"/>, or null.</summary>
    public static LossEntry? LossFor(string task, string name) => LossesFor(task).FirstOrDefault(e => e.IsCalled(name));
}
