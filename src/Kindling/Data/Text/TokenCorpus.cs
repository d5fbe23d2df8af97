namespace Kindling.Data.Text;

/// <summary>
/// A tokenized text as one long sequence of ids, for language modelling. Training batches are random contiguous
/// blocks (nanoGPT's <c>get_batch</c>): <c>x = ids[i .. i+T)</c>, <c>y = ids[i+1 .. i+T+1)</c> with i uniform in
/// [0, Count − T). Evaluation uses <see cref="Blocks"/>, which covers the whole split once, so a reported loss is the
/// loss of every token rather than of a random sample.
/// </summary>
public sealed class TokenCorpus
{
    private readonly int[] _ids;

    /// <summary>Wraps <paramref name="ids"/> (not copied); every id must be in [0, <paramref name="vocabSize"/>).</summary>
    public TokenCorpus(int[] ids, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (vocabSize < 1) throw new ArgumentOutOfRangeException(nameof(vocabSize), $"vocabSize must be positive, got {vocabSize}.");
        for (int i = 0; i < ids.Length; i++)
            if ((uint)ids[i] >= (uint)vocabSize)
                throw new ArgumentOutOfRangeException(nameof(ids), $"Token id {ids[i]} at position {i} is outside [0, {vocabSize}).");
        _ids = ids;
        VocabSize = vocabSize;
    }

    /// <summary>Number of tokens.</summary>
    public int Count => _ids.Length;

    /// <summary>Size of the vocabulary the ids come from.</summary>
    public int VocabSize { get; }

    /// <summary>The ids (not a copy).</summary>
    public ReadOnlySpan<int> Ids => _ids;

    /// <summary>Tokens [start, start+length) as a corpus of their own (a copy).</summary>
    public TokenCorpus Slice(int start, int length) => new(_ids.AsSpan(start, length).ToArray(), VocabSize);

    /// <summary>
    /// Splits a corpus as nanoGPT splits tiny-shakespeare: the first <paramref name="trainFraction"/> of the tokens for
    /// training and the rest, in order, for validation then test (the remainder halved: validation first). Contiguous
    /// splits keep the held-out text unseen, which a random split of overlapping blocks would not.
    /// </summary>
    public (TokenCorpus Train, TokenCorpus Validation, TokenCorpus Test) Split(double trainFraction = 0.9)
    {
        if (!(trainFraction > 0 && trainFraction < 1)) throw new ArgumentOutOfRangeException(nameof(trainFraction), $"trainFraction must be in (0, 1), got {trainFraction}.");
        int nTrain = (int)(Count * trainFraction);
        int nVal = (Count - nTrain) / 2;
        return (Slice(0, nTrain), Slice(nTrain, nVal), Slice(nTrain + nVal, Count - nTrain - nVal));
    }

    /// <summary>
    /// A random training batch: inputs and next-token targets, both int64 (batchSize, blockSize), with block starts drawn
    /// from <paramref name="generator"/> (uniform over [0, Count − blockSize)).
    /// </summary>
    /// <exception cref="DataException">The corpus is not longer than one block.</exception>
    public (Tensor X, Tensor Y) Sample(int batchSize, int blockSize, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        CheckBlock(batchSize, blockSize);
        var x = new long[batchSize * blockSize];
        var y = new long[batchSize * blockSize];
        for (int b = 0; b < batchSize; b++)
        {
            int start = (int)generator.NextInt64(Count - blockSize);
            Fill(x, y, b * blockSize, start, blockSize);
        }
        return (Tensor.Wrap(x, [batchSize, blockSize]), Tensor.Wrap(y, [batchSize, blockSize]));
    }

    /// <summary>
    /// Every token of the corpus predicted once: consecutive non-overlapping blocks of <paramref name="blockSize"/>
    /// targets, in batches of up to <paramref name="batchSize"/> blocks. The last block is shorter when the tokens do
    /// not divide evenly; it comes alone in a final batch so every batch is rectangular.
    /// </summary>
    public IEnumerable<(Tensor X, Tensor Y)> Blocks(int batchSize, int blockSize)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batchSize must be positive, got {batchSize}.");
        if (blockSize < 1) throw new ArgumentOutOfRangeException(nameof(blockSize), $"blockSize must be positive, got {blockSize}.");
        int targets = Count - 1;
        int full = targets / blockSize;
        for (int first = 0; first < full; first += batchSize)
        {
            int nb = Math.Min(batchSize, full - first);
            var x = new long[nb * blockSize];
            var y = new long[nb * blockSize];
            for (int b = 0; b < nb; b++) Fill(x, y, b * blockSize, (first + b) * blockSize, blockSize);
            yield return (Tensor.Wrap(x, [nb, blockSize]), Tensor.Wrap(y, [nb, blockSize]));
        }
        int rest = targets - full * blockSize;
        if (rest > 0)
        {
            var x = new long[rest];
            var y = new long[rest];
            Fill(x, y, 0, full * blockSize, rest);
            yield return (Tensor.Wrap(x, [1, rest]), Tensor.Wrap(y, [1, rest]));
        }
    }

    private void Fill(long[] x, long[] y, int at, int start, int length)
    {
        for (int t = 0; t < length; t++)
        {
            x[at + t] = _ids[start + t];
            y[at + t] = _ids[start + t + 1];
        }
    }

    private void CheckBlock(int batchSize, int blockSize)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batchSize must be positive, got {batchSize}.");
        if (blockSize < 1) throw new ArgumentOutOfRangeException(nameof(blockSize), $"blockSize must be positive, got {blockSize}.");
        if (Count <= blockSize)
            throw new DataException($"The text has {Count} tokens, too few for a context of {blockSize}: it needs at least {blockSize + 1}. Use a shorter --context or more text.");
    }
}
