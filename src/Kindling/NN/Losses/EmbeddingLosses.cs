namespace Kindling.NN;

/// <summary>Margin ranking loss; see <see cref="Functional.MarginRankingLoss"/>. Takes (input1, input2, target).</summary>
public sealed class MarginRankingLoss(double margin = 0, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) =>
        throw new ArgumentException("MarginRankingLoss compares two inputs: call Forward(input1, input2, target).");
    public Tensor Forward(Tensor input1, Tensor input2, Tensor target) => Functional.MarginRankingLoss(input1, input2, target, margin, Reduction);
}

/// <summary>Cosine embedding loss; see <see cref="Functional.CosineEmbeddingLoss"/>. Takes (input1, input2, target).</summary>
public sealed class CosineEmbeddingLoss(double margin = 0, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) =>
        throw new ArgumentException("CosineEmbeddingLoss compares two inputs: call Forward(input1, input2, target).");
    public Tensor Forward(Tensor input1, Tensor input2, Tensor target) => Functional.CosineEmbeddingLoss(input1, input2, target, margin, Reduction);
}

/// <summary>Triplet margin loss; see <see cref="Functional.TripletMarginLoss"/>. Takes (anchor, positive, negative).</summary>
public sealed class TripletMarginLoss(double margin = 1.0, double p = 2, double eps = 1e-6, bool swap = false, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) =>
        throw new ArgumentException("TripletMarginLoss takes three tensors: call Forward(anchor, positive, negative).");
    public Tensor Forward(Tensor anchor, Tensor positive, Tensor negative) => Functional.TripletMarginLoss(anchor, positive, negative, margin, p, eps, swap, Reduction);
}

/// <summary>Triplet loss with a custom distance; see <see cref="Functional.TripletMarginWithDistanceLoss"/>.</summary>
public sealed class TripletMarginWithDistanceLoss(Func<Tensor, Tensor, Tensor>? distanceFunction = null, double margin = 1.0, bool swap = false, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) =>
        throw new ArgumentException("TripletMarginWithDistanceLoss takes three tensors: call Forward(anchor, positive, negative).");
    public Tensor Forward(Tensor anchor, Tensor positive, Tensor negative) => Functional.TripletMarginWithDistanceLoss(anchor, positive, negative, distanceFunction, margin, swap, Reduction);
}

/// <summary>CTC loss; see <see cref="Functional.CtcLoss"/>. Takes (log_probs, targets, input_lengths, target_lengths).</summary>
public sealed class CTCLoss(int blank = 0, Reduction reduction = Reduction.Mean, bool zeroInfinity = false) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) =>
        throw new ArgumentException("CTCLoss needs the sequence lengths: call Forward(logProbs, targets, inputLengths, targetLengths).");
    public Tensor Forward(Tensor logProbs, Tensor targets, Tensor inputLengths, Tensor targetLengths) =>
        Functional.CtcLoss(logProbs, targets, inputLengths, targetLengths, blank, Reduction, zeroInfinity);
}
