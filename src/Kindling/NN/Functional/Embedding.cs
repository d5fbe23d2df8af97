using System.Numerics;
using System.Numerics.Tensors;

namespace Kindling.NN;

public static partial class Functional
{
    /// <summary>
    /// Looks up rows of <paramref name="weight"/> (V, D) by the int64 indices of <paramref name="input"/> (any shape) →
    /// (*input.shape, D) (PyTorch's <c>F.embedding</c>). Backward adds each output row's gradient into its weight row,
    /// except the <paramref name="paddingIdx"/> row (whose gradient stays zero); with <paramref name="scaleGradByFreq"/>
    /// each row's gradient is divided by how often its index occurs in the input. With <paramref name="maxNorm"/>, the
    /// rows looked up whose <paramref name="normType"/>-norm exceeds it are first rescaled in place (under no grad) to
    /// norm maxNorm·‖w‖/(‖w‖ + 1e−7), as PyTorch's <c>embedding_renorm_</c> does.
    /// </summary>
    public static Tensor Embedding(Tensor input, Tensor weight, int? paddingIdx = null, double? maxNorm = null, double normType = 2, bool scaleGradByFreq = false)
    {
        const string F = "embedding";
        var ids = CheckIndices(F, input, weight);
        int V = weight.Dims[0], D = weight.Dims[1];
        int pad = NormalizePaddingIdx(F, paddingIdx, V);
        if (maxNorm is double mn) Renorm(F, weight, ids, mn, normType);
        return weight.DType == DType.Float32 ? Embedding<float>(input, weight, ids, pad, scaleGradByFreq, V, D) : Embedding<double>(input, weight, ids, pad, scaleGradByFreq, V, D);
    }

    private static Tensor Embedding<T>(Tensor input, Tensor weight, long[] ids, int pad, bool scaleGradByFreq, int V, int D) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var w = weight.DenseData<T>();
        var y = new T[ids.Length * D];
        for (int k = 0; k < ids.Length; k++) w.AsSpan((int)ids[k] * D, D).CopyTo(y.AsSpan(k * D, D));
        return Autograd.Record(Tensor.Wrap(y, [.. input.Dims, D]), "EmbeddingBackward", [weight], (g, sink) =>
        {
            var gd = g.DenseData<T>();
            var dw = sink.Into<T>(0, out bool acc);
            if (!acc) Array.Clear(dw);
            int[]? counts = null;
            if (scaleGradByFreq) { counts = new int[V]; foreach (var i in ids) counts[i]++; }
            for (int k = 0; k < ids.Length; k++)
            {
                int i = (int)ids[k];
                if (i == pad) continue;
                var dst = dw.AsSpan(i * D, D);
                if (counts == null) TensorPrimitives.Add<T>(dst, gd.AsSpan(k * D, D), dst);
                else TensorPrimitives.MultiplyAdd<T>(gd.AsSpan(k * D, D), T.One / T.CreateChecked(counts[i]), dst, dst);
            }
        });
    }

    /// <summary>The int64 indices of <paramref name="input"/>, each checked against the table's V rows.</summary>
    private static long[] CheckIndices(string f, Tensor input, Tensor weight)
    {
        if (input.DType != DType.Int64)
            throw new ArgumentException($"{f}: indices must be an int64 tensor, got {Tensor.DTypeName(input.DType)} {input.ShapeString}; convert with .ToInt64().", nameof(input));
        if (weight.Rank != 2) throw new ArgumentException($"{f}: weight must be (num_embeddings, embedding_dim), got {weight.ShapeString}.", nameof(weight));
        weight.RequireFloat(f);
        var ids = input.ToInt64Array();
        int V = weight.Dims[0];
        for (int k = 0; k < ids.Length; k++)
            if (ids[k] < 0 || ids[k] >= V)
                throw new ArgumentOutOfRangeException(nameof(input), $"{f}: index {ids[k]} at flat position {k} of input {input.ShapeString} is out of range for a table of {V} rows; indices must be in [0, {V}).");
        return ids;
    }

    private static int NormalizePaddingIdx(string f, int? paddingIdx, int V)
    {
        if (paddingIdx is not int p) return -1;
        if (p < -V || p >= V) throw new ArgumentOutOfRangeException(nameof(paddingIdx), $"{f}: padding_idx {p} must be within [-{V}, {V}) for a table of {V} rows.");
        return p < 0 ? p + V : p;
    }

    /// <summary>PyTorch's <c>embedding_renorm_</c>: rows of <paramref name="weight"/> named in <paramref name="ids"/> with norm &gt; maxNorm are scaled by maxNorm/(norm + 1e−7), in place.</summary>
    private static void Renorm(string f, Tensor weight, long[] ids, double maxNorm, double normType)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), $"{f}: max_norm must be positive, got {maxNorm}.");
        if (!weight.IsContiguous) throw new ArgumentException($"{f}: max_norm renormalises the weight in place, which needs a contiguous weight (got strides of a view).");
        int D = weight.Dims[1];
        bool any = false;
        foreach (var i in ids.Distinct())
        {
            int at = weight.Offset + (int)i * D;
            double norm = 0;
            if (weight.DType == DType.Float32) { var r = ((float[])weight.Storage.Data).AsSpan(at, D); norm = PNorm(r.ToArray().Select(v => (double)v), normType); }
            else { var r = ((double[])weight.Storage.Data).AsSpan(at, D); norm = PNorm(r.ToArray(), normType); }
            if (!(norm > maxNorm)) continue;
            double scale = maxNorm / (norm + 1e-7);
            any = true;
            if (weight.DType == DType.Float32) { var r = ((float[])weight.Storage.Data).AsSpan(at, D); TensorPrimitives.Multiply(r, (float)scale, r); }
            else { var r = ((double[])weight.Storage.Data).AsSpan(at, D); TensorPrimitives.Multiply(r, scale, r); }
        }
        if (any) weight.Storage.Version++;
    }

    private static double PNorm(IEnumerable<double> v, double p) =>
        p == 2 ? Math.Sqrt(v.Sum(x => x * x)) : p == 1 ? v.Sum(Math.Abs) : double.IsPositiveInfinity(p) ? v.Max(Math.Abs) : Math.Pow(v.Sum(x => Math.Pow(Math.Abs(x), p)), 1 / p);
}
