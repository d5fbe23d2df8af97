using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

internal static unsafe partial class Simd
{
    /// <summary>y[i] = TOp(x[i]; p) for float32 or float64 spans.</summary>
    public static void Map<TOp, T>(ReadOnlySpan<T> x, double p, Span<T> y) where TOp : IParamPointwiseOp where T : unmanaged
    {
        if (typeof(T) == typeof(float)) Map<TOp>(MemoryMarshal.Cast<T, float>(x), (float)p, MemoryMarshal.Cast<T, float>(y));
        else if (typeof(T) == typeof(double))
        {
            ReadOnlySpan<double> xd = MemoryMarshal.Cast<T, double>(x);
            Span<double> yd = MemoryMarshal.Cast<T, double>(y);
            if (yd.Length < xd.Length) throw new ArgumentException($"Simd.Map: destination has {yd.Length} elements, source {xd.Length}.");
            for (int i = 0; i < xd.Length; i++) yd[i] = TOp.Invoke(xd[i], p);
        }
        else throw new NotSupportedException($"Simd.Map: {typeof(T).Name} elements (float32 and float64 only).");
    }

    /// <summary>y[i] = TOp(x[i]; p). <paramref name="x"/> and <paramref name="y"/> are the same span or do not overlap.</summary>
    public static void Map<TOp>(ReadOnlySpan<float> x, float p, Span<float> y) where TOp : IParamPointwiseOp
    {
        if (y.Length < x.Length) throw new ArgumentException($"Simd.Map: destination has {y.Length} elements, source {x.Length}.");
        int n = x.Length, i = 0;
        var level = Isa.Level;
        fixed (float* px = x, py = y)
        {
            // The last (possibly overlapping) vector is computed before anything is stored, so in-place maps are safe.
            if (level == IsaLevel.Vector512 && n >= 16)
            {
                var pv = Vector512.Create(p);
                var last = TOp.Invoke(Vector512.Load(px + n - 16), pv);
                for (; i + 16 <= n; i += 16) TOp.Invoke(Vector512.Load(px + i), pv).Store(py + i);
                if (i < n) last.Store(py + n - 16);
                return;
            }
            if (level == IsaLevel.Vector256 && n >= 8)
            {
                var pv = Vector256.Create(p);
                var last = TOp.Invoke(Vector256.Load(px + n - 8), pv);
                for (; i + 8 <= n; i += 8) TOp.Invoke(Vector256.Load(px + i), pv).Store(py + i);
                if (i < n) last.Store(py + n - 8);
                return;
            }
            if (level >= IsaLevel.Vector128 && n >= 4)
            {
                var pv = Vector128.Create(p);
                var last = TOp.Invoke(Vector128.Load(px + n - 4), pv);
                for (; i + 4 <= n; i += 4) TOp.Invoke(Vector128.Load(px + i), pv).Store(py + i);
                if (i < n) last.Store(py + n - 4);
                return;
            }
            for (; i < n; i++) py[i] = TOp.Invoke(px[i], p);
        }
    }

    /// <summary>r[i] = TOp.Grad(x[i], y[i], g[i]; p) for float32 or float64 spans; <paramref name="r"/> overlaps no source.</summary>
    public static void Grad<TOp, T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> g, double p, Span<T> r) where TOp : IParamPointwiseOp where T : unmanaged
    {
        if (typeof(T) == typeof(double))
        {
            ReadOnlySpan<double> xd = MemoryMarshal.Cast<T, double>(x), yd = MemoryMarshal.Cast<T, double>(y), gd = MemoryMarshal.Cast<T, double>(g);
            Span<double> rd = MemoryMarshal.Cast<T, double>(r);
            CheckGrad(xd.Length, yd.Length, gd.Length, rd.Length);
            for (int k = 0; k < xd.Length; k++) rd[k] = TOp.Grad(xd[k], yd[k], gd[k], p);
            return;
        }
        if (typeof(T) != typeof(float)) throw new NotSupportedException($"Simd.Grad: {typeof(T).Name} elements (float32 and float64 only).");
        ReadOnlySpan<float> xs = MemoryMarshal.Cast<T, float>(x), ys = MemoryMarshal.Cast<T, float>(y), gs = MemoryMarshal.Cast<T, float>(g);
        Span<float> rs = MemoryMarshal.Cast<T, float>(r);
        CheckGrad(xs.Length, ys.Length, gs.Length, rs.Length);
        int n = xs.Length, i = 0;
        float pf = (float)p;
        var level = Isa.Level;
        fixed (float* px = xs, py = ys, pg = gs, pr = rs)
        {
            if (level == IsaLevel.Vector512 && n >= 16)
            {
                var pv = Vector512.Create(pf);
                for (; i + 16 <= n; i += 16) TOp.Grad(Vector512.Load(px + i), Vector512.Load(py + i), Vector512.Load(pg + i), pv).Store(pr + i);
                if (i < n) { int l = n - 16; TOp.Grad(Vector512.Load(px + l), Vector512.Load(py + l), Vector512.Load(pg + l), pv).Store(pr + l); }
                return;
            }
            if (level == IsaLevel.Vector256 && n >= 8)
            {
                var pv = Vector256.Create(pf);
                for (; i + 8 <= n; i += 8) TOp.Grad(Vector256.Load(px + i), Vector256.Load(py + i), Vector256.Load(pg + i), pv).Store(pr + i);
                if (i < n) { int l = n - 8; TOp.Grad(Vector256.Load(px + l), Vector256.Load(py + l), Vector256.Load(pg + l), pv).Store(pr + l); }
                return;
            }
            if (level >= IsaLevel.Vector128 && n >= 4)
            {
                var pv = Vector128.Create(pf);
                for (; i + 4 <= n; i += 4) TOp.Grad(Vector128.Load(px + i), Vector128.Load(py + i), Vector128.Load(pg + i), pv).Store(pr + i);
                if (i < n) { int l = n - 4; TOp.Grad(Vector128.Load(px + l), Vector128.Load(py + l), Vector128.Load(pg + l), pv).Store(pr + l); }
                return;
            }
            for (; i < n; i++) pr[i] = TOp.Grad(px[i], py[i], pg[i], pf);
        }
    }
}
