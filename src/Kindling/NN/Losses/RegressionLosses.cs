namespace Kindling.NN;

/// <summary>Mean squared error; see <see cref="Functional.MseLoss"/>.</summary>
public sealed class MSELoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) => Functional.MseLoss(input, target, Reduction);
}

/// <summary>Mean absolute error; see <see cref="Functional.L1Loss"/>.</summary>
public sealed class L1Loss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) => Functional.L1Loss(input, target, Reduction);
}

/// <summary>Smooth L1 (β default 1); see <see cref="Functional.SmoothL1Loss"/>.</summary>
public sealed class SmoothL1Loss(Reduction reduction = Reduction.Mean, double beta = 1.0) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) => Functional.SmoothL1Loss(input, target, Reduction, beta);
}

/// <summary>Huber loss (δ default 1); see <see cref="Functional.HuberLoss"/>.</summary>
public sealed class HuberLoss(Reduction reduction = Reduction.Mean, double delta = 1.0) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) => Functional.HuberLoss(input, target, Reduction, delta);
}

/// <summary>KL divergence loss on log-probabilities; see <see cref="Functional.KLDiv"/>.</summary>
public sealed class KLDivLoss(Reduction reduction = Reduction.Mean, bool logTarget = false) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) => Functional.KLDiv(input, target, Reduction, logTarget);
}

/// <summary>Poisson negative log-likelihood; see <see cref="Functional.PoissonNllLoss"/>.</summary>
public sealed class PoissonNLLLoss(bool logInput = true, bool full = false, double eps = 1e-8, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) => Functional.PoissonNllLoss(input, target, logInput, full, eps, Reduction);
}

/// <summary>Gaussian negative log-likelihood; see <see cref="Functional.GaussianNllLoss"/>. Takes (input, target, var).</summary>
public sealed class GaussianNLLLoss(bool full = false, double eps = 1e-6, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) =>
        throw new ArgumentException("GaussianNLLLoss needs the variance too: call Forward(input, target, var).");
    public Tensor Forward(Tensor input, Tensor target, Tensor var) => Functional.GaussianNllLoss(input, target, var, full, eps, Reduction);
}
