namespace Kindling.NN;

/// <summary>
/// A batch of variable-length sequences packed time step by time step (PyTorch's <c>PackedSequence</c>): step t holds
/// <see cref="BatchSizes"/>[t] rows of <see cref="Data"/>, one per sequence still running, longest sequences first.
/// Build one with <see cref="RnnUtils.PackPaddedSequence"/> or <see cref="RnnUtils.PackSequence"/>; recurrent layers take
/// it directly and skip the padding; <see cref="RnnUtils.PadPackedSequence"/> turns it back into a padded tensor.
/// </summary>
public sealed class PackedSequence
{
    /// <summary>(N, *) all sequences' elements, N = Σ lengths, in time-major packed order.</summary>
    public Tensor Data { get; }
    /// <summary>int64 (T_max): how many sequences are still running at each step (non-increasing).</summary>
    public Tensor BatchSizes { get; }
    /// <summary>int64 (B): the original batch index of each sorted position, or null when the input was already sorted.</summary>
    public Tensor? SortedIndices { get; }
    /// <summary>int64 (B): the sorted position of each original batch index (the inverse of <see cref="SortedIndices"/>).</summary>
    public Tensor? UnsortedIndices { get; }

    internal int[] BatchSizesArray { get; }

    public PackedSequence(Tensor data, Tensor batchSizes, Tensor? sortedIndices = null, Tensor? unsortedIndices = null)
    {
        if (batchSizes.DType != DType.Int64 || batchSizes.Rank != 1)
            throw new ArgumentException($"PackedSequence: batch_sizes must be a 1-D int64 tensor, got {Tensor.DTypeName(batchSizes.DType)} {batchSizes.ShapeString}.");
        var bs = batchSizes.ToInt64Array();
        long total = 0;
        for (int t = 0; t < bs.Length; t++)
        {
            if (bs[t] <= 0 || (t > 0 && bs[t] > bs[t - 1]))
                throw new ArgumentException($"PackedSequence: batch_sizes must be positive and non-increasing, got [{string.Join(", ", bs)}].");
            total += bs[t];
        }
        if (data.Rank == 0 || data.Dims[0] != total)
            throw new ArgumentException($"PackedSequence: data has shape {data.ShapeString} but batch_sizes add up to {total} rows.");
        if ((sortedIndices == null) != (unsortedIndices == null))
            throw new ArgumentException("PackedSequence: give both sorted_indices and unsorted_indices, or neither.");
        Data = data;
        BatchSizes = batchSizes;
        SortedIndices = sortedIndices;
        UnsortedIndices = unsortedIndices;
        BatchSizesArray = Array.ConvertAll(bs, v => (int)v);
    }

    /// <summary>The same batch with other data (what a recurrent layer returns: its output rows in the same packing).</summary>
    public PackedSequence WithData(Tensor data) => new(data, BatchSizes, SortedIndices, UnsortedIndices);
}
