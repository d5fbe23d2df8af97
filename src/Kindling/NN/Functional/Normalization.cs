namespace Kindling.NN;

public static partial class Functional
{
    /// <summary>
    /// Batch normalisation (PyTorch's <c>F.batch_norm</c>) over input (N, C, *) per channel c:
    /// y = (x − μ_c)/√(σ²_c + eps)·γ_c + β_c. In training μ and σ² are the batch mean and biased variance over N and
    /// the spatial positions, and the running statistics (when given) become (1 − momentum)·running + momentum·batch,
    /// the variance unbiased (× m/(m − 1), m values per channel). Outside training the running statistics are used.
    /// weight γ and bias β (C) are optional. Defaults: training false, momentum 0.1, eps 1e-5.
    /// </summary>
    public static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight = null, Tensor? bias = null, bool training = false, double momentum = 0.1, double eps = 1e-5) =>
        BatchNormCore("batch_norm", input, runningMean, runningVar, weight, bias, training, momentum, eps);

    internal static Tensor BatchNormCore(string who, Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, bool training, double momentum, double eps)
    {
        LossCheck.Float(who, "input", input);
        // An empty batch (or an empty 1-D input) normalises to an empty output and leaves the running statistics alone, as in PyTorch.
        if (input.NumEl == 0 && (input.Rank == 1 || input.Rank >= 2 && (input.Dims[0] == 0 || input.Dims.Skip(2).Any(d => d == 0))))
            return input * 1.0;
        if (input.Rank < 2) throw new ArgumentException($"{who}: expected input (N, C, ...), got {input.ShapeString}.", nameof(input));
        int c = input.Dims[1];
        foreach (var (name, t) in new[] { ("running_mean", runningMean), ("running_var", runningVar), ("weight", weight), ("bias", bias) })
            if (t != null && (t.Rank != 1 || t.Dims[0] != c))
                throw new ArgumentException($"{who}: {name} must be ({c},) for an input with {c} channels ({input.ShapeString}), got {t.ShapeString}.");
        var dims = Enumerable.Range(0, input.Rank).Where(d => d != 1).ToArray();
        var bshape = Enumerable.Repeat(1, input.Rank).ToArray();
        bshape[1] = c;
        Tensor mean, var;
        if (training || runningMean == null || runningVar == null)
        {
            int count = input.NumEl / Math.Max(c, 1);
            if (count <= 1) throw new ArgumentException($"{who}: expected more than 1 value per channel when training, got input {input.ShapeString}.", nameof(input));
            mean = input.Mean(dims, keepDim: true);
            var dev = input - mean;
            var = (dev * dev).Mean(dims, keepDim: true);
            if (training && runningMean != null && runningVar != null)
                using (Autograd.NoGrad())
                {
                    var m = mean.Detach().Reshape(c).To(runningMean.DType);
                    var unbiased = (var.Detach().Reshape(c) * ((double)count / (count - 1))).To(runningVar.DType);
                    runningMean.CopyFrom(runningMean * (1 - momentum) + m * momentum);
                    runningVar.CopyFrom(runningVar * (1 - momentum) + unbiased * momentum);
                }
            var y0 = dev * (var + eps).Rsqrt();
            return Affine(y0, weight, bias, bshape);
        }
        mean = runningMean.Reshape(bshape).To(input.DType);
        var = runningVar.Reshape(bshape).To(input.DType);
        return Affine((input - mean) * (var + eps).Rsqrt(), weight, bias, bshape);
    }

    /// <summary>
    /// Layer normalisation (PyTorch's <c>F.layer_norm</c>): y = (x − mean) / √(var + eps)·γ + β, with the mean and the biased
    /// variance over the trailing dimensions <paramref name="normalizedShape"/>. <paramref name="weight"/> γ and
    /// <paramref name="bias"/> β, when given, have shape <paramref name="normalizedShape"/>. Input (…, *normalizedShape).
    /// </summary>
    public static Tensor LayerNorm(Tensor input, int[] normalizedShape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        const string L = "layer_norm";
        LossCheck.Float(L, "input", input);
        int k = normalizedShape.Length;
        if (k == 0 || input.Rank < k || !input.Shape[^k..].SequenceEqual(normalizedShape))
            throw new ArgumentException($"LayerNorm: input {input.ShapeString} must end with the normalized shape {Tensor.ShapeStr(normalizedShape)}.", nameof(input));
        foreach (var (name, t) in new[] { ("weight", weight), ("bias", bias) })
            if (t != null && !t.Shape.SequenceEqual(normalizedShape))
                throw new ArgumentException($"{L}: {name} must have the normalized shape {Tensor.ShapeStr(normalizedShape)}, got {t.ShapeString}.", name);
        if (weight == null && bias != null) return LayerNormFused(input, k, null, null, eps) + bias;
        if (weight != null && weight.DType != input.DType || bias != null && bias.DType != input.DType)
            throw new ArgumentException($"{L}: input is {Tensor.DTypeName(input.DType)} but weight/bias are not; convert them with To().");
        // One fused row forward and backward (LayerNormKernel.cs) instead of eight composed temporaries.
        return LayerNormFused(input, k, weight, bias, eps);
    }

    private static Tensor Affine(Tensor y, Tensor? weight, Tensor? bias, int[] bshape)
    {
        if (weight != null) y = y * weight.Reshape(bshape);
        if (bias != null) y = y + bias.Reshape(bshape);
        return y;
    }
}
