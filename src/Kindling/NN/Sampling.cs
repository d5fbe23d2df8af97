namespace Kindling.NN;

/// <summary>
/// Drawing tokens from a language model's logits (nanoGPT's <c>generate</c>): divide by the temperature, keep the
/// top k, softmax, draw one index per row with a seeded <see cref="Generator"/> (the same seed draws the same tokens).
/// </summary>
public static class Sampling
{
    /// <summary>
    /// One index per row of <paramref name="logits"/> (N, V) → int64 (N): p = softmax(logits / temperature) restricted
    /// to the <paramref name="topK"/> largest logits (all ties of the k-th value kept, as nanoGPT's
    /// <c>logits &lt; v[:, [-1]]</c>), drawn by inverse CDF with <paramref name="generator"/>. temperature must be &gt; 0
    /// (use <see cref="Tensor.ArgMax"/> for greedy decoding); default 1, no top-k.
    /// </summary>
    public static Tensor SampleNext(Tensor logits, double temperature = 1.0, int? topK = null, Generator? generator = null)
    {
        if (logits.Rank != 2 || !logits.IsFloatingPoint) throw new ArgumentException($"SampleNext: logits must be float (N, V), got {logits.DType} {logits.ShapeString}.", nameof(logits));
        if (!(temperature > 0) || double.IsInfinity(temperature)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, $"SampleNext: temperature must be a positive number, got {temperature}; use ArgMax for greedy decoding.");
        int n = logits.Dims[0], v = logits.Dims[1];
        if (topK is int k0 && (k0 < 1 || k0 > v)) throw new ArgumentOutOfRangeException(nameof(topK), topK, $"SampleNext: top_k must be in [1, {v}], got {k0}.");
        var g = generator ?? Generator.Default;
        var x = logits.Detach().ToDoubleArray();
        var result = new long[n];
        var row = new double[v];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < v; j++) row[j] = x[i * v + j] / temperature;
            double cut = double.NegativeInfinity;
            if (topK is int k && k < v)
            {
                var sorted = (double[])row.Clone();
                Array.Sort(sorted);
                cut = sorted[v - k];
            }
            double max = double.NegativeInfinity;
            for (int j = 0; j < v; j++) if (row[j] >= cut) max = Math.Max(max, row[j]);
            if (double.IsNegativeInfinity(max) || double.IsNaN(max)) throw new ArgumentException($"SampleNext: row {i} has no finite logit to sample from.", nameof(logits));
            double sum = 0;
            for (int j = 0; j < v; j++) { row[j] = row[j] >= cut ? Math.Exp(row[j] - max) : 0; sum += row[j]; }
            double u = g.NextDouble() * sum, acc = 0;
            int pick = -1;
            for (int j = 0; j < v; j++)
            {
                if (row[j] == 0) continue;
                acc += row[j];
                pick = j;
                if (u < acc) break;
            }
            result[i] = pick;
        }
        return Tensor.FromArray(result, n);
    }
}
