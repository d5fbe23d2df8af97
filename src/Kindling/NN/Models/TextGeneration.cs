namespace Kindling.NN;

/// <summary>
/// Sampling from a language model, as nanoGPT's <c>generate</c>: logits / temperature, optionally only the top k kept
/// (every logit below the k-th largest set to −∞, so ties with the k-th stay), softmax, one multinomial draw from a
/// seeded <see cref="Generator"/>. The same seed gives the same text.
/// </summary>
public static class TextGeneration
{
    /// <summary>
    /// <paramref name="length"/> new token ids after <paramref name="prompt"/>. Recurrent models carry their state;
    /// attention models use their key/value cache and, once the context is full, restart from the last
    /// <c>ContextSize</c> tokens (nanoGPT crops the same way).
    /// </summary>
    /// <param name="model">The model (put it in evaluation mode first).</param>
    /// <param name="prompt">At least one token id.</param>
    /// <param name="length">Tokens to generate.</param>
    /// <param name="temperature">&gt; 0; 1 samples the model's distribution, lower is greedier.</param>
    /// <param name="topK">Keep only the k most likely tokens (null or ≥ V: all).</param>
    /// <param name="generator">The randomness.</param>
    public static int[] Generate(ILanguageModel model, IReadOnlyList<int> prompt, int length, double temperature = 1.0, int? topK = null, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(prompt);
        if (prompt.Count == 0) throw new ArgumentException("Generate: the prompt must hold at least one token.", nameof(prompt));
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), $"length must be ≥ 0, got {length}.");
        if (!(temperature > 0) || double.IsInfinity(temperature)) throw new ArgumentOutOfRangeException(nameof(temperature), $"temperature must be positive and finite, got {temperature}.");
        if (topK is < 1) throw new ArgumentOutOfRangeException(nameof(topK), $"top-k must be at least 1, got {topK}.");
        generator ??= Generator.Default;
        var all = new List<int>(prompt);
        int? ctx = model.ContextSize;
        var decoder = model.StartDecoding();
        int fed = ctx is int c0 ? Math.Max(0, all.Count - c0) : 0;   // the window the decoder has seen starts here
        var logits = decoder.Append(all.Skip(fed).ToArray());
        int inWindow = all.Count - fed;
        var result = new int[length];
        for (int i = 0; i < length; i++)
        {
            int next = Sample(logits, temperature, topK, generator);
            result[i] = next;
            all.Add(next);
            if (i == length - 1) break;
            if (ctx is int c && inWindow == c)
            {
                // The context is full: start a fresh cache over the last c tokens.
                decoder = model.StartDecoding();
                logits = decoder.Append(all.Skip(all.Count - c).ToArray());
                inWindow = c;
            }
            else
            {
                logits = decoder.Append([next]);
                inWindow++;
            }
        }
        return result;
    }

    /// <summary>One draw from softmax(<paramref name="logits"/> / temperature) restricted to the top k.</summary>
    public static int Sample(ReadOnlySpan<float> logits, double temperature, int? topK, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        int v = logits.Length;
        double threshold = double.NegativeInfinity;
        if (topK is int k && k < v)
        {
            var sorted = logits.ToArray();
            Array.Sort(sorted);
            threshold = sorted[v - k];
        }
        double max = double.NegativeInfinity;
        for (int i = 0; i < v; i++) if (logits[i] >= threshold && logits[i] > max) max = logits[i];
        if (double.IsNaN(max) || double.IsNegativeInfinity(max)) throw new InvalidOperationException("Sample: the logits hold no finite value to sample from.");
        var p = new double[v];
        double sum = 0;
        for (int i = 0; i < v; i++)
        {
            p[i] = logits[i] >= threshold ? Math.Exp((logits[i] - max) / temperature) : 0;
            sum += p[i];
        }
        double u = generator.NextDouble() * sum, acc = 0;
        int last = 0;
        for (int i = 0; i < v; i++)
        {
            if (p[i] == 0) continue;
            acc += p[i];
            last = i;
            if (u < acc) return i;
        }
        return last;
    }
}
