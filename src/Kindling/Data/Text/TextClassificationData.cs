namespace Kindling.Data.Text;

/// <summary>
/// Tokenized texts with class labels, batched for a text classifier. Rows keep their own lengths; a batch is collated
/// either padded (ids (B, L) with L the longest row of the batch, padded with <see cref="PadId"/>, plus lengths (B)) for
/// recurrent and attention models, or as bags (all ids flat plus offsets (B)) for <c>EmbeddingBag</c>. Rows longer than
/// <see cref="MaxLength"/> are truncated; an empty row becomes one <see cref="PadId"/> token so every row has length ≥ 1
/// (an EmbeddingBag over a padding index then averages nothing, as PyTorch's does).
/// </summary>
public sealed class TextClassificationData
{
    private readonly int[][] _rows;
    private readonly long[] _labels;

    /// <summary>Tokenizes <paramref name="texts"/> with <paramref name="tokenizer"/>.</summary>
    /// <param name="texts">One text per row.</param>
    /// <param name="labels">Class index per row, in [0, <paramref name="numClasses"/>).</param>
    /// <param name="numClasses">Number of classes.</param>
    /// <param name="tokenizer">A tokenizer fitted on the training rows only.</param>
    /// <param name="maxLength">Rows are cut to this many tokens (default 256).</param>
    /// <param name="padId">The padding id (default <see cref="WordVocabulary.PadId"/>, 0).</param>
    public TextClassificationData(IReadOnlyList<string> texts, IReadOnlyList<long> labels, int numClasses, ITokenizer tokenizer, int maxLength = 256, int padId = WordVocabulary.PadId)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (texts.Count != labels.Count) throw new ArgumentException($"There are {texts.Count} texts but {labels.Count} labels.", nameof(labels));
        if (maxLength < 1) throw new ArgumentOutOfRangeException(nameof(maxLength), $"maxLength must be positive, got {maxLength}.");
        if ((uint)padId >= (uint)tokenizer.VocabSize) throw new ArgumentOutOfRangeException(nameof(padId), $"padId {padId} is outside the vocabulary [0, {tokenizer.VocabSize}).");
        _rows = new int[texts.Count][];
        _labels = new long[labels.Count];
        for (int i = 0; i < texts.Count; i++)
        {
            if ((ulong)labels[i] >= (ulong)numClasses) throw new ArgumentOutOfRangeException(nameof(labels), $"Label {labels[i]} of row {i} is outside [0, {numClasses}).");
            _labels[i] = labels[i];
            var ids = tokenizer.Encode(texts[i] ?? "");
            if (ids.Length > maxLength) { Truncated++; ids = ids[..maxLength]; }
            _rows[i] = ids.Length == 0 ? [padId] : ids;
        }
        NumClasses = numClasses;
        MaxLength = maxLength;
        PadId = padId;
    }

    /// <summary>Number of rows.</summary>
    public int Count => _rows.Length;

    /// <summary>Number of classes.</summary>
    public int NumClasses { get; }

    /// <summary>Rows are truncated to this many tokens.</summary>
    public int MaxLength { get; }

    /// <summary>The padding id.</summary>
    public int PadId { get; }

    /// <summary>How many rows were longer than <see cref="MaxLength"/> and cut.</summary>
    public int Truncated { get; }

    /// <summary>Row <paramref name="i"/>'s token ids (not a copy).</summary>
    public ReadOnlySpan<int> Row(int i) => _rows[i];

    /// <summary>Row <paramref name="i"/>'s label.</summary>
    public long Label(int i) => _labels[i];

    /// <summary>Padded batch: ids int64 (B, L), lengths int64 (B), labels int64 (B).</summary>
    public (Tensor Ids, Tensor Lengths, Tensor Labels) CollatePadded(ReadOnlySpan<int> rows)
    {
        int b = rows.Length, l = 0;
        foreach (int r in rows) l = Math.Max(l, _rows[r].Length);
        var ids = new long[b * l];
        var lengths = new long[b];
        var labels = new long[b];
        for (int i = 0; i < b; i++)
        {
            var row = _rows[rows[i]];
            for (int t = 0; t < l; t++) ids[i * l + t] = t < row.Length ? row[t] : PadId;
            lengths[i] = row.Length;
            labels[i] = _labels[rows[i]];
        }
        return (Tensor.Wrap(ids, [b, l]), Tensor.Wrap(lengths, [b]), Tensor.Wrap(labels, [b]));
    }

    /// <summary>Bag batch for <c>EmbeddingBag</c>: flat ids int64 (Σ lengths), offsets int64 (B), labels int64 (B).</summary>
    public (Tensor Ids, Tensor Offsets, Tensor Labels) CollateBags(ReadOnlySpan<int> rows)
    {
        int total = 0;
        foreach (int r in rows) total += _rows[r].Length;
        var ids = new long[total];
        var offsets = new long[rows.Length];
        var labels = new long[rows.Length];
        int at = 0;
        for (int i = 0; i < rows.Length; i++)
        {
            offsets[i] = at;
            foreach (int id in _rows[rows[i]]) ids[at++] = id;
            labels[i] = _labels[rows[i]];
        }
        return (Tensor.Wrap(ids, [total]), Tensor.Wrap(offsets, [rows.Length]), Tensor.Wrap(labels, [rows.Length]));
    }

    /// <summary>
    /// Row indices in batches of <paramref name="batchSize"/>: in order, or shuffled by <paramref name="generator"/>
    /// (a Fisher–Yates permutation per call, so each epoch differs and a seed repeats it).
    /// </summary>
    public IEnumerable<int[]> BatchIndices(int batchSize, Generator? generator = null)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batchSize must be positive, got {batchSize}.");
        var order = Enumerable.Range(0, Count).ToArray();
        if (generator is not null)
            for (int i = order.Length - 1; i > 0; i--)
            {
                int j = (int)generator.NextInt64(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
        for (int s = 0; s < order.Length; s += batchSize) yield return order[s..Math.Min(order.Length, s + batchSize)];
    }
}
