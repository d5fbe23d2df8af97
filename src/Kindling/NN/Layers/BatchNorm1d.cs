namespace Kindling.NN;

/// <summary>
/// Batch normalisation over (N, C) or (N, C, L) inputs (PyTorch's <c>nn.BatchNorm1d</c>); see
/// <see cref="Functional.BatchNorm"/>. In training, normalises with the batch mean and biased variance and updates
/// running_mean (zeros) and running_var (ones, with the unbiased variance): running = (1 − m)·running + m·batch with
/// m = momentum (default 0.1), or m = 1/num_batches_tracked when momentum is null (a cumulative average); in evaluation,
/// uses the running statistics. Affine weight (ones) and bias (zeros) when <c>affine</c>; eps 1e-5.
/// </summary>
public sealed class BatchNorm1d : Module
{
    public int NumFeatures { get; }
    public double Eps { get; }
    /// <summary>The weight of the batch in the running statistics, or null for a cumulative average.</summary>
    public double? Momentum { get; }
    public Tensor? Weight { get; }
    public Tensor? Bias { get; }
    public Tensor RunningMean { get; }
    public Tensor RunningVar { get; }
    public Tensor NumBatchesTracked { get; }

    public BatchNorm1d(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, DType dtype = DType.Float32)
    {
        if (numFeatures <= 0) throw new ArgumentOutOfRangeException(nameof(numFeatures), $"BatchNorm1d: num_features must be positive, got {numFeatures}.");
        if (momentum is < 0 or > 1 || momentum is double.NaN) throw new ArgumentOutOfRangeException(nameof(momentum), $"BatchNorm1d: momentum must be in [0, 1] or null, got {momentum}.");
        NumFeatures = numFeatures; Eps = eps; Momentum = momentum;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones([numFeatures], dtype));
            Bias = RegisterParameter("bias", Tensor.Zeros([numFeatures], dtype));
        }
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros([numFeatures], dtype));
        RunningVar = RegisterBuffer("running_var", Tensor.Ones([numFeatures], dtype));
        NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros([], DType.Int64));
    }

    public override Tensor Forward(Tensor input)
    {
        if (input.Rank is not (2 or 3) || input.Size(1) != NumFeatures)
            throw new ArgumentException($"BatchNorm1d: expected input (N, {NumFeatures}) or (N, {NumFeatures}, L), got {input.ShapeString}.", nameof(input));
        double factor = Momentum ?? 0;
        if (Training)
        {
            if (input.NumEl / NumFeatures <= 1) throw new ArgumentException($"BatchNorm1d: expected more than 1 value per channel when training, got input {input.ShapeString}.", nameof(input));
            using (Autograd.NoGrad()) NumBatchesTracked.CopyFrom(NumBatchesTracked + 1);
            if (Momentum == null) factor = 1.0 / NumBatchesTracked.ItemDouble();
        }
        return Functional.BatchNormCore("BatchNorm1d", input, RunningMean, RunningVar, Weight, Bias, Training, factor, Eps);
    }

    protected override string ExtraRepr() => $"{NumFeatures}, eps={Eps}, momentum={(Momentum?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "None")}, affine={(Weight != null ? "True" : "False")}, track_running_stats=True";
}
