namespace Kindling.NN;

/// <summary>
/// Variable-length batches for recurrent layers (PyTorch's <c>torch.nn.utils.rnn</c>): pack a padded batch so the layer
/// runs each sequence only over its own length, and pad the result back. All functions are differentiable (one
/// row-gather node each).
/// </summary>
public static class RnnUtils
{
    /// <summary>
    /// Packs a padded batch (PyTorch's <c>pack_padded_sequence</c>). input: (T, B, *), or (B, T, *) with
    /// <paramref name="batchFirst"/>; lengths: B positive lengths ≤ T (int64 tensor). With <paramref name="enforceSorted"/>
    /// (default) the lengths must be non-increasing; otherwise the batch is sorted by decreasing length (stable) and the
    /// permutation kept in the result's SortedIndices/UnsortedIndices.
    /// </summary>
    public static PackedSequence PackPaddedSequence(Tensor input, Tensor lengths, bool batchFirst = false, bool enforceSorted = true)
    {
        const string F = "pack_padded_sequence";
        if (lengths.DType != DType.Int64 || lengths.Rank != 1)
            throw new ArgumentException($"{F}: lengths must be a 1-D int64 tensor (one length per batch entry), got {Tensor.DTypeName(lengths.DType)} {lengths.ShapeString}.");
        if (input.Rank < 2) throw new ArgumentException($"{F}: input must be (T, B, *) or, with batch_first, (B, T, *); got {input.ShapeString}.");
        input.RequireFloat(F);
        int T = batchFirst ? input.Dims[1] : input.Dims[0], B = batchFirst ? input.Dims[0] : input.Dims[1];
        var len = lengths.ToInt64Array();
        if (len.Length != B) throw new ArgumentException($"{F}: got {len.Length} lengths for a batch of {B} (input {input.ShapeString}, batch_first={batchFirst}).");
        for (int b = 0; b < B; b++)
            if (len[b] <= 0 || len[b] > T)
                throw new ArgumentException($"{F}: lengths[{b}] = {len[b]}, but every length must be in 1..{T} (the padded length of input {input.ShapeString}).");
        int[] order = Enumerable.Range(0, B).ToArray();
        Tensor? sorted = null, unsorted = null;
        if (enforceSorted)
        {
            for (int b = 1; b < B; b++)
                if (len[b] > len[b - 1])
                    throw new ArgumentException($"{F}: lengths must be sorted in decreasing order when enforce_sorted is true, but lengths[{b}] = {len[b]} > lengths[{b - 1}] = {len[b - 1]}. Pass enforceSorted: false if you do not need ONNX export.");
        }
        else
        {
            order = order.OrderByDescending(b => len[b]).ToArray(); // LINQ's OrderBy is stable
            var inv = new long[B];
            for (int j = 0; j < B; j++) inv[order[j]] = j;
            sorted = Tensor.FromArray(Array.ConvertAll(order, v => (long)v), B);
            unsorted = Tensor.FromArray(inv, B);
        }
        int maxLen = (int)len[order[0]];
        var batchSizes = new long[maxLen];
        var rows = new List<int>();
        for (int t = 0; t < maxLen; t++)
            for (int j = 0; j < B; j++)
            {
                int b = order[j];
                if (len[b] <= t) break;
                batchSizes[t]++;
                rows.Add(batchFirst ? b * T + t : t * B + b);
            }
        int[] rest = input.Dims[2..];
        var flat = input.Reshape([T * B, .. rest]);
        var data = Functional.GatherRows(flat, rows.ToArray(), 0, [rows.Count, .. rest]);
        return new PackedSequence(data, Tensor.FromArray(batchSizes, maxLen), sorted, unsorted);
    }

    /// <summary>
    /// Unpacks to a padded batch (PyTorch's <c>pad_packed_sequence</c>): (T, B, *), or (B, T, *) with
    /// <paramref name="batchFirst"/>, in the original batch order, padding with <paramref name="paddingValue"/>; T is the
    /// longest length or <paramref name="totalLength"/> when given. Also returns the lengths (int64, original order).
    /// </summary>
    public static (Tensor Padded, Tensor Lengths) PadPackedSequence(PackedSequence sequence, bool batchFirst = false, double paddingValue = 0, int? totalLength = null)
    {
        var bs = sequence.BatchSizesArray;
        int maxLen = bs.Length, B = bs.Length == 0 ? 0 : bs[0];
        if (totalLength is int tl && tl < maxLen)
            throw new ArgumentException($"pad_packed_sequence: total_length = {tl} is shorter than the longest sequence ({maxLen}); pass at least {maxLen}.");
        int T = totalLength ?? maxLen;
        var lenSorted = new long[B];
        var offsets = new int[maxLen];
        for (int t = 0, o = 0; t < maxLen; o += bs[t], t++) { offsets[t] = o; for (int j = 0; j < bs[t]; j++) lenSorted[j]++; }
        var unsorted = sequence.UnsortedIndices?.ToInt64Array();
        var rows = new int[T * B];
        var lengths = new long[B];
        for (int b = 0; b < B; b++)
        {
            int j = unsorted == null ? b : (int)unsorted[b];
            lengths[b] = lenSorted[j];
            for (int t = 0; t < T; t++)
                rows[batchFirst ? b * T + t : t * B + b] = t < lenSorted[j] ? offsets[t] + j : -1;
        }
        int[] rest = sequence.Data.Dims[1..];
        int[] shape = batchFirst ? [B, T, .. rest] : [T, B, .. rest];
        return (Functional.GatherRows(sequence.Data, rows, paddingValue, shape), Tensor.FromArray(lengths, B));
    }

    /// <summary>
    /// Pads a list of (L_i, *) sequences to (L_max, B, *), or (B, L_max, *) with <paramref name="batchFirst"/>
    /// (PyTorch's <c>pad_sequence</c>).
    /// </summary>
    public static Tensor PadSequence(IReadOnlyList<Tensor> sequences, bool batchFirst = false, double paddingValue = 0)
    {
        var (all, starts, lens) = Concat(sequences, "pad_sequence");
        int B = sequences.Count, T = lens.Max();
        var rows = new int[T * B];
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                rows[batchFirst ? b * T + t : t * B + b] = t < lens[b] ? starts[b] + t : -1;
        int[] rest = all.Dims[1..];
        return Functional.GatherRows(all, rows, paddingValue, batchFirst ? [B, T, .. rest] : [T, B, .. rest]);
    }

    /// <summary>
    /// Packs a list of (L_i, *) sequences (PyTorch's <c>pack_sequence</c>): <see cref="PadSequence"/> then
    /// <see cref="PackPaddedSequence"/> with the sequences' lengths.
    /// </summary>
    public static PackedSequence PackSequence(IReadOnlyList<Tensor> sequences, bool enforceSorted = true)
    {
        var lens = sequences.Select(s => (long)(s.Rank == 0 ? 0 : s.Dims[0])).ToArray();
        return PackPaddedSequence(PadSequence(sequences), Tensor.FromArray(lens, lens.Length), false, enforceSorted);
    }

    private static (Tensor All, int[] Starts, int[] Lens) Concat(IReadOnlyList<Tensor> sequences, string f)
    {
        if (sequences.Count == 0) throw new ArgumentException($"{f}: got an empty list of sequences.");
        var first = sequences[0];
        for (int b = 0; b < sequences.Count; b++)
        {
            var s = sequences[b];
            if (s.Rank == 0 || s.Dims[0] == 0) throw new ArgumentException($"{f}: sequence {b} has shape {s.ShapeString}; every sequence needs at least one step.");
            if (!s.Dims.AsSpan(1).SequenceEqual(first.Dims.AsSpan(1)) || s.DType != first.DType)
                throw new ArgumentException($"{f}: sequence {b} is {Tensor.DTypeName(s.DType)} {s.ShapeString} but sequence 0 is {Tensor.DTypeName(first.DType)} {first.ShapeString}; all must agree after the first dimension.");
        }
        var lens = sequences.Select(s => s.Dims[0]).ToArray();
        var starts = new int[lens.Length];
        for (int b = 1; b < lens.Length; b++) starts[b] = starts[b - 1] + lens[b - 1];
        return (Tensor.Cat(sequences, 0), starts, lens);
    }
}
