namespace Kindling.Optim;

/// <summary>Gradient clipping and explicit regularisation penalties (PyTorch's <c>clip_grad_norm_</c> / <c>clip_grad_value_</c>).</summary>
public static class GradClip
{
    /// <summary>
    /// Scales all gradients together so that their total p-norm is at most <paramref name="maxNorm"/> (coefficient
    /// maxNorm / (norm + 1e-6), capped at 1, as PyTorch). Returns the total norm before clipping.
    /// </summary>
    public static double ClipGradNorm(IEnumerable<Tensor> parameters, double maxNorm, double normType = 2)
    {
        if (!(maxNorm >= 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, $"ClipGradNorm: max_norm must be ≥ 0, got {maxNorm}.");
        var grads = parameters.Where(p => p.Grad != null).Select(p => p.Grad!).ToList();
        if (grads.Count == 0) return 0;
        double total;
        if (double.IsPositiveInfinity(normType)) total = grads.Max(g => g.Abs().Max().ItemDouble());
        else total = Math.Pow(grads.Sum(g => Math.Pow(g.Norm(normType).ItemDouble(), normType)), 1 / normType);
        double coef = maxNorm / (total + 1e-6);
        // PyTorch 1.13 multiplies every gradient by clamp(coef, max=1): a NaN norm (any NaN gradient) makes all of
        // them NaN rather than leaving some unscaled, and an infinite norm scales by 0.
        if (coef < 1 || double.IsNaN(coef))
            using (Autograd.NoGrad())
                foreach (var g in grads) g.MulInPlace(coef);
        return total;
    }

    /// <summary>Clamps every gradient element to [−clipValue, clipValue].</summary>
    public static void ClipGradValue(IEnumerable<Tensor> parameters, double clipValue)
    {
        if (!(clipValue >= 0)) throw new ArgumentOutOfRangeException(nameof(clipValue), clipValue, $"ClipGradValue: clip_value must be ≥ 0, got {clipValue}.");
        using (Autograd.NoGrad())
            foreach (var p in parameters)
                if (p.Grad != null) p.Grad.CopyFrom(p.Grad.Clamp(-clipValue, clipValue));
    }

    /// <summary>
    /// The L1 penalty Σ|w| over <paramref name="parameters"/>, differentiable: add λ·L1Penalty(model.Parameters()) to the
    /// loss for sparse weights (the source material's L1 regularisation). Its gradient is λ·sign(w).
    /// </summary>
    public static Tensor L1Penalty(IEnumerable<Tensor> parameters)
    {
        Tensor? total = null;
        foreach (var p in parameters) total = total == null ? p.Abs().Sum() : total + p.Abs().Sum();
        return total ?? Tensor.Scalar(0);
    }

    /// <summary>The L2 penalty Σw² (weight decay written into the loss; optimizers' weightDecay adds λw to the gradient instead).</summary>
    public static Tensor L2Penalty(IEnumerable<Tensor> parameters)
    {
        Tensor? total = null;
        foreach (var p in parameters) total = total == null ? p.Square().Sum() : total + p.Square().Sum();
        return total ?? Tensor.Scalar(0);
    }
}
