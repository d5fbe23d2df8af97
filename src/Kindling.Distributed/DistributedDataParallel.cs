using System.Diagnostics;
using System.Numerics.Tensors;
using Kindling.NN;

namespace Kindling.Distributed;

/// <summary>
/// Data-parallel training of one model replica per process (PyTorch's <c>DistributedDataParallel</c>, made explicit):
/// construction broadcasts rank 0's parameters and buffers so every replica starts equal; after each backward,
/// <see cref="SynchronizeGradients(double)"/> replaces every rank's gradients by the weighted sum over ranks, so each
/// replica's optimizer takes the same step.
/// </summary>
/// <remarks>
/// <para><b>Weights.</b> With a loss that is a mean over each rank's shard, the gradient of the mean over the global
/// batch of N samples is Σ_r (n_r / N) · ∇mean_r, where n_r is rank r's shard size. Pass <c>weight = n_r / N</c>
/// (<see cref="Share"/>); a plain average (1 / WorldSize, PyTorch's choice) is right only when every shard has the same
/// size, which a global batch of 128 split over 3 ranks (43, 43, 42) does not.</para>
/// <para><b>Buckets (tensor fusion).</b> Gradients are copied (scaled by the weight) into a few flat buffers of at
/// most <c>bucketCapMB</c> each, in reverse registration order (the order backward produces them), and each buffer is
/// reduced by one in-place <c>MPI_Allreduce</c>: one large message instead of one per parameter, which matters because
/// each collective costs a latency (tens of µs on shared memory, more over a network). A default 25 MB cap gives a
/// single allreduce per step for models up to 6.5 M float32 parameters.</para>
/// <para><b>No overlap with backward.</b> PyTorch starts a bucket's allreduce while backward still computes earlier
/// layers. Kindling's kernels already use every core the process is given, and Open MPI progresses a collective only
/// inside MPI calls on the calling thread (no asynchronous progress thread in Open MPI 4.1's shared-memory path), so a
/// second thread would compete with the GEMM for cores while adding MPI_THREAD_MULTIPLE locking. bench/README.md
/// has the measured allreduce time per step and a model of when communication dominates.</para>
/// <para>Each gradient slot carries a presence flag: a parameter that received no gradient on any rank keeps
/// <c>Grad == null</c> (the optimizer skips it, as in a single process); one that received a gradient on some ranks
/// only gets the sum of those.</para>
/// </remarks>
public sealed class DistributedDataParallel
{
    private readonly Bucket[] _buckets;
    private long _allReduceTicks;

    /// <summary>The wrapped model (every rank holds a full replica).</summary>
    public Module Module { get; }

    /// <summary>Number of fused buffers reduced per step.</summary>
    public int BucketCount => _buckets.Length;

    /// <summary>Time spent in the gradient allreduces since construction (waiting for slower ranks included).</summary>
    public TimeSpan AllReduceTime => TimeSpan.FromSeconds(_allReduceTicks / (double)Stopwatch.Frequency);

    /// <summary>Number of <see cref="SynchronizeGradients(double)"/> calls.</summary>
    public long Synchronizations { get; private set; }

    /// <summary>
    /// Wraps <paramref name="module"/>: initialises the process group if needed (<see cref="Distributed.Init"/>), then
    /// broadcasts rank 0's parameters and buffers to every rank.
    /// </summary>
    /// <param name="module">The model; every rank must build the same architecture.</param>
    /// <param name="bucketCapMB">Largest fused buffer in MB (default 25, as PyTorch).</param>
    public DistributedDataParallel(Module module, double bucketCapMB = 25)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (!(bucketCapMB > 0)) throw new ArgumentOutOfRangeException(nameof(bucketCapMB), bucketCapMB, "DistributedDataParallel: bucketCapMB must be positive.");
        Distributed.Init();
        Module = module;
        var parameters = module.Parameters().ToList();
        CheckSameModel(module);
        BroadcastState(parameters.Concat(module.NamedBuffers().Select(b => b.Buffer)));
        long cap = (long)(bucketCapMB * 1024 * 1024);
        var buckets = new List<Bucket>();
        foreach (var group in parameters.AsEnumerable().Reverse().GroupBy(p => p.DType))
        {
            var current = new List<Tensor>();
            long bytes = 0;
            int size = group.Key == DType.Float32 ? 4 : 8;
            foreach (var p in group)
            {
                if (current.Count > 0 && bytes + (long)p.NumEl * size > cap) { buckets.Add(new Bucket(group.Key, current)); current = []; bytes = 0; }
                current.Add(p);
                bytes += (long)p.NumEl * size;
            }
            if (current.Count > 0) buckets.Add(new Bucket(group.Key, current));
        }
        _buckets = buckets.ToArray();
    }

    /// <summary>Runs the model (<c>Module.Call</c>).</summary>
    public Tensor Call(Tensor input) => Module.Call(input);

    /// <summary>This rank's share of a global batch: <paramref name="localCount"/> / <paramref name="globalCount"/>.</summary>
    public static double Share(int localCount, int globalCount)
    {
        if (globalCount <= 0 || localCount < 0 || localCount > globalCount)
            throw new ArgumentOutOfRangeException(nameof(localCount), $"DistributedDataParallel.Share: need 0 ≤ local ({localCount}) ≤ global ({globalCount}) and global > 0.");
        return (double)localCount / globalCount;
    }

    /// <summary>Averages gradients with equal weights 1 / WorldSize (right when every rank's shard has the same size).</summary>
    public void SynchronizeGradients() => SynchronizeGradients(1.0 / Distributed.WorldSize);

    /// <summary>
    /// After <c>loss.Backward()</c> on every rank: sets each parameter's gradient to Σ_r weight_r · grad_r, identical on
    /// every rank. Call it on every rank at every step (it is a collective).
    /// </summary>
    /// <param name="weight">This rank's weight, usually its share n_r / N of the global batch (<see cref="Share"/>).</param>
    public void SynchronizeGradients(double weight)
    {
        if (!double.IsFinite(weight) || weight < 0) throw new ArgumentOutOfRangeException(nameof(weight), weight, "SynchronizeGradients: the weight must be a finite non-negative number (this rank's share of the global batch).");
        Synchronizations++;
        if (!Distributed.IsDistributed && weight == 1) return;
        foreach (var b in _buckets)
        {
            b.Pack(weight);
            long t0 = Stopwatch.GetTimestamp();
            if (b.DType == DType.Float32) Distributed.AllReduceSum(b.F32.AsSpan());
            else Distributed.AllReduceSum(b.F64.AsSpan());
            _allReduceTicks += Stopwatch.GetTimestamp() - t0;
            b.Unpack();
        }
    }

    /// <summary>Every rank must build the same model: compares parameter and buffer counts and sizes across ranks.</summary>
    private static void CheckSameModel(Module module)
    {
        if (!Distributed.IsDistributed) return;
        var sizes = module.NamedParameters().Select(p => (long)p.Parameter.NumEl).Concat(module.NamedBuffers().Select(b => (long)b.Buffer.NumEl)).ToList();
        long count = sizes.Count, total = sizes.Sum();
        long hash = sizes.Aggregate(17L, (h, s) => unchecked(h * 31 + s));
        var all = Distributed.AllGather<long>([count, total, hash]);
        for (int r = 1; r < Distributed.WorldSize; r++)
            if (all[3 * r] != all[0] || all[3 * r + 1] != all[1] || all[3 * r + 2] != all[2])
                throw new InvalidOperationException($"DistributedDataParallel: rank {r} built a different model ({all[3 * r]} tensors, {all[3 * r + 1]} values) from rank 0 ({all[0]} tensors, {all[1]} values); every rank must construct the same architecture.");
    }

    /// <summary>Copies rank 0's values of <paramref name="tensors"/> to every rank, one broadcast per element type.</summary>
    internal static void BroadcastState(IEnumerable<Tensor> tensors)
    {
        if (!Distributed.IsDistributed) return;
        foreach (var group in tensors.GroupBy(t => t.DType))
        {
            var list = group.ToList();
            switch (group.Key)
            {
                case DType.Float32: BroadcastGroup<float>(list); break;
                case DType.Float64: BroadcastGroup<double>(list); break;
                case DType.Int64: BroadcastGroup<long>(list); break;
                default: throw new NotSupportedException($"DistributedDataParallel: cannot broadcast {group.Key} state tensors.");
            }
        }
    }

    private static void BroadcastGroup<T>(List<Tensor> list) where T : unmanaged
    {
        var flat = new T[list.Sum(t => (long)t.NumEl)];
        int o = 0;
        foreach (var t in list) { t.Contiguous().Span<T>().CopyTo(flat.AsSpan(o)); o += t.NumEl; }
        Distributed.Broadcast(flat.AsSpan());
        o = 0;
        foreach (var t in list)
        {
            // Parameters and buffers are contiguous tensors owned by their module: write in place and bump the
            // version so a graph that saved the old values refuses to backward through them.
            if (!t.IsContiguous) throw new NotSupportedException("DistributedDataParallel: parameters and buffers must be contiguous.");
            flat.AsSpan(o, t.NumEl).CopyTo(t.Span<T>());
            t.Storage.Version++;
            o += t.NumEl;
        }
    }

    /// <summary>One fused buffer: the gradients of a few parameters followed by one presence flag per parameter.</summary>
    private sealed class Bucket
    {
        public readonly DType DType;
        public readonly Tensor[] Params;
        public readonly float[] F32 = [];
        public readonly double[] F64 = [];
        private readonly int _values;

        public Bucket(DType dtype, List<Tensor> ps)
        {
            DType = dtype;
            Params = ps.ToArray();
            _values = ps.Sum(p => p.NumEl);
            // Allocated once: a fresh buffer per step costs far more than the copy on this kind of machine.
            if (dtype == DType.Float32) F32 = new float[_values + ps.Count];
            else F64 = new double[_values + ps.Count];
        }

        public void Pack(double weight)
        {
            int o = 0;
            for (int i = 0; i < Params.Length; i++)
            {
                var p = Params[i];
                var g = p.Grad;
                bool has = g != null;
                if (g != null && !g.IsContiguous) g = g.Contiguous();
                if (DType == DType.Float32)
                {
                    var dst = F32.AsSpan(o, p.NumEl);
                    if (g == null) dst.Clear();
                    else if (weight == 1) g.F32Span.CopyTo(dst);
                    else TensorPrimitives.Multiply(g.F32Span, (float)weight, dst);
                    F32[_values + i] = has ? 1 : 0;
                }
                else
                {
                    var dst = F64.AsSpan(o, p.NumEl);
                    if (g == null) dst.Clear();
                    else if (weight == 1) g.F64Span.CopyTo(dst);
                    else TensorPrimitives.Multiply(g.F64Span, weight, dst);
                    F64[_values + i] = has ? 1 : 0;
                }
                o += p.NumEl;
            }
        }

        public void Unpack()
        {
            int o = 0;
            for (int i = 0; i < Params.Length; i++)
            {
                var p = Params[i];
                bool any = DType == DType.Float32 ? F32[_values + i] != 0 : F64[_values + i] != 0;
                if (any)
                {
                    if (p.Grad == null || !p.Grad.IsContiguous || p.Grad.DType != p.DType) p.Grad = Tensor.ZerosLike(p);
                    if (DType == DType.Float32) F32.AsSpan(o, p.NumEl).CopyTo(p.Grad.F32Span);
                    else F64.AsSpan(o, p.NumEl).CopyTo(p.Grad.F64Span);
                }
                o += p.NumEl;
            }
        }
    }
}
