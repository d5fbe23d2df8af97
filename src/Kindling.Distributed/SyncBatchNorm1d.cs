using Kindling.NN;

namespace Kindling.Distributed;

/// <summary>
/// <see cref="BatchNorm1d"/> whose training statistics are those of the global batch across all ranks (PyTorch's
/// <c>nn.SyncBatchNorm</c>), so an N-rank run normalises exactly as one process would with the whole batch. Same
/// parameters, buffers, state-dict names and defaults as BatchNorm1d (eps 1e-5, momentum 0.1); in evaluation mode and
/// in a single-process run it is BatchNorm1d. Plain BatchNorm1d in a distributed model keeps per-rank statistics.
/// </summary>
/// <remarks>
/// Training forward: count = Σ_r n_r, mean = Σ_r Σ x / count, var = Σ_r Σ (x − mean)² / count (two allreduces of C
/// values each, plus the count). The allreduce is differentiable: the gradient of a sum over ranks is the sum over ranks
/// of the gradients. Each rank's local backward is later weighted by its share w_r = n_r / count (see
/// <see cref="DistributedDataParallel.SynchronizeGradients(double)"/>), so the backward of the allreduce sends
/// Σ_s w_s·g_s / w_r: after the final weighting every contribution carries its own rank's weight.
/// </remarks>
public sealed class SyncBatchNorm1d : Module
{
    public int NumFeatures { get; }
    public double Eps { get; }
    public double Momentum { get; }
    public Tensor? Weight { get; }
    public Tensor? Bias { get; }
    public Tensor RunningMean { get; }
    public Tensor RunningVar { get; }
    public Tensor NumBatchesTracked { get; }

    public SyncBatchNorm1d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true)
    {
        if (numFeatures <= 0) throw new ArgumentOutOfRangeException(nameof(numFeatures), $"SyncBatchNorm1d: num_features must be positive, got {numFeatures}.");
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
            throw new ArgumentException($"SyncBatchNorm1d: expected input (N, {NumFeatures}) or (N, {NumFeatures}, L), got {input.ShapeString}.", nameof(input));
        int[] dims = input.Rank == 2 ? [0] : [0, 2];
        int[] bshape = input.Rank == 2 ? [1, NumFeatures] : [1, NumFeatures, 1];
        Tensor mean, var;
        if (Training)
        {
            long local = input.NumEl / NumFeatures;
            Span<long> c = [local];
            if (Distributed.IsInitialized) Distributed.AllReduceSum(c);
            long count = c[0];
            if (count <= 1) throw new ArgumentException($"SyncBatchNorm1d: expected more than 1 value per channel over all ranks when training, got {count}.", nameof(input));
            double share = (double)local / count;
            mean = AllReduce(input.Sum(dims, keepDim: true), share) * (1.0 / count);
            var dev = input - mean;
            var biased = AllReduce((dev * dev).Sum(dims, keepDim: true), share) * (1.0 / count);
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

    /// <summary>Σ over ranks of <paramref name="x"/>, differentiable (see the class remarks for the role of <paramref name="share"/>).</summary>
    internal static Tensor AllReduce(Tensor x, double share)
    {
        if (!Distributed.IsDistributed) return x;
        var y = x.Detach().Contiguous().Clone();
        AllReduceInPlace(y);
        return Autograd.Record(y, "AllReduceSumBackward", [x], g =>
        {
            // A rank with an empty shard (share 0) still takes part in the collective but receives no gradient.
            var s = (g * share).Contiguous().Clone();
            AllReduceInPlace(s);
            return [share == 0 ? s * 0.0 : s * (1.0 / share)];
        });
    }

    private static void AllReduceInPlace(Tensor t)
    {
        if (t.DType == DType.Float32) Distributed.AllReduceSum(t.F32Span);
        else if (t.DType == DType.Float64) Distributed.AllReduceSum(t.F64Span);
        else throw new NotSupportedException($"SyncBatchNorm1d: cannot reduce {t.DType} tensors.");
    }

    protected override string ExtraRepr() => $"{NumFeatures}, eps={Eps}, momentum={Momentum}, affine={(Weight != null ? "True" : "False")}, track_running_stats=True";
}
