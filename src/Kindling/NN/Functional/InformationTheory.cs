namespace Kindling.NN;

/// <summary>
/// The information-theory quantities behind the losses (in nats; divide by ln 2 for bits). Distributions are
/// probability vectors along the last dimension, so a (N, K) tensor holds N distributions and the result has shape (N).
/// 0·log 0 is taken as 0.
/// </summary>
public static class InformationTheory
{
    /// <summary>Entropy H(p) = −Σ p·log p along the last dimension. p: (..., K) → (...).</summary>
    public static Tensor Entropy(Tensor p) => -Tensor.Xlogy(p, p).Sum(-1);

    /// <summary>
    /// Cross-entropy H(p, q) = −Σ p·log q along the last dimension: the expected code length of p under a code built for q,
    /// the quantity cross-entropy loss minimises (p: true labels, q: predicted probabilities). p, q: (..., K) → (...).
    /// </summary>
    public static Tensor CrossEntropy(Tensor p, Tensor q)
    {
        CheckPair("cross_entropy", p, q);
        return -Tensor.Xlogy(p, q).Sum(-1);
    }

    /// <summary>KL divergence D(p ‖ q) = Σ p·log(p / q) = H(p, q) − H(p) ≥ 0, along the last dimension. p, q: (..., K) → (...).</summary>
    public static Tensor KLDivergence(Tensor p, Tensor q)
    {
        CheckPair("kl_divergence", p, q);
        return (Tensor.Xlogy(p, p) - Tensor.Xlogy(p, q)).Sum(-1);
    }

    /// <summary>
    /// Conditional entropy H(Y | X) = −Σ_{x,y} p(x, y)·log p(y | x) = H(X, Y) − H(X), from a joint distribution
    /// <paramref name="joint"/> of shape (|X|, |Y|) whose entries sum to 1 (rows index x). Returns a scalar.
    /// </summary>
    public static Tensor ConditionalEntropy(Tensor joint)
    {
        if (joint.Rank != 2) throw new ArgumentException($"conditional_entropy: joint must be a (|X|, |Y|) matrix, got {joint.ShapeString}.", nameof(joint));
        double total = joint.Sum().ItemDouble();
        if (Math.Abs(total - 1) > 1e-4) throw new ArgumentException($"conditional_entropy: the joint distribution must sum to 1, it sums to {total}.", nameof(joint));
        var px = joint.Sum(1, keepDim: true);
        return -Tensor.Xlogy(joint, joint).Sum() + Tensor.Xlogy(px, px).Sum();
    }

    private static void CheckPair(string f, Tensor p, Tensor q)
    {
        if (!p.Dims.AsSpan().SequenceEqual(q.Dims)) throw new ArgumentException($"{f}: p {p.ShapeString} and q {q.ShapeString} must have the same shape.");
    }
}
