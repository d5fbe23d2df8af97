namespace Kindling;

/// <summary>
/// Kindling's caching allocator: float and double arrays kept by exact length, so a training loop that repeats the
/// same shapes every step reuses the same buffers instead of asking the runtime for fresh memory (on these machines a
/// fresh 64 MB buffer costs about 30× a reused one, and each fresh array is later work for the garbage collector).
/// </summary>
/// <remarks>
/// <para><b>What may return here.</b> Renting is always safe: an array in the pool is referenced by nothing else.
/// Returning is the dangerous half, so only the autograd engine returns arrays, and only two kinds whose every
/// reference it knows (see <see cref="Autograd"/>):</para>
/// <list type="bullet">
/// <item>gradient buffers the engine rented during a backward pass and handed to no one else (not adopted as a
/// <see cref="Tensor.Grad"/>, not retained, not shared by another pending gradient), once their last use is over;</item>
/// <item>activations that <c>Sequential</c> passes between two built-in layers which neither keep nor return a view of
/// them, once backward has freed every node that saved them.</item>
/// </list>
/// <para>A tensor the user holds, a view, a <c>.Grad</c>, a parameter or a buffer never returns here. Lengths below
/// <see cref="MinLength"/> are not pooled (the runtime's small-object allocation is as cheap as a lookup). The pool
/// keeps at most <see cref="MaxPerLength"/> arrays of one length and <see cref="MaxBytes"/> in all; beyond that returned
/// arrays are left to the garbage collector, so a run that changes shapes cannot grow the pool without bound.</para>
/// </remarks>
internal static class BufferPool
{
    /// <summary>Shortest array kept (elements).</summary>
    public const int MinLength = 16;
    /// <summary>Most arrays kept of any one length.</summary>
    public const int MaxPerLength = 8;
    /// <summary>Most bytes kept in all.</summary>
    public const long MaxBytes = 256L << 20;

    private static readonly Dictionary<int, Stack<float[]>> F32 = [];
    private static readonly Dictionary<int, Stack<double[]>> F64 = [];
    private static readonly object Gate = new();
    private static long _bytes;

    /// <summary>Bytes currently held (for tests and benchmarks).</summary>
    public static long Bytes { get { lock (Gate) return _bytes; } }

    /// <summary>An array of exactly <paramref name="n"/> elements with unspecified contents.</summary>
    public static T[] Rent<T>(int n) where T : unmanaged
    {
        if (n >= MinLength)
        {
            if (typeof(T) == typeof(float)) { var a = Take(F32, n, 4); if (a != null) return (T[])(object)a; }
            else if (typeof(T) == typeof(double)) { var a = Take(F64, n, 8); if (a != null) return (T[])(object)a; }
        }
        return GC.AllocateUninitializedArray<T>(n);
    }

    /// <summary>Rents for a tensor of <paramref name="dtype"/> (float types only; others are allocated zeroed).</summary>
    public static Array Rent(DType dtype, int n) => dtype switch
    {
        DType.Float32 => Rent<float>(n),
        DType.Float64 => Rent<double>(n),
        DType.Int64 => new long[n],
        DType.UInt8 => new byte[n],
        DType.Bool => new bool[n],
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "BufferPool.Rent: unknown dtype."),
    };

    /// <summary>Gives an array back. The caller guarantees that nothing references it any more.</summary>
    public static void Return(Array data)
    {
        if (data.Length < MinLength) return;
        if (data is float[] f) Put(F32, f, 4);
        else if (data is double[] d) Put(F64, d, 8);
    }

    /// <summary>Empties the pool (tests).</summary>
    public static void Clear()
    {
        lock (Gate) { F32.Clear(); F64.Clear(); _bytes = 0; }
    }

    private static T[]? Take<T>(Dictionary<int, Stack<T[]>> pool, int n, int size)
    {
        lock (Gate)
        {
            if (!pool.TryGetValue(n, out var s) || s.Count == 0) return null;
            _bytes -= (long)n * size;
            return s.Pop();
        }
    }

    private static void Put<T>(Dictionary<int, Stack<T[]>> pool, T[] a, int size)
    {
        lock (Gate)
        {
            long b = (long)a.Length * size;
            if (_bytes + b > MaxBytes) return;
            if (!pool.TryGetValue(a.Length, out var s)) pool[a.Length] = s = new Stack<T[]>(MaxPerLength);
            if (s.Count >= MaxPerLength) return;
            s.Push(a);
            _bytes += b;
        }
    }
}
