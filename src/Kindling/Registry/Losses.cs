using Kindling.NN;
using static Kindling.Registry.OptionSpec;
using F = Kindling.NN.Functional;

namespace Kindling.Registry;

/// <summary>
/// The registry of named components (PyTorch's native_functions.yaml, one schema per component): losses, optimizers,
/// activations, LR schedulers and datasets, each with its name, aliases, option schema and factory. The command line
/// (its options, help and validation), the parity tool and the coverage tests read these tables, so a new component
/// is its own file plus one entry here.
/// </summary>
public static partial class Components
{
    private static OptionSpec Red(string @default = "mean", bool batchMean = false) =>
        Choice("reduction", @default, "how the per-element losses are combined", batchMean ? ["none", "mean", "sum", "batchmean"] : ["none", "mean", "sum"]);
    private static OptionSpec Weight(string help = "per-class rescaling weight, shape (C)") => TensorOption("weight", help);
    private static OptionSpec IgnoreIndex() => Integer("ignore_index", -100, "target value that is ignored and does not contribute to the gradient");

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

    /// <summary>Every loss of torch.nn plus the focal losses, in the order the command line lists them.</summary>
    public static ComponentTable<LossEntry> Losses { get; } = new("loss",
    [
        new()
        {
            Name = "binary_cross_entropy_with_logits", ShortName = "bce_with_logits", Aliases = ["bce_with_logits", "bce", "bcewithlogits"], ModuleName = "BCEWithLogitsLoss",
            Help = "sigmoid and binary cross-entropy fused, stable for any logit",
            Options = [Weight("rescaling weight of each element, broadcast to the input"), TensorOption("pos_weight", "weight of positive examples, per class"), Red()],
            Functional = (x, o) => F.BinaryCrossEntropyWithLogits(x("input"), x("target"), o.Tensor("weight"), o.Tensor("pos_weight"), o.Reduction()),
            Module = o => new BCEWithLogitsLoss(o.Tensor("weight"), o.Reduction(), o.Tensor("pos_weight")),
            // Class weights (w₀, w₁) on one logit: pos_weight w₁/w₀ weighs the positives against the negatives.
            Uses = [OneLogit(c => { var pw = c.ClassWeights == null ? null : Tensor.FromArray(new[] { c.ClassWeights.ToArray()[1] / c.ClassWeights.ToArray()[0] });
                                    return (o, y) => F.BinaryCrossEntropyWithLogits(o, Binary01(y), posWeight: pw); }),
                    PerTarget(LossTasks.MultiLabel, _ => (o, y) => F.BinaryCrossEntropyWithLogits(o, y))],
        },
        new()
        {
            Name = "cross_entropy", Aliases = ["ce", "crossentropy"], ModuleName = "CrossEntropyLoss",
            Help = "log-softmax + negative log-likelihood over class logits (class indices or class probabilities as targets)",
            Options = [Weight(), IgnoreIndex(), Red(), Number("label_smoothing", 0.0, "ε: the target mixes (1 − ε)·one-hot with ε·uniform", 0, 1)],
            Functional = (x, o) => F.CrossEntropy(x("input"), x("target"), o.Tensor("weight"), o.Integer("ignore_index"), o.Reduction(), o.Number("label_smoothing")),
            Module = o => new CrossEntropyLoss(o.Tensor("weight"), o.Integer("ignore_index"), o.Reduction(), o.Number("label_smoothing")),
            Uses = [PerClass(LossTasks.Classification, c => (o, y) => F.CrossEntropy(o, y, c.ClassWeights, labelSmoothing: c.LabelSmoothing)),
                    PerClass(LossTasks.Binary, c => (o, y) => F.CrossEntropy(o, y, c.ClassWeights, labelSmoothing: c.LabelSmoothing))],
        },
        new()
        {
            Name = "softmax_focal_loss", ShortName = "focal", Aliases = ["softmax_focal"], ModuleName = "FocalLoss",
            Help = "multi-class focal loss −α[y]·(1 − p_y)^γ·log p_y: down-weights easy examples",
            Options = [TensorOption("alpha", "per-class weight α, shape (C)"), Number("gamma", 2.0, "focusing exponent γ", 0), IgnoreIndex(), Red()],
            Functional = (x, o) => F.SoftmaxFocalLoss(x("input"), x("target"), o.Tensor("alpha"), o.Number("gamma"), o.Integer("ignore_index"), o.Reduction()),
            Module = o => new FocalLoss(o.Tensor("alpha"), o.Number("gamma"), o.Integer("ignore_index"), o.Reduction()),
            Uses = [PerClass(LossTasks.Classification, c => (o, y) => F.SoftmaxFocalLoss(o, y, c.ClassWeights))],
        },
        new()
        {
            Name = "sigmoid_focal_loss", ShortName = "focal", Aliases = ["sigmoid_focal"], ModuleName = "SigmoidFocalLoss",
            Help = "binary focal loss (torchvision's sigmoid_focal_loss) on logits",
            Options = [Number("alpha", 0.25, "weight of the positive class (negative: none)"), Number("gamma", 2.0, "focusing exponent γ", 0), Red("none")],
            Functional = (x, o) => F.SigmoidFocalLoss(x("input"), x("target"), o.Number("alpha"), o.Number("gamma"), o.Reduction()),
            Module = o => new SigmoidFocalLoss(o.Number("alpha"), o.Number("gamma"), o.Reduction()),
            Uses = [OneLogit(_ => (o, y) => F.SigmoidFocalLoss(o, Binary01(y), reduction: Reduction.Mean)),
                    PerTarget(LossTasks.MultiLabel, _ => (o, y) => F.SigmoidFocalLoss(o, y, reduction: Reduction.Mean))],
        },
        new()
        {
            Name = "nll_loss", ShortName = "nll", Aliases = ["nll"], ModuleName = "NLLLoss",
            Help = "negative log-likelihood of log-probabilities (the CLI applies log-softmax to the logits)",
            Options = [Weight(), IgnoreIndex(), Red()],
            Functional = (x, o) => F.NllLoss(x("input"), x("target"), o.Tensor("weight"), o.Integer("ignore_index"), o.Reduction()),
            Module = o => new NLLLoss(o.Tensor("weight"), o.Integer("ignore_index"), o.Reduction()),
            Uses = [PerClass(LossTasks.Classification, c => (o, y) => F.NllLoss(o.LogSoftmax(1), y, c.ClassWeights))],
        },
        new()
        {
            Name = "multi_margin_loss", ShortName = "multi_margin", Aliases = ["multi_margin", "hinge"], ModuleName = "MultiMarginLoss",
            Help = "multi-class hinge loss Σ max(0, margin − x[y] + x[i])^p / C",
            Options = [Integer("p", 1, "exponent: 1 or 2", 1, 2), Number("margin", 1.0, "the margin"), Weight(), Red()],
            Functional = (x, o) => F.MultiMarginLoss(x("input"), x("target"), (int)o.Integer("p"), o.Number("margin"), o.Tensor("weight"), o.Reduction()),
            Module = o => new MultiMarginLoss((int)o.Integer("p"), o.Number("margin"), o.Tensor("weight"), o.Reduction()),
            Uses = [PerClass(LossTasks.Classification, c => (o, y) => F.MultiMarginLoss(o, y, weight: c.ClassWeights))],
        },
        new()
        {
            Name = "multilabel_soft_margin_loss", ShortName = "multilabel_soft_margin", Aliases = ["multilabel_soft_margin"], ModuleName = "MultiLabelSoftMarginLoss",
            Help = "per-label logistic loss averaged over the labels",
            Options = [Weight("per-label weight, shape (C)"), Red()],
            Functional = (x, o) => F.MultilabelSoftMarginLoss(x("input"), x("target"), o.Tensor("weight"), o.Reduction()),
            Module = o => new MultiLabelSoftMarginLoss(o.Tensor("weight"), o.Reduction()),
            Uses = [PerTarget(LossTasks.MultiLabel, _ => (o, y) => F.MultilabelSoftMarginLoss(o, y))],
        },
        new()
        {
            Name = "soft_margin_loss", ShortName = "soft_margin", Aliases = ["soft_margin"], ModuleName = "SoftMarginLoss",
            Help = "two-class logistic loss log(1 + exp(−y·x)) with targets ±1",
            Options = [Red()],
            Functional = (x, o) => F.SoftMarginLoss(x("input"), x("target"), o.Reduction()),
            Module = o => new SoftMarginLoss(o.Reduction()),
            Uses = [OneLogit(_ => (o, y) => F.SoftMarginLoss(o, Binary01(y) * 2 - 1))],
        },
        new()
        {
            Name = "mse_loss", ShortName = "mse", Aliases = ["mse"], ModuleName = "MSELoss",
            Help = "mean squared error (the maximum-likelihood loss under Gaussian noise)",
            Options = [Red()],
            Functional = (x, o) => F.MseLoss(x("input"), x("target"), o.Reduction()),
            Module = o => new MSELoss(o.Reduction()),
            Uses = Pointwise((a, b) => F.MseLoss(a, b), LossTasks.Classification, LossTasks.Binary, LossTasks.MultiLabel, LossTasks.Regression),
        },
        new()
        {
            Name = "l1_loss", ShortName = "l1", Aliases = ["l1", "mae"], ModuleName = "L1Loss",
            Help = "mean absolute error",
            Options = [Red()],
            Functional = (x, o) => F.L1Loss(x("input"), x("target"), o.Reduction()),
            Module = o => new L1Loss(o.Reduction()),
            Uses = Pointwise((a, b) => F.L1Loss(a, b), LossTasks.Classification, LossTasks.Binary, LossTasks.Regression),
        },
        new()
        {
            Name = "huber_loss", ShortName = "huber", Aliases = ["huber"], ModuleName = "HuberLoss",
            Help = "squared error below delta, linear above: robust to outliers",
            Options = [Red(), Number("delta", 1.0, "where the loss turns from quadratic to linear", 0, minExclusive: true)],
            Functional = (x, o) => F.HuberLoss(x("input"), x("target"), o.Reduction(), o.Number("delta")),
            Module = o => new HuberLoss(o.Reduction(), o.Number("delta")),
            Uses = Pointwise((a, b) => F.HuberLoss(a, b), LossTasks.Classification, LossTasks.Regression),
        },
        new()
        {
            Name = "smooth_l1_loss", ShortName = "smooth_l1", Aliases = ["smooth_l1"], ModuleName = "SmoothL1Loss",
            Help = "Huber loss divided by beta",
            Options = [Red(), Number("beta", 1.0, "where the loss turns from quadratic to linear", 0)],
            Functional = (x, o) => F.SmoothL1Loss(x("input"), x("target"), o.Reduction(), o.Number("beta")),
            Module = o => new SmoothL1Loss(o.Reduction(), o.Number("beta")),
            Uses = Pointwise((a, b) => F.SmoothL1Loss(a, b), LossTasks.Regression),
        },
        new()
        {
            Name = "poisson_nll_loss", ShortName = "poisson_nll", Aliases = ["poisson_nll", "poisson"], ModuleName = "PoissonNLLLoss",
            Help = "Poisson negative log-likelihood of counts (log-rate input by default)",
            Options = [Bool("log_input", true, "the input is log λ (else λ)"), Bool("full", false, "add the Stirling term"), Number("eps", 1e-8, "added to λ when log_input is false", 0), Red()],
            Functional = (x, o) => F.PoissonNllLoss(x("input"), x("target"), o.Bool("log_input"), o.Bool("full"), o.Number("eps"), o.Reduction()),
            Module = o => new PoissonNLLLoss(o.Bool("log_input"), o.Bool("full"), o.Number("eps"), o.Reduction()),
            Uses = [PerTarget(LossTasks.Regression, _ => (o, y) => F.PoissonNllLoss(o, Column(y)))],
        },
        new()
        {
            Name = "binary_cross_entropy", Aliases = ["bce_loss"], ModuleName = "BCELoss",
            Help = "binary cross-entropy of probabilities in [0, 1]",
            Options = [Weight("rescaling weight of each element, broadcast to the input"), Red()],
            Functional = (x, o) => F.BinaryCrossEntropy(x("input"), x("target"), o.Tensor("weight"), o.Reduction()),
            Module = o => new BCELoss(o.Tensor("weight"), o.Reduction()),
        },
        new()
        {
            Name = "kl_div", Aliases = ["kl_div_loss"], ModuleName = "KLDivLoss",
            Help = "Kullback-Leibler divergence of a target distribution from log-probabilities",
            Options = [Red(batchMean: true), Bool("log_target", false, "the target is given as log-probabilities")],
            Functional = (x, o) => F.KLDiv(x("input"), x("target"), o.Reduction(), o.Bool("log_target")),
            Module = o => new KLDivLoss(o.Reduction(), o.Bool("log_target")),
        },
        new()
        {
            Name = "gaussian_nll_loss", ModuleName = "GaussianNLLLoss", Inputs = ["input", "target", "var"],
            Help = "Gaussian negative log-likelihood with a predicted variance",
            Options = [Bool("full", false, "add the constant ½·log 2π"), Number("eps", 1e-6, "clamp of the variance", 0), Red()],
            Functional = (x, o) => F.GaussianNllLoss(x("input"), x("target"), x("var"), o.Bool("full"), o.Number("eps"), o.Reduction()),
            Module = o => new GaussianNLLLoss(o.Bool("full"), o.Number("eps"), o.Reduction()),
            CallModule = (m, x) => ((GaussianNLLLoss)m).Forward(x("input"), x("target"), x("var")),
        },
        new()
        {
            Name = "hinge_embedding_loss", ModuleName = "HingeEmbeddingLoss",
            Help = "x for y = 1, max(0, margin − x) for y = −1",
            Options = [Number("margin", 1.0, "the margin"), Red()],
            Functional = (x, o) => F.HingeEmbeddingLoss(x("input"), x("target"), o.Number("margin"), o.Reduction()),
            Module = o => new HingeEmbeddingLoss(o.Number("margin"), o.Reduction()),
        },
        new()
        {
            Name = "margin_ranking_loss", ModuleName = "MarginRankingLoss", Inputs = ["input1", "input2", "target"],
            Help = "max(0, −y·(x₁ − x₂) + margin)",
            Options = [Number("margin", 0.0, "the margin"), Red()],
            Functional = (x, o) => F.MarginRankingLoss(x("input1"), x("input2"), x("target"), o.Number("margin"), o.Reduction()),
            Module = o => new MarginRankingLoss(o.Number("margin"), o.Reduction()),
            CallModule = (m, x) => ((MarginRankingLoss)m).Forward(x("input1"), x("input2"), x("target")),
        },
        new()
        {
            Name = "cosine_embedding_loss", ModuleName = "CosineEmbeddingLoss", Inputs = ["input1", "input2", "target"],
            Help = "1 − cos(x₁, x₂) for y = 1, max(0, cos − margin) for y = −1",
            Options = [Number("margin", 0.0, "the margin, in [−1, 1]"), Red()],
            Functional = (x, o) => F.CosineEmbeddingLoss(x("input1"), x("input2"), x("target"), o.Number("margin"), o.Reduction()),
            Module = o => new CosineEmbeddingLoss(o.Number("margin"), o.Reduction()),
            CallModule = (m, x) => ((CosineEmbeddingLoss)m).Forward(x("input1"), x("input2"), x("target")),
        },
        new()
        {
            Name = "multilabel_margin_loss", ModuleName = "MultiLabelMarginLoss",
            Help = "multi-label hinge loss over the target classes listed before the first −1",
            Options = [Red()],
            Functional = (x, o) => F.MultilabelMarginLoss(x("input"), x("target"), o.Reduction()),
            Module = o => new MultiLabelMarginLoss(o.Reduction()),
        },
        new()
        {
            Name = "triplet_margin_loss", ModuleName = "TripletMarginLoss", Inputs = ["anchor", "positive", "negative"],
            Help = "max(d(a, p) − d(a, n) + margin, 0) with the p-norm distance",
            Options = [Number("margin", 1.0, "the margin"), Number("p", 2.0, "norm degree of the distance"), Number("eps", 1e-6, "added to the difference before the norm"),
                       Bool("swap", false, "use the distance swap"), Red()],
            Functional = (x, o) => F.TripletMarginLoss(x("anchor"), x("positive"), x("negative"), o.Number("margin"), o.Number("p"), o.Number("eps"), o.Bool("swap"), o.Reduction()),
            Module = o => new TripletMarginLoss(o.Number("margin"), o.Number("p"), o.Number("eps"), o.Bool("swap"), o.Reduction()),
            CallModule = (m, x) => ((TripletMarginLoss)m).Forward(x("anchor"), x("positive"), x("negative")),
        },
        new()
        {
            Name = "triplet_margin_with_distance_loss", ModuleName = "TripletMarginWithDistanceLoss", Inputs = ["anchor", "positive", "negative"],
            Help = "triplet loss with a distance function of your choice",
            // A file or a command line cannot hold a callable: the distance is named.
            Options = [Choice("distance_function", "pairwise_distance", "the distance, by name", "pairwise_distance", "pairwise_distance_p1"),
                       Number("margin", 1.0, "the margin (> 0)"), Bool("swap", false, "use the distance swap"), Red()],
            Functional = (x, o) => F.TripletMarginWithDistanceLoss(x("anchor"), x("positive"), x("negative"), Distance(o), o.Number("margin"), o.Bool("swap"), o.Reduction()),
            Module = o => new TripletMarginWithDistanceLoss(Distance(o), o.Number("margin"), o.Bool("swap"), o.Reduction()),
            CallModule = (m, x) => ((TripletMarginWithDistanceLoss)m).Forward(x("anchor"), x("positive"), x("negative")),
        },
        new()
        {
            Name = "ctc_loss", ModuleName = "CTCLoss", Inputs = ["log_probs", "targets", "input_lengths", "target_lengths"],
            Help = "connectionist temporal classification of unaligned label sequences",
            Options = [Integer("blank", 0, "index of the blank label", 0), Red(), Bool("zero_infinity", false, "replace infinite losses (impossible alignments) by 0")],
            Functional = (x, o) => F.CtcLoss(x("log_probs"), x("targets"), x("input_lengths"), x("target_lengths"), (int)o.Integer("blank"), o.Reduction(), o.Bool("zero_infinity")),
            Module = o => new CTCLoss((int)o.Integer("blank"), o.Reduction(), o.Bool("zero_infinity")),
            CallModule = (m, x) => ((CTCLoss)m).Forward(x("log_probs"), x("targets"), x("input_lengths"), x("target_lengths")),
        },
    ]);

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
