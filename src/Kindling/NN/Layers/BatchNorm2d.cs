namespace Kindling.NN;

/// <summary>
/// Batch normalisation over (N, C, H, W) per channel (PyTorch's <c>nn.BatchNorm2d</c>); see
/// <see cref="Functional.BatchNorm"/>. In training it uses the batch statistics and, with track_running_stats (default),
/// updates running_mean (zeros), running_var (ones) and num_batches_tracked: running = (1 − m)·running + m·batch with
/// m = momentum (default 0.1), or m = 1/num_batches_tracked when momentum is null (a cumulative average). In evaluation
/// it uses the running statistics. Affine weight (ones) and bias (zeros) when affine (default); eps 1e-5.
/// </summary>
public sealed class BatchNorm2d : Module
{
    public int NumFeatures { get; }
    public double Eps { get; }
    public double? Momentum { get; }
    public Tensor? Weight { get; }
    public Tensor? Bias { get; }
    public Tensor? RunningMean { get; }
    public Tensor? RunningVar { get; }
    public Tensor? NumBatchesTracked { get; }

    public BatchNorm2d(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true, DType dtype = DType.Float32)
    {
        if (numFeatures <= 0) throw new ArgumentOutOfRangeException(nameof(numFeatures), $"BatchNorm2d: num_features must be positive, got {numFeatures}.");
        if (momentum is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(momentum), $"BatchNorm2d: momentum must be in [0, 1] or null, got {momentum}.");
        NumFeatures = numFeatures; Eps = eps; Momentum = momentum;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones([numFeatures], dtype));
            Bias = RegisterParameter("bias", Tensor.Zeros([numFeatures], dtype));
        }
        if (trackRunningStats)
        {
            RunningMean = RegisterBuffer("running_mean", Tensor.Zeros([numFeatures], dtype));
            RunningVar = RegisterBuffer("running_var", Tensor.Ones([numFeatures], dtype));
            NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros([], DType.Int64));
        }
    }

    public override Tensor Forward(Tensor input)
    {
        string name = $"BatchNorm2d({NumFeatures})";
        if (input.Rank != 4 || input.Dims[1] != NumFeatures)
            throw new ArgumentException($"{name}: expected input (N, {NumFeatures}, H, W), got {input.ShapeString}.", nameof(input));
        double factor = Momentum ?? 0;
        if (Training && NumBatchesTracked != null)
        {
            using (Autograd.NoGrad()) NumBatchesTracked.CopyFrom(NumBatchesTracked + 1);
            if (Momentum == null) factor = 1.0 / NumBatchesTracked.ItemDouble();
        }
        // Running statistics are used outside training only when tracked; otherwise the batch's, as in PyTorch.
        bool useBatch = Training || RunningMean == null;
        return Functional.BatchNormCore(name, input, RunningMean, RunningVar, Weight, Bias, useBatch, factor, Eps);
    }

    protected override string ExtraRepr() =>
        $"{NumFeatures}, eps={Eps}, momentum={(Momentum?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "None")}, affine={(Weight != null ? "True" : "False")}, track_running_stats={(RunningMean != null ? "True" : "False")}";
}
