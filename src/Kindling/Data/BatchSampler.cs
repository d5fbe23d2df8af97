namespace Kindling.Data;

/// <summary>
/// Decides which dataset indices make up each batch of an epoch (PyTorch's <c>batch_sampler</c> argument of
/// <c>DataLoader</c>). Enumerating it once is one epoch; a <see cref="DataLoader"/> built on a batch sampler collates
/// exactly these index lists, in this order.
/// </summary>
public abstract class BatchSampler
{
    /// <summary>Number of batches in the current epoch.</summary>
    public abstract int Count { get; }

    /// <summary>The batches of the current epoch (each an array of dataset indices, possibly empty).</summary>
    public abstract IEnumerable<int[]> Batches();
}
