using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// An elementwise operation y = f(x) at every width (TensorPrimitives' <c>IUnaryOperator</c>): float32 scalar,
/// 256-bit and 512-bit forms, which must give the same bits per element so the width a driver picks never changes a
/// result, and the float64 form (scalar: float64 is for gradient checks and references, not speed).
/// </summary>
internal interface IUnaryOperator
{
    static abstract double Invoke(double x);
    static abstract float Invoke(float x);
    static abstract Vector256<float> Invoke(Vector256<float> x);
    static abstract Vector512<float> Invoke(Vector512<float> x);
}

/// <summary>An elementwise operation z = f(x, y): float64, and float32 at every width with the same bits at every width.</summary>
internal interface IBinaryOperator
{
    static abstract double Invoke(double x, double y);
    static abstract float Invoke(float x, float y);
    static abstract Vector256<float> Invoke(Vector256<float> x, Vector256<float> y);
    static abstract Vector512<float> Invoke(Vector512<float> x, Vector512<float> y);
}

/// <summary>
/// A fused pointwise kernel over several (some optional) arrays, such as a loss's gradients: the operator holds
/// pointers to its operands and outputs, and processes the element(s) starting at index i. Run by <see cref="Simd.ForEach{TOp}"/>.
/// </summary>
internal interface IIndexedKernel
{
    /// <summary>Element i.</summary>
    void Invoke(int i);
    /// <summary>Elements i … i + 7.</summary>
    void Invoke256(int i);
    /// <summary>Elements i … i + 15.</summary>
    void Invoke512(int i);
}

/// <summary>
/// A fused pointwise value over several (some optional) arrays, such as a loss: the operator holds pointers to its
/// operands and returns the value(s) at index i. Run by <see cref="Simd.Sum{TOp}"/>, which stores and sums them.
/// </summary>
internal interface IIndexedOperator
{
    /// <summary>Element i.</summary>
    float Invoke(int i);
    /// <summary>Elements i … i + 7.</summary>
    Vector256<float> Invoke256(int i);
    /// <summary>Elements i … i + 15.</summary>
    Vector512<float> Invoke512(int i);
}

/// <summary>
/// The drivers: one loop per shape (unary map, binary map, indexed for-each, indexed map-and-sum). Each reads
/// <see cref="Isa.Level"/> once, runs whole vectors of that width and finishes the tail — with one overlapping last
/// vector where recomputing an element is harmless (maps), else element by element (the operator's scalar form).
/// </summary>
internal static unsafe class Simd
{
    /// <summary>y[i] = TOp(x[i]) for float32 or float64 spans (the element type picks the overload below).</summary>
    public static void Map<TOp, T>(ReadOnlySpan<T> x, Span<T> y) where TOp : IUnaryOperator where T : unmanaged
    {
        if (typeof(T) == typeof(float)) Map<TOp>(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        else if (typeof(T) == typeof(double)) Map<TOp>(MemoryMarshal.Cast<T, double>(x), MemoryMarshal.Cast<T, double>(y));
        else throw new NotSupportedException($"Simd.Map: {typeof(T).Name} elements (float32 and float64 only).");
    }

    /// <summary>z[i] = TOp(x[i], y[i]) for float32 or float64 spans.</summary>
    public static void Map<TOp, T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> z) where TOp : IBinaryOperator where T : unmanaged
    {
        if (typeof(T) == typeof(float)) Map<TOp>(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y), MemoryMarshal.Cast<T, float>(z));
        else if (typeof(T) == typeof(double)) Map<TOp>(MemoryMarshal.Cast<T, double>(x), MemoryMarshal.Cast<T, double>(y), MemoryMarshal.Cast<T, double>(z));
        else throw new NotSupportedException($"Simd.Map: {typeof(T).Name} elements (float32 and float64 only).");
    }

    /// <summary>y[i] = TOp(x[i]) in float64, element by element.</summary>
    public static void Map<TOp>(ReadOnlySpan<double> x, Span<double> y) where TOp : IUnaryOperator
    {
        if (y.Length < x.Length) throw new ArgumentException($"Simd.Map: destination has {y.Length} elements, source {x.Length}.");
        for (int i = 0; i < x.Length; i++) y[i] = TOp.Invoke(x[i]);
    }

    /// <summary>z[i] = TOp(x[i], y[i]) in float64, element by element.</summary>
    public static void Map<TOp>(ReadOnlySpan<double> x, ReadOnlySpan<double> y, Span<double> z) where TOp : IBinaryOperator
    {
        if (y.Length != x.Length || z.Length < x.Length)
            throw new ArgumentException($"Simd.Map: sources have {x.Length} and {y.Length} elements, destination {z.Length}.");
        for (int i = 0; i < x.Length; i++) z[i] = TOp.Invoke(x[i], y[i]);
    }

    /// <summary>y[i] = TOp(x[i]). <paramref name="x"/> and <paramref name="y"/> are the same span or do not overlap.</summary>
    public static void Map<TOp>(ReadOnlySpan<float> x, Span<float> y) where TOp : IUnaryOperator
    {
        if (y.Length < x.Length) throw new ArgumentException($"Simd.Map: destination has {y.Length} elements, source {x.Length}.");
        int n = x.Length;
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        nuint i = 0;
        var level = Isa.Level;
        if (level == IsaLevel.Vector512 && n >= 16)
        {
            // The last (possibly overlapping) vector is computed before anything is stored, so in-place maps are safe.
            nuint lastAt = (nuint)(n - 16);
            var last = TOp.Invoke(Vector512.LoadUnsafe(ref xs, lastAt));
            for (; (int)i + 64 <= n; i += 64)
            {
                var a = TOp.Invoke(Vector512.LoadUnsafe(ref xs, i));
                var b = TOp.Invoke(Vector512.LoadUnsafe(ref xs, i + 16));
                var c = TOp.Invoke(Vector512.LoadUnsafe(ref xs, i + 32));
                var d = TOp.Invoke(Vector512.LoadUnsafe(ref xs, i + 48));
                a.StoreUnsafe(ref ys, i); b.StoreUnsafe(ref ys, i + 16); c.StoreUnsafe(ref ys, i + 32); d.StoreUnsafe(ref ys, i + 48);
            }
            for (; (int)i + 16 <= n; i += 16) TOp.Invoke(Vector512.LoadUnsafe(ref xs, i)).StoreUnsafe(ref ys, i);
            if ((int)i < n) last.StoreUnsafe(ref ys, lastAt);
            return;
        }
        if (level >= IsaLevel.Vector256 && n >= 8)
        {
            nuint lastAt = (nuint)(n - 8);
            var last = TOp.Invoke(Vector256.LoadUnsafe(ref xs, lastAt));
            for (; (int)i + 32 <= n; i += 32)
            {
                var a = TOp.Invoke(Vector256.LoadUnsafe(ref xs, i));
                var b = TOp.Invoke(Vector256.LoadUnsafe(ref xs, i + 8));
                var c = TOp.Invoke(Vector256.LoadUnsafe(ref xs, i + 16));
                var d = TOp.Invoke(Vector256.LoadUnsafe(ref xs, i + 24));
                a.StoreUnsafe(ref ys, i); b.StoreUnsafe(ref ys, i + 8); c.StoreUnsafe(ref ys, i + 16); d.StoreUnsafe(ref ys, i + 24);
            }
            for (; (int)i + 8 <= n; i += 8) TOp.Invoke(Vector256.LoadUnsafe(ref xs, i)).StoreUnsafe(ref ys, i);
            if ((int)i < n) last.StoreUnsafe(ref ys, lastAt);
            return;
        }
        for (; (int)i < n; i++) Unsafe.Add(ref ys, i) = TOp.Invoke(Unsafe.Add(ref xs, i));
    }

    /// <summary>z[i] = TOp(x[i], y[i]). <paramref name="z"/> is one of the sources or overlaps neither.</summary>
    public static void Map<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> z) where TOp : IBinaryOperator
    {
        if (y.Length != x.Length || z.Length < x.Length)
            throw new ArgumentException($"Simd.Map: sources have {x.Length} and {y.Length} elements, destination {z.Length}.");
        int n = x.Length;
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        ref float zs = ref MemoryMarshal.GetReference(z);
        nuint i = 0;
        var level = Isa.Level;
        if (level == IsaLevel.Vector512 && n >= 16)
        {
            nuint lastAt = (nuint)(n - 16);
            var last = TOp.Invoke(Vector512.LoadUnsafe(ref xs, lastAt), Vector512.LoadUnsafe(ref ys, lastAt));
            for (; (int)i + 32 <= n; i += 32)
            {
                var a = TOp.Invoke(Vector512.LoadUnsafe(ref xs, i), Vector512.LoadUnsafe(ref ys, i));
                var b = TOp.Invoke(Vector512.LoadUnsafe(ref xs, i + 16), Vector512.LoadUnsafe(ref ys, i + 16));
                a.StoreUnsafe(ref zs, i); b.StoreUnsafe(ref zs, i + 16);
            }
            for (; (int)i + 16 <= n; i += 16) TOp.Invoke(Vector512.LoadUnsafe(ref xs, i), Vector512.LoadUnsafe(ref ys, i)).StoreUnsafe(ref zs, i);
            if ((int)i < n) last.StoreUnsafe(ref zs, lastAt);
            return;
        }
        if (level >= IsaLevel.Vector256 && n >= 8)
        {
            nuint lastAt = (nuint)(n - 8);
            var last = TOp.Invoke(Vector256.LoadUnsafe(ref xs, lastAt), Vector256.LoadUnsafe(ref ys, lastAt));
            for (; (int)i + 16 <= n; i += 16)
            {
                var a = TOp.Invoke(Vector256.LoadUnsafe(ref xs, i), Vector256.LoadUnsafe(ref ys, i));
                var b = TOp.Invoke(Vector256.LoadUnsafe(ref xs, i + 8), Vector256.LoadUnsafe(ref ys, i + 8));
                a.StoreUnsafe(ref zs, i); b.StoreUnsafe(ref zs, i + 8);
            }
            for (; (int)i + 8 <= n; i += 8) TOp.Invoke(Vector256.LoadUnsafe(ref xs, i), Vector256.LoadUnsafe(ref ys, i)).StoreUnsafe(ref zs, i);
            if ((int)i < n) last.StoreUnsafe(ref zs, lastAt);
            return;
        }
        for (; (int)i < n; i++) Unsafe.Add(ref zs, i) = TOp.Invoke(Unsafe.Add(ref xs, i), Unsafe.Add(ref ys, i));
    }

    /// <summary>Runs <paramref name="op"/> over [s, e): whole vectors at the current level, then element by element.</summary>
    public static void ForEach<TOp>(ref TOp op, int s, int e) where TOp : struct, IIndexedKernel
    {
        int i = s;
        var level = Isa.Level;
        if (level == IsaLevel.Vector512)
            for (; i + 16 <= e; i += 16) op.Invoke512(i);
        else if (level == IsaLevel.Vector256)
            for (; i + 8 <= e; i += 8) op.Invoke256(i);
        for (; i < e; i++) op.Invoke(i);
    }

    /// <summary>
    /// Σ op(i) over [s, e) in double, each value also stored to <paramref name="o"/>[i] unless it is null. Vectors are
    /// summed in float over blocks of 1024 elements and widened to double between blocks, so the rounding error stays
    /// at the level of one block; the tail is added element by element. The order depends only on the level and on s, e.
    /// </summary>
    public static double Sum<TOp>(ref TOp op, float* o, int s, int e) where TOp : struct, IIndexedOperator
    {
        int i = s;
        double sum = 0;
        var level = Isa.Level;
        if (level == IsaLevel.Vector512)
        {
            var accD = Vector512<double>.Zero;
            while (i + 16 <= e)
            {
                int end = Math.Min(e, i + 1024);
                var acc = Vector512<float>.Zero;
                for (; i + 16 <= end; i += 16)
                {
                    var v = op.Invoke512(i);
                    if (o != null) v.Store(o + i);
                    acc += v;
                }
                accD += Vector512.WidenLower(acc) + Vector512.WidenUpper(acc);
            }
            sum = Vector512.Sum(accD);
        }
        else if (level == IsaLevel.Vector256)
        {
            var accD = Vector256<double>.Zero;
            while (i + 8 <= e)
            {
                int end = Math.Min(e, i + 1024);
                var acc = Vector256<float>.Zero;
                for (; i + 8 <= end; i += 8)
                {
                    var v = op.Invoke256(i);
                    if (o != null) v.Store(o + i);
                    acc += v;
                }
                accD += Vector256.WidenLower(acc) + Vector256.WidenUpper(acc);
            }
            sum = Vector256.Sum(accD);
        }
        for (; i < e; i++)
        {
            float v = op.Invoke(i);
            if (o != null) o[i] = v;
            sum += v;
        }
        return sum;
    }
}
