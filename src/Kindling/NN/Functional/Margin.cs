using Kindling.Registry;
namespace Kindling.NN;

public static partial class Functional
{
    /// <summary>
    /// Two-class logistic loss (PyTorch's <c>F.soft_margin_loss</c>): ℓ = log(1 + e^(−y·x)) with y ∈ {−1, 1}, computed as
    /// softplus(−y·x) so large margins do not overflow (PyTorch's float32 gives inf there). Shapes: input and target identical.
    /// </summary>
    [Loss("soft_margin_loss", "SoftMarginLoss", "two-class logistic loss log(1 + exp(−y·x)) with targets ±1", ShortName = "soft_margin", Aliases = ["soft_margin"], Order = 80)]
    public static Tensor SoftMarginLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        const string L = "soft_margin_loss";
        // PyTorch promotes an integer ±1 target to the input's type.
        if (target.DType == DType.Int64 && input.IsFloatingPoint) target = target.To(input.DType);
        LossCheck.ElementwisePair(L, reduction, input, target);
        return LossCheck.Reduce((-(target.Detach()) * input).Softplus(), reduction);
    }

    /// <summary>
    /// Hinge embedding loss (PyTorch's <c>F.hinge_embedding_loss</c>): ℓ = x where y = 1, max(0, margin − x) where y = −1
    /// (targets other than ±1 take both terms, as in PyTorch). Default margin 1. Shapes: input and target broadcast
    /// (as PyTorch's <c>where</c>-based kernel does); the unreduced loss has the broadcast shape.
    /// </summary>
    [Loss("hinge_embedding_loss", "HingeEmbeddingLoss", "x for y = 1, max(0, margin − x) for y = −1", Order = 170)]
    public static Tensor HingeEmbeddingLoss(Tensor input, Tensor target, [Option("the margin")] double margin = 1.0, Reduction reduction = Reduction.Mean)
    {
        const string L = "hinge_embedding_loss";
        LossCheck.Reduction(L, reduction);
        LossCheck.Float(L, "input", input);
        LossCheck.Broadcastable(L, input, target, "input", "target");
        var t = target.Detach();
        var zeros = Tensor.ZerosLike(input);
        var marginTerm = (margin - input).Clamp(min: 0);
        var each = Tensor.Where(t.Ne(1), marginTerm, zeros) + Tensor.Where(t.Ne(-1), input, zeros);
        return LossCheck.Reduce(each, reduction);
    }

    /// <summary>
    /// Margin ranking loss (PyTorch's <c>F.margin_ranking_loss</c>): ℓ = max(0, −y·(x1 − x2) + margin), y ∈ {1, −1} saying
    /// which input should rank higher. Default margin 0. Shapes: input1, input2 and target have the same number of
    /// dimensions and broadcast (PyTorch 1.13 checks the ranks and broadcasts the sizes). All three are differentiable.
    /// </summary>
    [Loss("margin_ranking_loss", "MarginRankingLoss", "max(0, −y·(x₁ − x₂) + margin)", Order = 180)]
    public static Tensor MarginRankingLoss(Tensor input1, Tensor input2, Tensor target, [Option("the margin")] double margin = 0, Reduction reduction = Reduction.Mean)
    {
        const string L = "margin_ranking_loss";
        LossCheck.Reduction(L, reduction);
        LossCheck.Float(L, "input1", input1);
        LossCheck.Float(L, "input2", input2);
        LossCheck.Float(L, "target", target);
        if (input1.Rank != input2.Rank || input1.Rank != target.Rank)
            throw new ArgumentException($"{L}: all input tensors should have the same number of dimensions, got input1 {input1.ShapeString}, input2 {input2.ShapeString}, target {target.ShapeString}.", nameof(target));
        var shape = LossCheck.Broadcastable(L, input1, input2, "input1", "input2");
        LossCheck.Broadcastable(L, Tensor.Zeros(shape), target, "input1 − input2", "target");
        return LossCheck.Reduce((-target * (input1 - input2) + margin).Clamp(min: 0), reduction);
    }

    /// <summary>
    /// Cosine embedding loss (PyTorch's <c>F.cosine_embedding_loss</c>): ℓ = 1 − cos(x1, x2) where y = 1,
    /// max(0, cos(x1, x2) − margin) where y = −1; cos = x1·x2 / √((|x1|² + 1e-12)(|x2|² + 1e-12)). Shapes: inputs (N, D) with
    /// target (N), or (D) with a scalar target. Default margin 0.
    /// </summary>
    [Loss("cosine_embedding_loss", "CosineEmbeddingLoss", "1 − cos(x₁, x₂) for y = 1, max(0, cos − margin) for y = −1", Order = 190)]
    public static Tensor CosineEmbeddingLoss(Tensor input1, Tensor input2, Tensor target, [Option("the margin, in [−1, 1]")] double margin = 0, Reduction reduction = Reduction.Mean)
    {
        const string L = "cosine_embedding_loss";
        LossCheck.Reduction(L, reduction);
        LossCheck.Float(L, "input1", input1);
        LossCheck.Float(L, "input2", input2);
        LossCheck.SameShape(L, input1, input2, "input1", "input2");
        if (input1.Rank is < 1 or > 2)
            throw new ArgumentException($"{L}: inputs must be (N, D) or (D), got {input1.ShapeString}.", nameof(input1));
        if (target.Rank != input1.Rank - 1 || (input1.Rank == 2 && target.Dims[0] != input1.Dims[0]))
            throw new ArgumentException($"{L}: inputs {input1.ShapeString} need a target of shape {(input1.Rank == 2 ? $"({input1.Dims[0]},)" : "()")}, got {target.ShapeString}.", nameof(target));
        int d = input1.Rank - 1;
        const double eps = 1e-12;
        var prod = (input1 * input2).Sum(d);
        var m1 = (input1 * input1).Sum(d) + eps;
        var m2 = (input2 * input2).Sum(d) + eps;
        var cos = prod / (m1 * m2).Sqrt();
        var t = target.Detach();
        var zeros = Tensor.ZerosLike(cos);
        var each = Tensor.Where(t.Eq(1), 1 - cos, zeros) + Tensor.Where(t.Eq(-1), (cos - margin).Clamp(min: 0), zeros);
        return LossCheck.Reduce(each, reduction);
    }

    /// <summary>
    /// Multi-class hinge loss (PyTorch's <c>F.multi_margin_loss</c>): ℓₙ = (1/C)·Σ_{j≠y} w[y]·max(0, margin − x[y] + x[j])ᵖ
    /// with p ∈ {1, 2} (default 1), margin default 1, weight (C) applied after the power, as PyTorch's kernel does.
    /// Shapes: input (N, C) with int64 target (N), or (C) with a scalar target.
    /// </summary>
    [Loss("multi_margin_loss", "MultiMarginLoss", "multi-class hinge loss Σ max(0, margin − x[y] + x[i])^p / C", ShortName = "multi_margin", Aliases = ["multi_margin", "hinge"], Order = 60)]
    public static Tensor MultiMarginLoss(Tensor input, Tensor target, [Option("exponent: 1 or 2", Min = 1, Max = 2)] int p = 1, [Option("the margin")] double margin = 1,
        [Option("per-class rescaling weight, shape (C)")] Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        const string L = "multi_margin_loss";
        LossCheck.Reduction(L, reduction);
        LossCheck.Float(L, "input", input);
        if (p != 1 && p != 2) throw new ArgumentOutOfRangeException(nameof(p), p, $"{L}: only p = 1 and p = 2 are supported, got {p}.");
        if (input.Rank > 2) throw new ArgumentException($"{L}: input must be (N, C), (C) or a scalar, got {input.ShapeString}.", nameof(input));
        int c = input.Rank == 0 ? 1 : input.Dims[^1];
        var w = CheckWeight(L, weight, c, input);
        Tensor x;
        long[] tgt;
        int[] outShape;
        if (input.Rank <= 1)
        {
            // One sample (PyTorch: a scalar input is one class; the target is a scalar or a 1-element vector, and the
            // unreduced loss takes the target's shape).
            if (target.DType != DType.Int64) throw new ArgumentException($"{L}: target must be int64 class indices, got {Tensor.DTypeName(target.DType)}.", nameof(target));
            if (target.Rank > 1 || target.NumEl != 1)
                throw new ArgumentException($"{L}: input {input.ShapeString} is one sample and needs one class index (shape () or (1,)), got {target.ShapeString}.", nameof(target));
            tgt = target.ToInt64Array();
            if (tgt[0] < 0 || tgt[0] >= c) throw new ArgumentOutOfRangeException(nameof(target), tgt[0], $"{L}: target {tgt[0]} is out of range for {c} classes.");
            x = input.Reshape(1, c);
            outShape = target.Dims;
        }
        else
        {
            x = input;
            (_, tgt, outShape) = ClassLayout(L, input, target, long.MinValue, c);
        }
        var idx = Tensor.FromArray(tgt, tgt.Length, 1);
        var xy = x.Gather(1, idx);
        var z = (margin - xy + x).Relu();
        if (p == 2) z = z * z;
        var notTarget = Tensor.OneHot(idx.Squeeze(1), c).Eq(0).To(input.DType);
        var each = (z * notTarget).Sum(1) / c;
        if (w != null) each = each * w.Gather(0, idx.Squeeze(1));
        return LossCheck.Reduce(each.Reshape(outShape), reduction);
    }

    /// <summary>
    /// Multi-label hinge loss (PyTorch's <c>F.multilabel_margin_loss</c>): ℓₙ = Σ_{j ∈ Y} Σ_{k ∉ Y} max(0, 1 − (x[j] − x[k])) / C,
    /// where Y is the set of target classes listed in targetₙ up to the first −1. Shapes: input (N, C) or (C); target int64 of the same shape.
    /// </summary>
    [Loss("multilabel_margin_loss", "MultiLabelMarginLoss", "multi-label hinge loss over the target classes listed before the first −1", Order = 200)]
    public static Tensor MultilabelMarginLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        const string L = "multilabel_margin_loss";
        LossCheck.Reduction(L, reduction);
        LossCheck.Float(L, "input", input);
        if (target.DType != DType.Int64) throw new ArgumentException($"{L}: target must be int64 class indices padded with −1, got {Tensor.DTypeName(target.DType)}.", nameof(target));
        LossCheck.SameShape(L, input, target);
        if (input.Rank > 2) throw new ArgumentException($"{L}: input must be (N, C), (C) or a scalar, got {input.ShapeString}.", nameof(input));
        // PyTorch: "Expected non-empty vector or matrix with optional 0-dim batch size" — an empty class dimension is refused, an empty batch is not.
        if (input.Rank == 1 && input.NumEl == 0 || input.Rank == 2 && input.Dims[1] == 0)
            throw new ArgumentException($"{L}: expected a non-empty vector or matrix with an optional empty batch, got {input.ShapeString} (no classes).", nameof(input));
        var x = input.Rank <= 1 ? input.Reshape(1, Math.Max(input.NumEl, 1)) : input;
        int n = x.Dims[0], c = x.Dims[1];
        var t = target.ToInt64Array();
        var isTarget = new double[n * c];
        var listed = new double[n * c];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < c; j++)
            {
                long v = t[i * c + j];
                if (v == -1) break;
                if (v < 0 || v >= c) throw new ArgumentOutOfRangeException(nameof(target), v, $"{L}: target {v} in row {i} is out of range for {c} classes (valid 0..{c - 1}, or −1 to end the list).");
                isTarget[i * c + v] = 1;
                listed[i * c + v] += 1; // a class listed twice counts twice, as in PyTorch's kernel
            }
        // Pairwise hinge over (target j, non-target k): x[:, j] − x[:, k] for every pair, masked.
        var isT = Tensor.FromArray(isTarget, n, c).To(input.DType);
        var diff = 1 - (x.Unsqueeze(2) - x.Unsqueeze(1));                   // [n, j, k] = 1 − (x_j − x_k)
        var mask = Tensor.FromArray(listed, n, c).To(input.DType).Unsqueeze(2) * (1 - isT).Unsqueeze(1);
        var each = (diff.Relu() * mask).Sum([1, 2]) / c;
        if (input.Rank <= 1) each = each.Reshape();
        return LossCheck.Reduce(each, reduction);
    }

    /// <summary>
    /// Pairwise distance (PyTorch's <c>F.pairwise_distance</c>): ‖x1 − x2 + eps‖ₚ along the last dimension. Defaults p = 2, eps = 1e-6.
    /// </summary>
    public static Tensor PairwiseDistance(Tensor x1, Tensor x2, double p = 2, double eps = 1e-6, bool keepDim = false)
    {
        var diff = x1 - x2 + eps;
        return diff.Norm(p, -1, keepDim);
    }

    /// <summary>
    /// Triplet margin loss (PyTorch's <c>F.triplet_margin_loss</c>): ℓ = max(0, d(a, p) − d(a, n) + margin) with
    /// d = <see cref="PairwiseDistance"/>(·, ·, p, eps); with swap, d(a, n) is replaced by min(d(a, n), d(p, n)).
    /// Defaults: margin 1, p 2, eps 1e-6, swap false. Shapes: anchor, positive, negative identical, (N, D) or (D).
    /// All three are differentiable.
    /// </summary>
    [Loss("triplet_margin_loss", "TripletMarginLoss", "max(d(a, p) − d(a, n) + margin, 0) with the p-norm distance", Order = 210)]
    public static Tensor TripletMarginLoss(Tensor anchor, Tensor positive, Tensor negative, [Option("the margin")] double margin = 1.0, [Option("norm degree of the distance")] double p = 2,
        [Option("added to the difference before the norm")] double eps = 1e-6, [Option("use the distance swap")] bool swap = false, Reduction reduction = Reduction.Mean)
    {
        const string L = "triplet_margin_loss";
        CheckTriplet(L, anchor, positive, negative);
        if (!(p > 0)) throw new ArgumentOutOfRangeException(nameof(p), p, $"{L}: p must be positive, got {p}.");
        return Triplet(L, anchor, positive, negative, (a, b) => PairwiseDistance(a, b, p, eps), margin, swap, reduction);
    }

    /// <summary>
    /// Triplet loss with a custom distance (PyTorch's <c>F.triplet_margin_with_distance_loss</c>):
    /// ℓ = max(0, d(a, p) − d(a, n) + margin); distanceFunction defaults to the Euclidean <see cref="PairwiseDistance"/>.
    /// </summary>
    [Loss("triplet_margin_with_distance_loss", "TripletMarginWithDistanceLoss", "triplet loss with a distance function of your choice", Order = 220)]
    public static Tensor TripletMarginWithDistanceLoss(Tensor anchor, Tensor positive, Tensor negative,
        // A file or a command line cannot hold a callable: the registry names the distance.
        [Option("the distance, by name", Choices = ["pairwise_distance", "pairwise_distance_p1"], FromChoice = "Distance")] Func<Tensor, Tensor, Tensor>? distanceFunction = null,
        [Option("the margin (> 0)")] double margin = 1.0, [Option("use the distance swap")] bool swap = false, Reduction reduction = Reduction.Mean)
    {
        const string L = "triplet_margin_with_distance_loss";
        if (!(margin > 0)) throw new ArgumentOutOfRangeException(nameof(margin), margin, $"{L}: margin must be greater than 0, got {margin}.");
        return Triplet(L, anchor, positive, negative, distanceFunction, margin, swap, reduction);
    }

    private static Tensor Triplet(string loss, Tensor anchor, Tensor positive, Tensor negative, Func<Tensor, Tensor, Tensor>? distanceFunction, double margin, bool swap, Reduction reduction)
    {
        LossCheck.Reduction(loss, reduction);
        CheckTriplet(loss, anchor, positive, negative);
        var dist = distanceFunction ?? ((a, b) => PairwiseDistance(a, b));
        var dPos = dist(anchor, positive);
        var dNeg = dist(anchor, negative);
        if (swap) dNeg = Tensor.Minimum(dNeg, dist(positive, negative));
        return LossCheck.Reduce((margin + dPos - dNeg).Clamp(min: 0), reduction);
    }

    private static void CheckTriplet(string loss, Tensor a, Tensor p, Tensor n)
    {
        LossCheck.Float(loss, "anchor", a);
        LossCheck.Float(loss, "positive", p);
        LossCheck.Float(loss, "negative", n);
        if (a.Rank is < 1 or > 2) throw new ArgumentException($"{loss}: anchor must be (N, D) or (D), got {a.ShapeString}.", "anchor");
        LossCheck.SameShape(loss, a, p, "anchor", "positive");
        LossCheck.SameShape(loss, a, n, "anchor", "negative");
    }
}
