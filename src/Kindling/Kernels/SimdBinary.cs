using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

internal static unsafe partial class Simd
{
    /// <summary>z[i] = TOp(x[i], y[i]) for float32 or float64 spans; a length-1 source is broadcast against the other.</summary>
    public static void Map<TOp, T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> z) where TOp : IBinaryOperator where T : unmanaged
    {
        if (typeof(T) == typeof(float)) Map<TOp>(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y), MemoryMarshal.Cast<T, float>(z));
        else if (typeof(T) == typeof(double)) Map<TOp>(MemoryMarshal.Cast<T, double>(x), MemoryMarshal.Cast<T, double>(y), MemoryMarshal.Cast<T, double>(z));
        else if (typeof(T) == typeof(long)) Map<TOp>(MemoryMarshal.Cast<T, long>(x), MemoryMarshal.Cast<T, long>(y), MemoryMarshal.Cast<T, long>(z));
        else throw new NotSupportedException($"Simd.Map: {typeof(T).Name} elements (float32, float64 and int64 only).");
    }

    /// <summary>z[i] = TOp(x[i], y[i]) in float64, element by element; a length-1 source is broadcast.</summary>
    public static void Map<TOp>(ReadOnlySpan<double> x, ReadOnlySpan<double> y, Span<double> z) where TOp : IBinaryOperator
    {
        var (sx, sy) = Broadcast(x.Length, y.Length, z.Length);
        for (int i = 0; i < z.Length; i++) z[i] = TOp.Invoke(x[sx ? 0 : i], y[sy ? 0 : i]);
    }

    /// <summary>z[i] = TOp(x[i], y[i]) in int64, element by element; a length-1 source is broadcast.</summary>
    public static void Map<TOp>(ReadOnlySpan<long> x, ReadOnlySpan<long> y, Span<long> z) where TOp : IBinaryOperator
    {
        var (sx, sy) = Broadcast(x.Length, y.Length, z.Length);
        for (int i = 0; i < z.Length; i++) z[i] = TOp.Invoke(x[sx ? 0 : i], y[sy ? 0 : i]);
    }

    /// <summary>
    /// z[i] = TOp(x[i], y[i]); a length-1 source is broadcast against the other (PyTorch's tensor-scalar ops).
    /// <paramref name="z"/> is one of the sources or overlaps neither.
    /// </summary>
    public static void Map<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> z) where TOp : IBinaryOperator
    {
        var (sx, sy) = Broadcast(x.Length, y.Length, z.Length);
        int n = z.Length;
        if (n == 0) return;
        fixed (float* px = x, py = y, pz = z)
        {
            if (sx) Binary<TOp, Scalar, Dense>(new Scalar(*px), new Dense(py), pz, n);
            else if (sy) Binary<TOp, Dense, Scalar>(new Dense(px), new Scalar(*py), pz, n);
            else Binary<TOp, Dense, Dense>(new Dense(px), new Dense(py), pz, n);
        }
    }

    private static (bool, bool) Broadcast(int x, int y, int z)
    {
        bool sx = x == 1 && z != 1, sy = y == 1 && z != 1;
        if ((!sx && x != z) || (!sy && y != z))
            throw new ArgumentException($"Simd.Map: sources have {x} and {y} elements, destination {z} (each source must match it or have 1 element).");
        return (sx, sy);
    }

    private static void Binary<TOp, TX, TY>(TX x, TY y, float* z, int n) where TOp : IBinaryOperator where TX : struct, ISource where TY : struct, ISource
    {
        int i = 0;
        var level = Isa.Level;
        if (level == IsaLevel.Vector512 && n >= 16)
        {
            // The last (possibly overlapping) vector is computed before anything is stored, so in-place maps are safe.
            int lastAt = n - 16;
            var last = TOp.Invoke(x.Load512(lastAt), y.Load512(lastAt));
            for (; i + 32 <= n; i += 32)
            {
                var a = TOp.Invoke(x.Load512(i), y.Load512(i));
                var b = TOp.Invoke(x.Load512(i + 16), y.Load512(i + 16));
                a.Store(z + i); b.Store(z + i + 16);
            }
            for (; i + 16 <= n; i += 16) TOp.Invoke(x.Load512(i), y.Load512(i)).Store(z + i);
            if (i < n) last.Store(z + lastAt);
            return;
        }
        if (level == IsaLevel.Vector256 && n >= 8)
        {
            int lastAt = n - 8;
            var last = TOp.Invoke(x.Load256(lastAt), y.Load256(lastAt));
            for (; i + 16 <= n; i += 16)
            {
                var a = TOp.Invoke(x.Load256(i), y.Load256(i));
                var b = TOp.Invoke(x.Load256(i + 8), y.Load256(i + 8));
                a.Store(z + i); b.Store(z + i + 8);
            }
            for (; i + 8 <= n; i += 8) TOp.Invoke(x.Load256(i), y.Load256(i)).Store(z + i);
            if (i < n) last.Store(z + lastAt);
            return;
        }
        if (level >= IsaLevel.Vector128 && n >= 4)
        {
            int lastAt = n - 4;
            var last = TOp.Invoke(x.Load128(lastAt), y.Load128(lastAt));
            for (; i + 8 <= n; i += 8)
            {
                var a = TOp.Invoke(x.Load128(i), y.Load128(i));
                var b = TOp.Invoke(x.Load128(i + 4), y.Load128(i + 4));
                a.Store(z + i); b.Store(z + i + 4);
            }
            for (; i + 4 <= n; i += 4) TOp.Invoke(x.Load128(i), y.Load128(i)).Store(z + i);
            if (i < n) last.Store(z + lastAt);
            return;
        }
        for (; i < n; i++) z[i] = TOp.Invoke(x.Load(i), y.Load(i));
    }

    /// <summary>A binary driver's operand: a dense array or one broadcast value (the JIT specialises each pairing).</summary>
    private interface ISource
    {
        float Load(int i);
        Vector128<float> Load128(int i);
        Vector256<float> Load256(int i);
        Vector512<float> Load512(int i);
    }

    private readonly struct Dense(float* p) : ISource
    {
        public float Load(int i) => p[i];
        public Vector128<float> Load128(int i) => Vector128.Load(p + i);
        public Vector256<float> Load256(int i) => Vector256.Load(p + i);
        public Vector512<float> Load512(int i) => Vector512.Load(p + i);
    }

    private readonly struct Scalar(float v) : ISource
    {
        public float Load(int i) => v;
        public Vector128<float> Load128(int i) => Vector128.Create(v);
        public Vector256<float> Load256(int i) => Vector256.Create(v);
        public Vector512<float> Load512(int i) => Vector512.Create(v);
    }
}
