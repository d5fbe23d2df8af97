namespace Kindling.NN;

/// <summary>Cross-entropy on logits; see <see cref="Functional.CrossEntropy"/>.</summary>
public sealed class CrossEntropyLoss(Tensor? weight = null, long ignoreIndex = -100, Reduction reduction = Reduction.Mean, double labelSmoothing = 0.0) : Loss(reduction)
{
    public Tensor? Weight { get; } = weight;
    public long IgnoreIndex { get; } = ignoreIndex;
    public double LabelSmoothing { get; } = labelSmoothing;
    public override Tensor Forward(Tensor input, Tensor target) => Functional.CrossEntropy(input, target, Weight, IgnoreIndex, Reduction, LabelSmoothing);
}

/// <summary>Negative log-likelihood of log-probabilities; see <see cref="Functional.NllLoss"/>.</summary>
public sealed class NLLLoss(Tensor? weight = null, long ignoreIndex = -100, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) => Functional.NllLoss(input, target, weight, ignoreIndex, Reduction);
}

/// <summary>Binary cross-entropy of probabilities; see <see cref="Functional.BinaryCrossEntropy"/>.</summary>
public sealed class BCELoss(Tensor? weight = null, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) => Functional.BinaryCrossEntropy(input, target, weight, Reduction);
}

/// <summary>Binary cross-entropy on logits; see <see cref="Functional.BinaryCrossEntropyWithLogits"/>.</summary>
public sealed class BCEWithLogitsLoss(Tensor? weight = null, Reduction reduction = Reduction.Mean, Tensor? posWeight = null) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) => Functional.BinaryCrossEntropyWithLogits(input, target, weight, posWeight, Reduction);
}

/// <summary>torchvision's sigmoid focal loss (α 0.25, γ 2; reduction defaults to Mean here, as a module); see <see cref="Functional.SigmoidFocalLoss"/>.</summary>
public sealed class SigmoidFocalLoss(double alpha = 0.25, double gamma = 2, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) => Functional.SigmoidFocalLoss(input, target, alpha, gamma, Reduction);
}

/// <summary>Multi-class focal loss with per-class α; see <see cref="Functional.SoftmaxFocalLoss"/>.</summary>
public sealed class FocalLoss(Tensor? alpha = null, double gamma = 2, long ignoreIndex = -100, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) => Functional.SoftmaxFocalLoss(input, target, alpha, gamma, ignoreIndex, Reduction);
}

/// <summary>Multi-label one-versus-all loss; see <see cref="Functional.MultilabelSoftMarginLoss"/>.</summary>
public sealed class MultiLabelSoftMarginLoss(Tensor? weight = null, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) => Functional.MultilabelSoftMarginLoss(input, target, weight, Reduction);
}

/// <summary>Multi-class hinge loss; see <see cref="Functional.MultiMarginLoss"/>.</summary>
public sealed class MultiMarginLoss(int p = 1, double margin = 1, Tensor? weight = null, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) => Functional.MultiMarginLoss(input, target, p, margin, weight, Reduction);
}

/// <summary>Multi-label hinge loss; see <see cref="Functional.MultilabelMarginLoss"/>.</summary>
public sealed class MultiLabelMarginLoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) => Functional.MultilabelMarginLoss(input, target, Reduction);
}

/// <summary>Two-class logistic loss; see <see cref="Functional.SoftMarginLoss"/>.</summary>
public sealed class SoftMarginLoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) => Functional.SoftMarginLoss(input, target, Reduction);
}

/// <summary>Hinge embedding loss; see <see cref="Functional.HingeEmbeddingLoss"/>.</summary>
public sealed class HingeEmbeddingLoss(double margin = 1.0, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) => Functional.HingeEmbeddingLoss(input, target, margin, Reduction);
}
