using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// The drivers: one loop per shape (unary map, binary map with either side broadcast, derivative map, indexed for-each,
/// indexed map-and-sum). Each reads <see cref="Isa.Level"/> once, runs whole vectors of that width (512, 256 or 128
/// bits) and finishes the tail — with one overlapping last vector where recomputing an element is harmless (maps),
/// else element by element (the operator's scalar form). The operators give the same bits at every width, so the
/// level changes the speed only.
/// </summary>
internal static partial class Simd
{
    /// <summary>y[i] = TOp(x[i]) for float32 or float64 spans (the element type picks the overload below).</summary>
    public static void Map<TOp, T>(ReadOnlySpan<T> x, Span<T> y) where TOp : IUnaryOperator where T : unmanaged
    {
        if (typeof(T) == typeof(float)) Map<TOp>(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        else if (typeof(T) == typeof(double)) Map<TOp>(MemoryMarshal.Cast<T, double>(x), MemoryMarshal.Cast<T, double>(y));
        else throw new NotSupportedException($"Simd.Map: {typeof(T).Name} elements (float32 and float64 only).");
    }

    /// <summary>y[i] = TOp(x[i]) in float64, element by element.</summary>
    public static void Map<TOp>(ReadOnlySpan<double> x, Span<double> y) where TOp : IUnaryOperator
    {
        if (y.Length < x.Length) throw new ArgumentException($"Simd.Map: destination has {y.Length} elements, source {x.Length}.");
        for (int i = 0; i < x.Length; i++) y[i] = TOp.Invoke(x[i]);
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
        if (level == IsaLevel.Vector256 && n >= 8)
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
        if (level >= IsaLevel.Vector128 && n >= 4)
        {
            nuint lastAt = (nuint)(n - 4);
            var last = TOp.Invoke(Vector128.LoadUnsafe(ref xs, lastAt));
            for (; (int)i + 16 <= n; i += 16)
            {
                var a = TOp.Invoke(Vector128.LoadUnsafe(ref xs, i));
                var b = TOp.Invoke(Vector128.LoadUnsafe(ref xs, i + 4));
                var c = TOp.Invoke(Vector128.LoadUnsafe(ref xs, i + 8));
                var d = TOp.Invoke(Vector128.LoadUnsafe(ref xs, i + 12));
                a.StoreUnsafe(ref ys, i); b.StoreUnsafe(ref ys, i + 4); c.StoreUnsafe(ref ys, i + 8); d.StoreUnsafe(ref ys, i + 12);
            }
            for (; (int)i + 4 <= n; i += 4) TOp.Invoke(Vector128.LoadUnsafe(ref xs, i)).StoreUnsafe(ref ys, i);
            if ((int)i < n) last.StoreUnsafe(ref ys, lastAt);
            return;
        }
        for (; (int)i < n; i++) Unsafe.Add(ref ys, i) = TOp.Invoke(Unsafe.Add(ref xs, i));
    }

    /// <summary>r[i] = TOp.Grad(x[i], y[i], g[i]) (an op's backward in one pass) for float32 or float64 spans.</summary>
    public static void Grad<TOp, T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> g, Span<T> r) where TOp : IUnaryDerivative where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            Grad<TOp>(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y), MemoryMarshal.Cast<T, float>(g), MemoryMarshal.Cast<T, float>(r));
        else if (typeof(T) == typeof(double))
        {
            ReadOnlySpan<double> xd = MemoryMarshal.Cast<T, double>(x), yd = MemoryMarshal.Cast<T, double>(y), gd = MemoryMarshal.Cast<T, double>(g);
            Span<double> rd = MemoryMarshal.Cast<T, double>(r);
            CheckGrad(xd.Length, yd.Length, gd.Length, rd.Length);
            for (int i = 0; i < xd.Length; i++) rd[i] = TOp.Grad(xd[i], yd[i], gd[i]);
        }
        else throw new NotSupportedException($"Simd.Grad: {typeof(T).Name} elements (float32 and float64 only).");
    }

    /// <summary>r[i] = TOp.Grad(x[i], y[i], g[i]); <paramref name="r"/> overlaps no source.</summary>
    public static void Grad<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> r) where TOp : IUnaryDerivative
    {
        CheckGrad(x.Length, y.Length, g.Length, r.Length);
        int n = x.Length;
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        ref float gs = ref MemoryMarshal.GetReference(g);
        ref float rs = ref MemoryMarshal.GetReference(r);
        nuint i = 0;
        var level = Isa.Level;
        if (level == IsaLevel.Vector512 && n >= 16)
        {
            for (; (int)i + 16 <= n; i += 16)
                TOp.Grad(Vector512.LoadUnsafe(ref xs, i), Vector512.LoadUnsafe(ref ys, i), Vector512.LoadUnsafe(ref gs, i)).StoreUnsafe(ref rs, i);
            if ((int)i < n) { nuint l = (nuint)(n - 16); TOp.Grad(Vector512.LoadUnsafe(ref xs, l), Vector512.LoadUnsafe(ref ys, l), Vector512.LoadUnsafe(ref gs, l)).StoreUnsafe(ref rs, l); }
            return;
        }
        if (level == IsaLevel.Vector256 && n >= 8)
        {
            for (; (int)i + 8 <= n; i += 8)
                TOp.Grad(Vector256.LoadUnsafe(ref xs, i), Vector256.LoadUnsafe(ref ys, i), Vector256.LoadUnsafe(ref gs, i)).StoreUnsafe(ref rs, i);
            if ((int)i < n) { nuint l = (nuint)(n - 8); TOp.Grad(Vector256.LoadUnsafe(ref xs, l), Vector256.LoadUnsafe(ref ys, l), Vector256.LoadUnsafe(ref gs, l)).StoreUnsafe(ref rs, l); }
            return;
        }
        if (level >= IsaLevel.Vector128 && n >= 4)
        {
            for (; (int)i + 4 <= n; i += 4)
                TOp.Grad(Vector128.LoadUnsafe(ref xs, i), Vector128.LoadUnsafe(ref ys, i), Vector128.LoadUnsafe(ref gs, i)).StoreUnsafe(ref rs, i);
            if ((int)i < n) { nuint l = (nuint)(n - 4); TOp.Grad(Vector128.LoadUnsafe(ref xs, l), Vector128.LoadUnsafe(ref ys, l), Vector128.LoadUnsafe(ref gs, l)).StoreUnsafe(ref rs, l); }
            return;
        }
        for (; (int)i < n; i++) Unsafe.Add(ref rs, i) = TOp.Grad(Unsafe.Add(ref xs, i), Unsafe.Add(ref ys, i), Unsafe.Add(ref gs, i));
    }

    private static void CheckGrad(int x, int y, int g, int r)
    {
        if (y != x || g != x || r < x)
            throw new ArgumentException($"Simd.Grad: x, y and g have {x}, {y} and {g} elements (must be equal), destination {r}.");
    }
}
