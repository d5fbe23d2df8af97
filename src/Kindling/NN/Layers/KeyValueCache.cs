namespace Kindling.NN;

/// <summary>
/// The keys and values one <see cref="MultiheadAttention"/> has seen so far, for incremental decoding: pass the same
/// cache on every call and give only the new positions as query/key/value; their projected keys and values are
/// appended, and the queries attend to every cached position (with <c>isCausal</c>, query i of this call sees the keys
/// up to its own position S − L + i). Decoding token by token with a cache gives the outputs of a full causal forward
/// over the whole sequence (tested), at O(S) work per step instead of O(S²). Use one cache per attention layer and
/// per sequence batch; <see cref="Clear"/> starts a new sequence. Projected tensors are kept batch first (N, S, E).
/// </summary>
public sealed class KeyValueCache
{
    /// <summary>Cached projected keys (N, S, E), or null before the first call.</summary>
    public Tensor? Keys { get; private set; }
    /// <summary>Cached projected values (N, S, E), or null before the first call.</summary>
    public Tensor? Values { get; private set; }
    /// <summary>Number of cached positions S.</summary>
    public int Length => Keys?.Dims[1] ?? 0;

    /// <summary>Forgets every cached position.</summary>
    public void Clear() { Keys = null; Values = null; }

    internal (Tensor K, Tensor V) Append(Tensor k, Tensor v)
    {
        if (Keys != null && (Keys.Dims[0] != k.Dims[0] || Keys.Dims[2] != k.Dims[2]))
            throw new ArgumentException($"KeyValueCache: the cache holds batch {Keys.Dims[0]} with {Keys.Dims[2]} features, this call brings {k.ShapeString}; use one cache per batch of sequences (Clear() to start over).");
        Keys = Keys == null ? k : Tensor.Cat([Keys, k], 1);
        Values = Values == null ? v : Tensor.Cat([Values, v], 1);
        return (Keys, Values);
    }
}
