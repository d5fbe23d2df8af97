namespace Kindling.Data;

/// <summary>
/// Splits every global batch of an epoch across the ranks of a data-parallel job, so that the union of the ranks'
/// shards of global batch b is exactly batch b of a single process with the same seed. With
/// <c>worldSize = 1</c> it is a seeded, per-epoch shuffling batch sampler (what <c>kindling train</c> uses).
/// </summary>
/// <remarks>
/// <para><b>Order.</b> Epoch e visits the samples in <c>RandPerm(n, new Generator(EpochSeed(seed, e)))</c> (or in
/// index order without shuffling), drawn identically on every rank, so no rank needs to send indices. Because the
/// seed of each epoch depends only on (seed, epoch), a run resumed at epoch e reproduces it without replaying earlier
/// epochs: call <see cref="SetEpoch"/> (PyTorch's <c>set_epoch</c>) before each epoch.</para>
/// <para><b>Shards.</b> Global batch b covers positions [b·B, min(n, (b+1)·B)) of that order. Its G samples are cut into
/// <c>worldSize</c> contiguous shards: rank r takes ⌊G/W⌋ samples, plus one when r &lt; G mod W (so 128 over 3 ranks is
/// 43, 43, 42). Weight each rank's mean loss gradient by its share n_r / G (see Kindling.Distributed's
/// <c>DistributedDataParallel.Share</c>) and the sum over ranks is the gradient of the global batch's mean.</para>
/// <para><b>Why not PyTorch's strided sampler.</b> PyTorch's <c>DistributedSampler</c> gives rank r the indices
/// r, r+W, r+2W, … of the whole epoch (padding the epoch to a multiple of W with repeated samples), and each rank then
/// batches its own share. Its step-k batch is therefore not any single-process batch, and padding repeats samples;
/// training equals a single process only statistically. Splitting each global batch instead makes an N-process run
/// take exactly the steps of a one-process run with the same seed and batch size (up to the order of floating-point
/// sums), which is what lets Kindling test distributed training against single-process training step by step.</para>
/// </remarks>
public sealed class DistributedSampler : BatchSampler
{
    private int[] _order;

    /// <summary>Creates the sampler of rank <paramref name="rank"/> of <paramref name="worldSize"/>.</summary>
    /// <param name="count">Number of samples in the dataset.</param>
    /// <param name="globalBatchSize">Samples per global batch (all ranks together); the last may be smaller unless <paramref name="dropLast"/>.</param>
    /// <param name="worldSize">Number of ranks (1 for a single process).</param>
    /// <param name="rank">This rank, 0 … worldSize − 1.</param>
    /// <param name="shuffle">A new order every epoch (else index order).</param>
    /// <param name="seed">Seed shared by all ranks.</param>
    /// <param name="dropLast">Skip an incomplete final global batch.</param>
    public DistributedSampler(int count, int globalBatchSize, int worldSize = 1, int rank = 0, bool shuffle = true, ulong seed = 0, bool dropLast = false)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "DistributedSampler: the dataset size cannot be negative.");
        if (globalBatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(globalBatchSize), globalBatchSize, $"DistributedSampler: the global batch size must be positive, got {globalBatchSize}.");
        if (worldSize <= 0) throw new ArgumentOutOfRangeException(nameof(worldSize), worldSize, $"DistributedSampler: worldSize must be positive, got {worldSize}.");
        if (rank < 0 || rank >= worldSize) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"DistributedSampler: rank must be in 0…{worldSize - 1}, got {rank}.");
        if (globalBatchSize < worldSize)
            throw new ArgumentOutOfRangeException(nameof(globalBatchSize), globalBatchSize, $"DistributedSampler: a global batch of {globalBatchSize} cannot give each of {worldSize} ranks at least one sample; use a batch size of at least {worldSize}.");
        Size = count; GlobalBatchSize = globalBatchSize; WorldSize = worldSize; Rank = rank; Shuffle = shuffle; Seed = seed; DropLast = dropLast;
        _order = MakeOrder(0);
    }

    /// <summary>Number of samples in the dataset.</summary>
    public int Size { get; }
    /// <summary>Samples per global batch.</summary>
    public int GlobalBatchSize { get; }
    /// <summary>Number of ranks.</summary>
    public int WorldSize { get; }
    /// <summary>This sampler's rank.</summary>
    public int Rank { get; }
    /// <summary>Whether epochs are shuffled.</summary>
    public bool Shuffle { get; }
    /// <summary>The seed shared by all ranks.</summary>
    public ulong Seed { get; }
    /// <summary>Whether an incomplete final global batch is skipped.</summary>
    public bool DropLast { get; }
    /// <summary>The current epoch (set by <see cref="SetEpoch"/>; 0 initially).</summary>
    public int Epoch { get; private set; }
    /// <summary>The first global batch the next enumeration yields (set by <see cref="SetEpoch"/> to resume mid-epoch).</summary>
    public int StartBatch { get; private set; }

    /// <summary>Global batches per epoch (every rank takes part in each, so this is also each rank's batch count).</summary>
    public override int Count => DropLast ? Size / GlobalBatchSize : (Size + GlobalBatchSize - 1) / GlobalBatchSize;

    /// <summary>The global sample order of the current epoch (identical on every rank).</summary>
    public IReadOnlyList<int> Order => _order;

    /// <summary>
    /// Selects epoch <paramref name="epoch"/>'s order and, to resume inside it, the first global batch to yield.
    /// Every rank must call it with the same arguments.
    /// </summary>
    public void SetEpoch(int epoch, int startBatch = 0)
    {
        if (epoch < 0) throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "DistributedSampler.SetEpoch: the epoch cannot be negative.");
        if (startBatch < 0 || startBatch > Count) throw new ArgumentOutOfRangeException(nameof(startBatch), startBatch, $"DistributedSampler.SetEpoch: startBatch must be in 0…{Count}.");
        if (epoch != Epoch) _order = MakeOrder(epoch);
        Epoch = epoch;
        StartBatch = startBatch;
    }

    /// <summary>
    /// The seed of epoch <paramref name="epoch"/>'s permutation: a SplitMix64 finaliser of (seed, epoch), so
    /// neighbouring seeds and epochs give unrelated permutations.
    /// </summary>
    public static ulong EpochSeed(ulong seed, long epoch)
    {
        ulong z = seed + 0x9E3779B97F4A7C15UL * (ulong)(epoch + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        return z ^ (z >> 27);
    }

    private int[] MakeOrder(int epoch)
    {
        if (!Shuffle)
        {
            var id = new int[Size];
            for (int i = 0; i < Size; i++) id[i] = i;
            return id;
        }
        return DataLoader.Permutation(Size, new Generator(EpochSeed(Seed, epoch)));
    }

    /// <summary>Size of global batch <paramref name="batch"/> of an epoch (all ranks together).</summary>
    public int GlobalBatchLength(int batch) => Math.Min(GlobalBatchSize, Size - batch * GlobalBatchSize);

    /// <summary>Rank <paramref name="rank"/>'s [start, start + length) within a global batch of <paramref name="globalLength"/> samples.</summary>
    public static (int Start, int Length) Shard(int globalLength, int worldSize, int rank)
    {
        int q = globalLength / worldSize, rem = globalLength % worldSize;
        return (rank * q + Math.Min(rank, rem), q + (rank < rem ? 1 : 0));
    }

    /// <summary>This rank's shard of each global batch of the current epoch, from <see cref="StartBatch"/> on.</summary>
    public override IEnumerable<int[]> Batches()
    {
        var order = _order;
        int count = Count;
        for (int b = StartBatch; b < count; b++)
        {
            int g = GlobalBatchLength(b);
            var (s, len) = Shard(g, WorldSize, Rank);
            yield return order.AsSpan(b * GlobalBatchSize + s, len).ToArray();
        }
    }
}
