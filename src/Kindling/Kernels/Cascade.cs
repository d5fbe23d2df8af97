using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// Cascade summation, as PyTorch's CPU sum does it: accumulators arranged in levels, each level taking at most
/// <see cref="Step"/> additions before it is added into the level above and restarted. A plain running float32 sum
/// of n terms carries a rounding error that grows like n·ε (and stops growing at all once the sum reaches 2²⁴ times a
/// term); here every partial sum has absorbed at most <see cref="Step"/> terms of its own size, so the error grows like
/// Step·log_Step(n)·ε: 10⁸ float32 values sum to within ~1e-7 relative instead of ~1e-2.
/// <para><see cref="Sum{T}"/> runs the cascade in every vector lane (4 independent accumulators, for the adder's
/// latency) and adds the lanes at the end; <see cref="Columns{T}"/> sums rows of a (n, inner) block elementwise with a
/// cascade of row buffers, so a reduction along a non-last dimension keeps its sequential reads and its accuracy.
/// Both cost a few extra adds per <c>Step</c> blocks: the same speed as a plain sum.</para>
/// </summary>
internal static class Cascade
{
    /// <summary>Additions a level takes before it flushes into the next (PyTorch uses 16).</summary>
    internal const int Step = 8;

    /// <summary>Levels above the first: Step^MaxLevels blocks is far beyond any int-indexed span.</summary>
    private const int MaxLevels = 12;

    /// <summary>Σ x in the element type, by cascade: within 1e-6 relative of the exact sum for float32 up to 2³¹ terms of one sign.</summary>
    public static T Sum<T>(ReadOnlySpan<T> x) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float) || typeof(T) == typeof(double)) return SumOf(x, new Identity<T>());
        // Integers are exact in any order.
        T s = T.Zero;
        foreach (var v in x) s += v;
        return s;
    }

    /// <summary>Σ term(x) by cascade for float32 or float64 x, the term applied as each vector is loaded (one pass).</summary>
    public static T SumOf<T, TTerm>(ReadOnlySpan<T> x, TTerm term) where T : unmanaged, INumber<T> where TTerm : struct, ITerm<T> => Isa.Level switch
    {
        IsaLevel.Vector512 => Vector512.Sum(Lanes512(x, term, out int done)) + Scalar(x[done..], term),
        IsaLevel.Vector256 => Vector256.Sum(Lanes256(x, term, out int done)) + Scalar(x[done..], term),
        _ => Scalar(x, term),
    };

    /// <summary>A function applied to each element before it is summed, at every width.</summary>
    internal interface ITerm<T> where T : unmanaged
    {
        T Map(T x);
        Vector256<T> Map(Vector256<T> x);
        Vector512<T> Map(Vector512<T> x);
    }

    internal readonly struct Identity<T> : ITerm<T> where T : unmanaged
    {
        public T Map(T x) => x;
        public Vector256<T> Map(Vector256<T> x) => x;
        public Vector512<T> Map(Vector512<T> x) => x;
    }

    /// <summary>x²: the 2-norm's terms.</summary>
    internal readonly struct Square<T> : ITerm<T> where T : unmanaged, INumber<T>
    {
        public T Map(T x) => x * x;
        public Vector256<T> Map(Vector256<T> x) => x * x;
        public Vector512<T> Map(Vector512<T> x) => x * x;
    }

    /// <summary>(x − mean)²: the variance's terms (the second pass of a two-pass variance).</summary>
    internal readonly struct SquaredDeviation<T>(T mean) : ITerm<T> where T : unmanaged, INumber<T>
    {
        public T Map(T x) { T d = x - mean; return d * d; }
        public Vector256<T> Map(Vector256<T> x) { var d = x - Vector256.Create(mean); return d * d; }
        public Vector512<T> Map(Vector512<T> x) { var d = x - Vector512.Create(mean); return d * d; }
    }

    /// <summary>The cascade per 512-bit lane over the whole vectors of x; <paramref name="done"/> = elements consumed.</summary>
    private static Vector512<T> Lanes512<T, TTerm>(ReadOnlySpan<T> x, TTerm term, out int done) where T : unmanaged, INumber<T> where TTerm : struct, ITerm<T>
    {
        int w = Vector512<T>.Count, block = 4 * Step * w, i = 0;
        ref T p = ref MemoryMarshal.GetReference(x);
        // Only as many levels as this length needs (a short row should not pay for clearing and adding twelve).
        int levels = Levels(x.Length / block + 1);
        Span<Vector512<T>> level = stackalloc Vector512<T>[MaxLevels];
        Span<int> count = stackalloc int[MaxLevels];
        level[..levels].Clear(); count[..levels].Clear();
        level = level[..levels]; count = count[..levels];
        for (; i + block <= x.Length; i += block)
        {
            // Level 0: 4 accumulators × Step vectors, then one block sum into the cascade.
            Vector512<T> a0 = term.Map(Vector512.LoadUnsafe(ref p, (nuint)i)), a1 = term.Map(Vector512.LoadUnsafe(ref p, (nuint)(i + w))),
                a2 = term.Map(Vector512.LoadUnsafe(ref p, (nuint)(i + 2 * w))), a3 = term.Map(Vector512.LoadUnsafe(ref p, (nuint)(i + 3 * w)));
            for (int j = i + 4 * w; j < i + block; j += 4 * w)
            {
                a0 += term.Map(Vector512.LoadUnsafe(ref p, (nuint)j)); a1 += term.Map(Vector512.LoadUnsafe(ref p, (nuint)(j + w)));
                a2 += term.Map(Vector512.LoadUnsafe(ref p, (nuint)(j + 2 * w))); a3 += term.Map(Vector512.LoadUnsafe(ref p, (nuint)(j + 3 * w)));
            }
            Push(level, count, (a0 + a1) + (a2 + a3));
        }
        // The remaining whole vectors (fewer than one block): at most 4·Step of them, one more partial sum.
        var r = Vector512<T>.Zero;
        for (; i + w <= x.Length; i += w) r += term.Map(Vector512.LoadUnsafe(ref p, (nuint)i));
        done = i;
        return Collapse(level, r);
    }

    private static Vector256<T> Lanes256<T, TTerm>(ReadOnlySpan<T> x, TTerm term, out int done) where T : unmanaged, INumber<T> where TTerm : struct, ITerm<T>
    {
        int w = Vector256<T>.Count, block = 4 * Step * w, i = 0;
        ref T p = ref MemoryMarshal.GetReference(x);
        // Only as many levels as this length needs (a short row should not pay for clearing and adding twelve).
        int levels = Levels(x.Length / block + 1);
        Span<Vector256<T>> level = stackalloc Vector256<T>[MaxLevels];
        Span<int> count = stackalloc int[MaxLevels];
        level[..levels].Clear(); count[..levels].Clear();
        level = level[..levels]; count = count[..levels];
        for (; i + block <= x.Length; i += block)
        {
            Vector256<T> a0 = term.Map(Vector256.LoadUnsafe(ref p, (nuint)i)), a1 = term.Map(Vector256.LoadUnsafe(ref p, (nuint)(i + w))),
                a2 = term.Map(Vector256.LoadUnsafe(ref p, (nuint)(i + 2 * w))), a3 = term.Map(Vector256.LoadUnsafe(ref p, (nuint)(i + 3 * w)));
            for (int j = i + 4 * w; j < i + block; j += 4 * w)
            {
                a0 += term.Map(Vector256.LoadUnsafe(ref p, (nuint)j)); a1 += term.Map(Vector256.LoadUnsafe(ref p, (nuint)(j + w)));
                a2 += term.Map(Vector256.LoadUnsafe(ref p, (nuint)(j + 2 * w))); a3 += term.Map(Vector256.LoadUnsafe(ref p, (nuint)(j + 3 * w)));
            }
            Push(level, count, (a0 + a1) + (a2 + a3));
        }
        var r = Vector256<T>.Zero;
        for (; i + w <= x.Length; i += w) r += term.Map(Vector256.LoadUnsafe(ref p, (nuint)i));
        done = i;
        return Collapse(level, r);
    }

    /// <summary>The scalar form: 4 accumulators of Step terms per block, the same cascade above them.</summary>
    private static T Scalar<T, TTerm>(ReadOnlySpan<T> x, TTerm term) where T : unmanaged, INumber<T> where TTerm : struct, ITerm<T>
    {
        const int block = 4 * Step;
        int levels = Levels(x.Length / block + 1);
        Span<T> level = stackalloc T[MaxLevels];
        Span<int> count = stackalloc int[MaxLevels];
        level[..levels].Clear(); count[..levels].Clear();
        level = level[..levels]; count = count[..levels];
        int i = 0;
        for (; i + block <= x.Length; i += block)
        {
            T a0 = term.Map(x[i]), a1 = term.Map(x[i + 1]), a2 = term.Map(x[i + 2]), a3 = term.Map(x[i + 3]);
            for (int j = i + 4; j < i + block; j += 4) { a0 += term.Map(x[j]); a1 += term.Map(x[j + 1]); a2 += term.Map(x[j + 2]); a3 += term.Map(x[j + 3]); }
            Push(level, count, (a0 + a1) + (a2 + a3));
        }
        T r = T.Zero;
        for (; i < x.Length; i++) r += term.Map(x[i]);
        return Collapse(level, r);
    }

    // Push: adds a block sum to level 0; a level that has taken Step additions moves into the next and restarts at
    // zero. Collapse: the remainder r, then the levels from the lowest (smallest partial sums) up. One copy per vector
    // type, as Vector512<T> has no generic-math interface.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Push<T>(Span<Vector512<T>> level, Span<int> count, Vector512<T> v) where T : unmanaged
    {
        level[0] += v;
        for (int k = 0; ++count[k] == Step && k + 1 < level.Length; k++) { level[k + 1] += level[k]; level[k] = default; count[k] = 0; }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Push<T>(Span<Vector256<T>> level, Span<int> count, Vector256<T> v) where T : unmanaged
    {
        level[0] += v;
        for (int k = 0; ++count[k] == Step && k + 1 < level.Length; k++) { level[k + 1] += level[k]; level[k] = default; count[k] = 0; }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Push<T>(Span<T> level, Span<int> count, T v) where T : unmanaged, INumber<T>
    {
        level[0] += v;
        for (int k = 0; ++count[k] == Step && k + 1 < level.Length; k++) { level[k + 1] += level[k]; level[k] = T.Zero; count[k] = 0; }
    }

    private static Vector512<T> Collapse<T>(Span<Vector512<T>> level, Vector512<T> r) where T : unmanaged
    {
        for (int k = 0; k < level.Length; k++) r += level[k];
        return r;
    }

    private static Vector256<T> Collapse<T>(Span<Vector256<T>> level, Vector256<T> r) where T : unmanaged
    {
        for (int k = 0; k < level.Length; k++) r += level[k];
        return r;
    }

    private static T Collapse<T>(Span<T> level, T r) where T : unmanaged, INumber<T>
    {
        for (int k = 0; k < level.Length; k++) r += level[k];
        return r;
    }

    /// <summary>
    /// dst[j] (+)= Σ_i x[i·inner + j] for i &lt; n, j &lt; inner: the rows of an (n, inner) block added elementwise by
    /// cascade (a level buffer of one row per level, restarted after <see cref="Step"/> additions), in column blocks
    /// that keep the level buffers in L1. Elementwise adds give the same bits at every SIMD width.
    /// </summary>
    public static void Columns<T>(ReadOnlySpan<T> x, int n, int inner, Span<T> dst, bool accumulate = false) where T : unmanaged, INumber<T>
    {
        if (n == 0) { if (!accumulate) dst[..inner].Clear(); return; }
        int levels = Levels(n);
        // Whole rows while the level buffers fit in L2 (sequential reads, as a plain row-by-row add); else column
        // blocks of 2048, still long enough for the prefetcher.
        int width = inner * levels <= 1 << 16 ? inner : 2048;
        var buf = ArrayPool<T>.Shared.Rent(levels * width);
        Span<int> count = stackalloc int[levels];
        try
        {
            for (int c0 = 0; c0 < inner; c0 += width)
            {
                int cw = Math.Min(width, inner - c0);
                count.Clear();
                // Row 0 starts level 0; each further row is added to it, and every Step rows level 0 moves up.
                for (int i = 0; i < n; i++)
                {
                    var row = x.Slice(i * inner + c0, cw);
                    var l0 = buf.AsSpan(0, cw);
                    if (count[0] == 0) row.CopyTo(l0); else Add(l0, row);
                    for (int k = 0; ++count[k] == Step && k + 1 < levels; k++)
                    {
                        var up = buf.AsSpan((k + 1) * width, cw);
                        if (count[k + 1] == 0) buf.AsSpan(k * width, cw).CopyTo(up); else Add(up, buf.AsSpan(k * width, cw));
                        count[k] = 0;
                    }
                }
                var d = dst.Slice(c0, cw);
                bool started = accumulate;
                for (int k = 0; k < levels; k++)
                {
                    if (count[k] == 0) continue;
                    var lk = buf.AsSpan(k * width, cw);
                    if (started) Add(d, lk); else { lk.CopyTo(d); started = true; }
                }
                if (!started) d.Clear();
            }
        }
        finally { ArrayPool<T>.Shared.Return(buf); }
    }

    /// <summary>Levels that n additions need: Step^levels ≥ n.</summary>
    private static int Levels(int n)
    {
        int l = 1;
        for (long cap = Step; cap < n; cap *= Step) l++;
        return l;
    }

    private static void Add<T>(Span<T> acc, ReadOnlySpan<T> v) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float)) TensorPrimitives.Add(MemoryMarshal.Cast<T, float>(acc), MemoryMarshal.Cast<T, float>(v), MemoryMarshal.Cast<T, float>(acc));
        else if (typeof(T) == typeof(double)) TensorPrimitives.Add(MemoryMarshal.Cast<T, double>(acc), MemoryMarshal.Cast<T, double>(v), MemoryMarshal.Cast<T, double>(acc));
        else for (int j = 0; j < acc.Length; j++) acc[j] += v[j];
    }
}
