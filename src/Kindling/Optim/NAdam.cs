using System.Numerics.Tensors;
using Kindling.Registry;

namespace Kindling.Optim;

/// <summary>
/// NAdam (Dozat 2016: Adam with Nesterov momentum) with PyTorch 1.13's rule: g = ∇ + λw; μₜ = β₁(1 − ½·0.96^(tψ)),
/// μₜ₊₁ likewise (ψ the momentum decay); Πₜ = Πₜ₋₁·μₜ; m = β₁m + (1 − β₁)g; v = β₂v + (1 − β₂)g²;
/// d = √(v/(1 − β₂ᵗ)) + ε; w ← w − lr(1 − μₜ)/(1 − Πₜ)·g/d − lr·μₜ₊₁/(1 − Πₜ·μₜ·μₜ₊₁)·m/d. Defaults: lr 2e-3, betas
/// (0.9, 0.999), eps 1e-8, weight decay 0, momentum decay 4e-3. State: "exp_avg", "exp_avg_sq" and the float32 scalar
/// "mu_product" (PyTorch's names and dtype).
/// </summary>
/// <remarks>
/// PyTorch 1.13 is followed exactly, including two of its details: Π is a float32 tensor (rounded to float32 at every
/// product, also for float64 parameters), and the second term's Πₜ·μₜ·μₜ₊₁ multiplies μₜ in twice (later PyTorch uses
/// Πₜ·μₜ₊₁). The chain: <see cref="AddDecayedWeights"/> → <see cref="ScaleByNAdam"/>, which applies PyTorch's two
/// addcdiv_ steps to the parameter itself (their two step sizes are not one learning-rate divisor).
/// </remarks>
public sealed class NAdam : ChainedOptimizer
{
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public double MomentumDecay { get; }

    [Optimizer("nadam", "NAdam: Adam with Nesterov momentum (Dozat)", Order = 70)]
    public NAdam(IEnumerable<Tensor> parameters, [Option("learning rate", Min = 0, Flag = "--lr")] double lr = 2e-3,
        [Option("decay of the first moment β₁", Min = 0, Max = 1, MaxExclusive = true)] double beta1 = 0.9,
        [Option("decay of the second moment β₂", Min = 0, Max = 1, MaxExclusive = true)] double beta2 = 0.999,
        [Option("added to the denominator", Min = 0)] double eps = 1e-8,
        [Option("L2 penalty λ added to the gradient (λ·w)", Min = 0, Flag = "--weight-decay")] double weightDecay = 0,
        [Option("momentum decay ψ of the μ schedule", Min = 0)] double momentumDecay = 4e-3)
        : base(One(parameters), lr, weightDecay, "NAdam", new AddDecayedWeights(), new ScaleByNAdam(beta1, beta2, eps, momentumDecay))
    {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
            throw new ArgumentOutOfRangeException(nameof(beta1), $"NAdam: betas must be in [0, 1), got ({beta1}, {beta2}).");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, $"NAdam: eps must be ≥ 0, got {eps}.");
        if (!(momentumDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(momentumDecay), momentumDecay, $"NAdam: momentum_decay must be ≥ 0, got {momentumDecay}.");
        Beta1 = beta1; Beta2 = beta2; Eps = eps; MomentumDecay = momentumDecay;
    }

    protected internal override bool HasBetas => true;
}

/// <summary>NAdam's moments "exp_avg", "exp_avg_sq" and the running product of the μ schedule "mu_product" (a float32 scalar).</summary>
public sealed record NAdamState(Tensor ExpAvg, Tensor ExpAvgSq, Tensor MuProduct) : TransformState
{
    public override IEnumerable<KeyValuePair<string, Tensor>> Buffers => [new("mu_product", MuProduct), new("exp_avg", ExpAvg), new("exp_avg_sq", ExpAvgSq)];
}

/// <summary>NAdam's moments and its two-term step on the parameter, in PyTorch 1.13's operation order (see <see cref="NAdam"/>).</summary>
public sealed class ScaleByNAdam(double beta1, double beta2, double eps, double momentumDecay) : GradientTransform
{
    public override IEnumerable<string> ScalarBuffers => ["mu_product"];

    public override TransformState? Init(Tensor param) => new NAdamState(Zeros(param), Zeros(param), Tensor.Scalar(1.0, DType.Float32));

    public override TransformState? Restore(IReadOnlyDictionary<string, Tensor> b, Tensor param) =>
        b.TryGetValue("exp_avg", out var m) && b.TryGetValue("exp_avg_sq", out var v) && b.TryGetValue("mu_product", out var p)
            ? new NAdamState(m, v, p.To(DType.Float32).Reshape()) : null;

    public override StageOutput<T> Update<T>(in StepContext ctx, TransformState? state)
    {
        var s = (NAdamState)(state ?? Init(ctx.Param))!;
        double b1 = ctx.Group.Beta1 ?? beta1, t = ctx.Step;
        double mu = b1 * (1 - 0.5 * Math.Pow(0.96, t * momentumDecay));
        double muNext = b1 * (1 - 0.5 * Math.Pow(0.96, (t + 1) * momentumDecay));
        // PyTorch's mu_product is a float32 tensor: each product (with the factor cast to float32) is rounded to float32.
        float prev = (float)s.MuProduct.ItemDouble();
        float product = prev * (float)mu;
        float productNext = product * (float)mu * (float)muNext; // PyTorch 1.13: mu_product * mu * mu_next, after mu_product *= mu
        var next = s with { MuProduct = Tensor.Scalar(product, DType.Float32) };
        T tb1 = T.CreateTruncating(b1), tb1c = T.CreateTruncating(1 - b1), tb2 = T.CreateTruncating(beta2), tb2c = T.CreateTruncating(1 - beta2);
        T bc2 = T.CreateTruncating(1 - Math.Pow(beta2, t)), te = T.CreateTruncating(eps);
        // .item() gives the float32 products to Python as doubles: 1 − Π in float64, not float32.
        T c1 = T.CreateTruncating(-ctx.Lr * (1 - mu) / (1 - (double)product)), c2 = T.CreateTruncating(-ctx.Lr * muNext / (1 - (double)productNext));
        T[] mAll = (T[])s.ExpAvg.Storage.Data, vAll = (T[])s.ExpAvgSq.Storage.Data;
        return new(next, (start, w, u, den) =>
        {
            var m = mAll.AsSpan(start, u.Length);
            var v = vAll.AsSpan(start, u.Length);
            TensorPrimitives.Multiply(m, tb1, m);
            TensorPrimitives.MultiplyAdd(u, tb1c, m, m);
            Optimizer.DecayAddSquare(v, tb2, tb2c, u, den);
            TensorPrimitives.Divide(v, bc2, den);
            TensorPrimitives.Sqrt(den, den);
            TensorPrimitives.Add(den, te, den);
            // param.addcdiv_(grad, denom, value=c1), then param.addcdiv_(exp_avg, denom, value=c2): w + (c·x)/d each.
            TensorPrimitives.Multiply(u, c1, u);
            TensorPrimitives.Divide(u, den, u);
            TensorPrimitives.Add(w, u, w);
            TensorPrimitives.Multiply(m, c2, u);
            TensorPrimitives.Divide(u, den, u);
            TensorPrimitives.Add(w, u, w);
        });
    }
}
