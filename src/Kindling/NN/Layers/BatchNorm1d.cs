namespace Kindling.NN;

/// <summary>
/// Batch normalisation over (N, C) or (N, C, L) inputs (PyTorch's <c>nn.BatchNorm1d</c>): in training, normalises with
/// the batch mean and biased variance and updates running_mean/running_var (unbiased) with momentum (default 0.1);
/// in evaluation, uses the running statistics. Affine weight (ones) and bias (zeros) when <c>affine</c>; eps 1e-5.
/// </summary>
public sealed class BatchNorm1d : Module
{
    public int NumFeatures { get; }
    public double Eps { get; }
    public double Momentum { get; }
    public Tensor? Weight { get; }
    public Tensor? Bias { get; }
    public Tensor RunningMean { get; }
    public Tensor RunningVar { get; }
    public Tensor NumBatchesTracked { get; }

    public BatchNorm1d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true)
    {
        if (numFeatures <= 0) throw new ArgumentOutOfRangeException(nameof(numFeatures), $"BatchNorm1d: num_features must be positive, got {numFeatures}.");
        NumFeatures = numFeatures; Eps = eps; Momentum = momentum;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(numFeatures));
            Bias = RegisterParameter("bias", Tensor.Zeros(numFeatures));
        }
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(numFeatures));
        RunningVar = RegisterBuffer("running_var", Tensor.Ones(numFeatures));
        NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros([], DType.Int64));
    }

    public override Tensor Forward(Tensor input)
    {
        if (input.Rank is not (2 or 3) || input.Size(1) != NumFeatures)
            throw new ArgumentException($"BatchNorm1d: expected input (N, {NumFeatures}) or (N, {NumFeatures}, L), got {input.ShapeString}.", nameof(input));
        int[] dims = input.Rank == 2 ? [0] : [0, 2];
        int[] bshape = input.Rank == 2 ? [1, NumFeatures] : [1, NumFeatures, 1];
        Tensor mean, var;
        if (Training)
        {
            int count = input.NumEl / NumFeatures;
            if (count <= 1) throw new ArgumentException($"BatchNorm1d: expected more than 1 value per channel when training, got input {input.ShapeString}.", nameof(input));
            mean = input.Mean(dims, keepDim: true);
            var dev = input - mean;
            var biased = (dev * dev).Mean(dims, keepDim: true);
            using (Autograd.NoGrad())
            {
                var m = mean.Detach().Reshape(NumFeatures);
                var unbiased = biased.Detach().Reshape(NumFeatures) * ((double)count / (count - 1));
                RunningMean.CopyFrom(RunningMean * (1 - Momentum) + m * Momentum);
                RunningVar.CopyFrom(RunningVar * (1 - Momentum) + unbiased * Momentum);
                NumBatchesTracked.CopyFrom(NumBatchesTracked + 1);
            }
            var = biased;
        }
        else
        {
            mean = RunningMean.Reshape(bshape);
            var = RunningVar.Reshape(bshape);
        }
        var y = (input - mean) * (var + Eps).Rsqrt();
        if (Weight != null && Bias != null) y = y * Weight.Reshape(bshape) + Bias.Reshape(bshape);
        return y;
    }

    protected override string ExtraRepr() => $"{NumFeatures}, eps={Eps}, momentum={Momentum}, affine={(Weight != null ? "True" : "False")}, track_running_stats=True";
}
