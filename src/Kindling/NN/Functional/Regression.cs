using System.Numerics;
using Kindling.Kernels;

namespace Kindling.NN;

public static partial class Functional
{
    /// <summary>
    /// Mean squared error (PyTorch's <c>F.mse_loss</c>): ℓ = (x − y)². Shapes: input and target identical — unlike
    /// PyTorch, which broadcasts (N, 1) against (N) to (N, N) with only a warning, Kindling rejects any mismatch and
    /// says how to reshape. Mean averages over all elements. One fused node; both arguments are differentiable.
    /// </summary>
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
        Pointwise<MseLossOperator>("mse_loss", 0, input, target, reduction);

    /// <summary>Mean absolute error (PyTorch's <c>F.l1_loss</c>): ℓ = |x − y| (gradient 0 at a tie). Shapes and reduction as <see cref="MseLoss"/>.</summary>
    public static Tensor L1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
        Pointwise<L1LossOperator>("l1_loss", 0, input, target, reduction);

    /// <summary>
    /// Smooth L1 (PyTorch's <c>F.smooth_l1_loss</c>): ℓ = 0.5·d²/β if |d| &lt; β, else |d| − 0.5·β, d = x − y;
    /// β = 0 is the L1 loss. Default β = 1. Shapes and reduction as <see cref="MseLoss"/>.
    /// </summary>
    public static Tensor SmoothL1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double beta = 1.0)
    {
        if (!(beta >= 0)) throw new ArgumentOutOfRangeException(nameof(beta), beta, $"smooth_l1_loss: beta must be non-negative, got {beta}.");
        return Pointwise<SmoothL1LossOperator>("smooth_l1_loss", beta, input, target, reduction);
    }

    /// <summary>
    /// Huber loss (PyTorch's <c>F.huber_loss</c>): ℓ = 0.5·d² if |d| &lt; δ, else δ·(|d| − 0.5·δ), d = x − y: quadratic near zero,
    /// linear for outliers. δ &gt; 0, default 1. Shapes and reduction as <see cref="MseLoss"/>.
    /// </summary>
    public static Tensor HuberLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double delta = 1.0)
    {
        if (!(delta > 0)) throw new ArgumentOutOfRangeException(nameof(delta), delta, $"huber_loss: delta must be positive, got {delta}.");
        return Pointwise<HuberLossOperator>("huber_loss", delta, input, target, reduction);
    }

    private static Tensor Pointwise<TLoss>(string loss, double p, Tensor input, Tensor target, Reduction reduction) where TLoss : IPointwiseLoss
    {
        LossCheck.ElementwisePair(loss, reduction, input, target);
        LossCheck.SameDType(loss, input, target, "target");
        return input.DType == DType.Float32
            ? Pointwise<TLoss, float>(p, input, target, reduction)
            : Pointwise<TLoss, double>(p, input, target, reduction);
    }

    private static Tensor Pointwise<TLoss, T>(double p, Tensor input, Tensor target, Reduction reduction) where TLoss : IPointwiseLoss where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = input.DenseData<T>();
        var t = target.DenseData<T>();
        var each = reduction == Reduction.None ? GC.AllocateUninitializedArray<T>(x.Length) : null;
        double total = PointwiseLossKernel.Forward<TLoss, T>(p, x, t, each);
        Tensor y = each != null ? Tensor.Wrap(each, input.Shape)
            : Tensor.Wrap(new[] { T.CreateTruncating(reduction == Reduction.Sum ? total : total / x.Length) }, []);
        return Autograd.Record(y, TLoss.Name, [input, target],
            Derivatives.Rule<PointwiseLossRule<TLoss, T>, PointwiseLossSaved<T>>(new(x, t, p, reduction)), input, target);
    }

    /// <summary>What a pointwise regression loss's backward reads: the dense input and target, its parameter and reduction.</summary>
    private sealed record PointwiseLossSaved<T>(T[] X, T[] Target, double P, Reduction Reduction);

    /// <summary>The regression losses' row of the derivative table: one fused pass writes both gradients.</summary>
    private readonly struct PointwiseLossRule<TLoss, T> : IDerivativeRule<PointwiseLossSaved<T>> where TLoss : IPointwiseLoss where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static void Backward(Tensor g, GradSink sink, PointwiseLossSaved<T> s)
        {
            var (gEach, scale) = Upstream<T>(g, s.Reduction, s.X.Length);
            // The kernel writes every element of both, straight into the engine's buffers.
            PointwiseLossKernel.Backward<TLoss, T>(s.P, s.X, s.Target, scale, gEach, sink.Needs(0) ? sink.Overwrite<T>(0) : null, sink.Needs(1) ? sink.Overwrite<T>(1) : null);
        }
    }

    /// <summary>
    /// Kullback–Leibler divergence loss (PyTorch's <c>F.kl_div</c>) with input = log q: ℓ = t·(log t − x), written
    /// xlogy(t, t) − t·x so that t = 0 contributes 0; with logTarget, ℓ = eᵗ·(t − x). Reduction: Mean averages over
    /// all elements (PyTorch's default, which is not the KL divergence); BatchMean divides the sum by the batch size
    /// (dim 0) and is the true KL divergence; Sum; None. Shapes: input and target identical.
    /// </summary>
    public static Tensor KLDiv(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, bool logTarget = false)
    {
        const string L = "kl_div";
        LossCheck.Reduction(L, reduction, allowBatchMean: true);
        LossCheck.Float(L, "input", input);
        LossCheck.Float(L, "target", target);
        LossCheck.SameShape(L, input, target);
        var each = logTarget ? target.Exp() * (target - input) : Tensor.Xlogy(target, target) - target * input;
        return reduction switch
        {
            Reduction.BatchMean => input.Rank == 0 ? each.Sum() : each.Sum() / input.Dims[0],
            _ => LossCheck.Reduce(each, reduction),
        };
    }

    /// <summary>
    /// Poisson negative log-likelihood (PyTorch's <c>F.poisson_nll_loss</c>): with logInput (default) ℓ = eˣ − t·x, else
    /// ℓ = x − t·log(x + eps); full adds the Stirling term t·log t − t + ½·log(2πt) where t &gt; 1. Defaults: logInput
    /// true, full false, eps 1e-8, Mean. Shapes: input and target identical.
    /// </summary>
    public static Tensor PoissonNllLoss(Tensor input, Tensor target, bool logInput = true, bool full = false, double eps = 1e-8, Reduction reduction = Reduction.Mean)
    {
        const string L = "poisson_nll_loss";
        LossCheck.ElementwisePair(L, reduction, input, target);
        var loss = logInput ? input.Exp() - target * input : input - target * (input + eps).Log();
        if (full)
        {
            var stirling = target * target.Log() - target + (target * (2 * Math.PI)).Log() * 0.5;
            loss = loss + Tensor.Where(target.Gt(1), stirling, Tensor.ZerosLike(stirling));
        }
        return LossCheck.Reduce(loss, reduction);
    }

    /// <summary>
    /// Gaussian negative log-likelihood (PyTorch's <c>F.gaussian_nll_loss</c>): ℓ = ½·(log max(var, eps) + (x − t)²/max(var, eps)),
    /// plus ½·log 2π when full. The clamp at eps (default 1e-6) changes the value only: the gradient flows to var as if
    /// unclamped, exactly as in PyTorch. Shapes: input and target identical; var the same shape, or with the last
    /// dimension 1 or missing (one variance per sample). Negative variances are rejected.
    /// </summary>
    public static Tensor GaussianNllLoss(Tensor input, Tensor target, Tensor var, bool full = false, double eps = 1e-6, Reduction reduction = Reduction.Mean)
    {
        const string L = "gaussian_nll_loss";
        LossCheck.Reduction(L, reduction);
        LossCheck.Float(L, "input", input);
        LossCheck.Float(L, "target", target);
        LossCheck.Float(L, "var", var);
        // PyTorch checks var's shape against the input only; the target broadcasts with the input.
        LossCheck.Broadcastable(L, input, target, "input", "target");
        if (!var.Dims.AsSpan().SequenceEqual(input.Dims))
        {
            bool oneLess = input.Rank >= 1 && var.Dims.AsSpan().SequenceEqual(input.Dims.AsSpan(0, input.Rank - 1));
            bool lastOne = input.Rank >= 1 && var.Rank == input.Rank && var.Dims[^1] == 1 && var.Dims.AsSpan(0, var.Rank - 1).SequenceEqual(input.Dims.AsSpan(0, input.Rank - 1));
            if (oneLess) var = var.Unsqueeze(-1);
            else if (!lastOne)
                throw new ArgumentException($"{L}: var of shape {var.ShapeString} does not fit input {input.ShapeString}; it must have the input's shape, or that shape with the last dimension 1 or removed.", nameof(var));
        }
        if (var.Lt(0).Any())
            throw new ArgumentOutOfRangeException(nameof(var), $"{L}: var has negative entries (min {var.Min().ItemDouble()}); a variance must be ≥ 0. If the model predicts it, pass it through Softplus or Exp first.");
        var vd = var.Detach();
        // Clamp the value only: PyTorch clamps a copy under no_grad, so the gradient reaches var unmasked.
        var v = var + (vd.Clamp(min: eps) - vd);
        var loss = (v.Log() + (input - target).Square() / v) * 0.5;
        if (full) loss = loss + 0.5 * Math.Log(2 * Math.PI);
        return LossCheck.Reduce(loss, reduction);
    }
}
