using System.Numerics;
using System.Numerics.Tensors;

namespace Kindling.NN;

/// <summary>How <see cref="Functional.EmbeddingBag"/> reduces each bag (PyTorch's <c>mode</c>).</summary>
public enum EmbeddingBagMode { Sum, Mean, Max }

public static partial class Functional
{
    /// <summary>
    /// Sums, averages or takes the maximum of the embedding rows of each bag, without materialising the looked-up rows
    /// (PyTorch's <c>F.embedding_bag</c>). Bags: with a 1-D <paramref name="input"/> (N), bag b is
    /// input[offsets[b] .. offsets[b+1]) (the last bag runs to N, or with <paramref name="includeLastOffset"/> offsets has
    /// B + 1 entries and its last closes the last bag); with a 2-D input (B, L) each row is a bag and offsets must be
    /// null. Entries equal to <paramref name="paddingIdx"/> are left out (they do not count toward a mean); an empty bag
    /// gives zeros. <paramref name="perSampleWeights"/> (input's shape, mode Sum only) scales each entry:
    /// out[b] = Σ_k w_k·W[input_k]. Returns (B, D). Gradients: into the weight rows (and into perSampleWeights:
    /// ∂w_k = g[b]·W[input_k]); for Max only the row holding each feature's maximum receives it.
    /// </summary>
    public static Tensor EmbeddingBag(Tensor input, Tensor weight, Tensor? offsets = null, EmbeddingBagMode mode = EmbeddingBagMode.Mean,
        Tensor? perSampleWeights = null, bool includeLastOffset = false, int? paddingIdx = null, double? maxNorm = null, double normType = 2)
    {
        const string F = "embedding_bag";
        var ids = CheckIndices(F, input, weight);
        int V = weight.Dims[0];
        int pad = NormalizePaddingIdx(F, paddingIdx, V);
        int[] starts = BagStarts(F, input, offsets, includeLastOffset, ids.Length);
        if (perSampleWeights != null)
        {
            if (mode != EmbeddingBagMode.Sum)
                throw new ArgumentException($"{F}: per_sample_weights is only supported for mode 'sum' (got mode '{mode.ToString().ToLowerInvariant()}').", nameof(perSampleWeights));
            if (!perSampleWeights.Dims.AsSpan().SequenceEqual(input.Dims))
                throw new ArgumentException($"{F}: per_sample_weights {perSampleWeights.ShapeString} must have the input's shape {input.ShapeString}.", nameof(perSampleWeights));
            if (perSampleWeights.DType != weight.DType)
                throw new ArgumentException($"{F}: per_sample_weights is {Tensor.DTypeName(perSampleWeights.DType)} but weight is {Tensor.DTypeName(weight.DType)}.", nameof(perSampleWeights));
        }
        if (maxNorm is double mn) Renorm(F, weight, ids, mn, normType);
        return weight.DType == DType.Float32 ? EmbeddingBag<float>(weight, ids, starts, mode, perSampleWeights, pad)
            : EmbeddingBag<double>(weight, ids, starts, mode, perSampleWeights, pad);
    }

    /// <summary>B + 1 bag boundaries into the flat index list.</summary>
    private static int[] BagStarts(string f, Tensor input, Tensor? offsets, bool includeLast, int n)
    {
        if (input.Rank == 2)
        {
            if (offsets != null) throw new ArgumentException($"{f}: offsets must be null when input is 2-D {input.ShapeString} (each row is a bag).", nameof(offsets));
            int B = input.Dims[0], L = input.Dims[1];
            return Enumerable.Range(0, B + 1).Select(b => b * L).ToArray();
        }
        if (input.Rank != 1) throw new ArgumentException($"{f}: input has to be 1-D (with offsets) or 2-D (bags as rows), got {input.ShapeString}.", nameof(input));
        if (offsets == null) throw new ArgumentException($"{f}: offsets has to be a 1-D int64 tensor when input is 1-D, but got null.", nameof(offsets));
        if (offsets.DType != DType.Int64 || offsets.Rank != 1) throw new ArgumentException($"{f}: offsets has to be a 1-D int64 tensor, got {Tensor.DTypeName(offsets.DType)} {offsets.ShapeString}.", nameof(offsets));
        var o = offsets.ToInt64Array();
        if (o.Length == 0 || (includeLast && o.Length < 1)) throw new ArgumentException($"{f}: offsets is empty.", nameof(offsets));
        if (o[0] != 0) throw new ArgumentException($"{f}: offsets[0] has to be 0 (the first bag starts at position 0), but got {o[0]}.", nameof(offsets));
        for (int b = 1; b < o.Length; b++)
            if (o[b] < o[b - 1] || o[b] > n)
                throw new ArgumentException($"{f}: offsets must be non-decreasing and at most the input's length {n}, but offsets[{b}] = {o[b]} after offsets[{b - 1}] = {o[b - 1]}.", nameof(offsets));
        var starts = o.Select(v => (int)v).ToList();
        if (!includeLast) starts.Add(n);
        return starts.ToArray();
    }

    private static Tensor EmbeddingBag<T>(Tensor weight, long[] ids, int[] starts, EmbeddingBagMode mode, Tensor? psw, int pad) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int B = starts.Length - 1, D = weight.Dims[1];
        var w = weight.DenseData<T>();
        var pw = psw?.DenseData<T>();
        var y = new T[B * D];
        var counts = new int[B];
        int[]? argmax = mode == EmbeddingBagMode.Max ? new int[B * D] : null;
        if (argmax != null) Array.Fill(argmax, -1);
        for (int b = 0; b < B; b++)
        {
            var yb = y.AsSpan(b * D, D);
            for (int k = starts[b]; k < starts[b + 1]; k++)
            {
                int i = (int)ids[k];
                if (i == pad) continue;
                var row = w.AsSpan(i * D, D);
                if (mode == EmbeddingBagMode.Max)
                {
                    for (int j = 0; j < D; j++)
                        if (counts[b] == 0 || row[j] > yb[j]) { yb[j] = row[j]; argmax![b * D + j] = i; }
                }
                else if (pw != null) TensorPrimitives.MultiplyAdd<T>(row, pw[k], yb, yb);
                else TensorPrimitives.Add<T>(yb, row, yb);
                counts[b]++;
            }
            if (mode == EmbeddingBagMode.Mean && counts[b] > 0) TensorPrimitives.Divide<T>(yb, T.CreateChecked(counts[b]), yb);
        }
        var inputs = psw == null ? new[] { weight } : new[] { weight, psw };
        return Autograd.Record(Tensor.Wrap(y, [B, D]), "EmbeddingBagBackward", inputs, (g, sink) =>
        {
            var gd = g.DenseData<T>();
            if (sink.Needs(0))
            {
                var dw = sink.Into<T>(0, out bool acc);
                if (!acc) Array.Clear(dw);
                for (int b = 0; b < B; b++)
                {
                    var gb = gd.AsSpan(b * D, D);
                    if (mode == EmbeddingBagMode.Max)
                    {
                        for (int j = 0; j < D; j++) { int i = argmax![b * D + j]; if (i >= 0) dw[i * D + j] += gb[j]; }
                        continue;
                    }
                    T scale = mode == EmbeddingBagMode.Mean && counts[b] > 0 ? T.One / T.CreateChecked(counts[b]) : T.One;
                    for (int k = starts[b]; k < starts[b + 1]; k++)
                    {
                        int i = (int)ids[k];
                        if (i == pad) continue;
                        var dst = dw.AsSpan(i * D, D);
                        TensorPrimitives.MultiplyAdd<T>(gb, pw != null ? pw[k] : scale, dst, dst);
                    }
                }
            }
            if (psw != null && sink.Needs(1))
            {
                var dp = new T[ids.Length];
                for (int b = 0; b < B; b++)
                    for (int k = starts[b]; k < starts[b + 1]; k++)
                        if (ids[k] != pad) dp[k] = TensorPrimitives.Dot<T>(gd.AsSpan(b * D, D), w.AsSpan((int)ids[k] * D, D));
                sink.Add(1, Tensor.Wrap(dp, psw.Shape));
            }
        }, inputs);
    }
}
