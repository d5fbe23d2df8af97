using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

internal enum PointwiseLoss { Mse, L1, SmoothL1, Huber }

/// <summary>
/// Fused elementwise regression losses f(x − t): forward writes each loss (reduction none) or accumulates the sum in
/// double per chunk (mean/sum); backward writes ∂/∂x and ∂/∂t in the same pass. Chunks are fixed by the thread count,
/// so results are identical run to run. float32 runs through the <see cref="Simd"/> drivers at the current
/// <see cref="Isa.Level"/> (the operators below); float64 runs the scalar loop.
/// </summary>
internal static unsafe class PointwiseLossKernel
{
    public static double Forward<T>(PointwiseLoss kind, double p, T[] x, T[] t, T[]? outEach) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length;
        int chunks = Math.Max(1, Math.Min(Parallel2.Threads, n / Parallel2.MinParallel));
        var partial = new double[chunks];
        int per = (n + chunks - 1) / chunks;
        T pp = T.CreateTruncating(p);
        void Run(int ci)
        {
            int s = ci * per, e = Math.Min(n, s + per);
            if (typeof(T) == typeof(float))
            {
                fixed (float* px = (float[])(object)x, pt = (float[])(object)t, po = (float[]?)(object?)outEach)
                {
                    var op = new PointwiseForwardOperator { Kind = kind, P = (float)p, X = px, T = pt };
                    partial[ci] = Simd.Sum(ref op, po, s, e);
                }
                return;
            }
            double acc = 0;
            for (int i = s; i < e; i++)
            {
                T v = Loss(kind, x[i] - t[i], pp);
                if (outEach != null) outEach[i] = v;
                acc += double.CreateTruncating(v);
            }
            partial[ci] = acc;
        }
        if (chunks == 1) Run(0); else Parallel.For(0, chunks, Run);
        double total = 0;
        foreach (var v in partial) total += v;
        return total;
    }

    /// <summary>
    /// gx = scale·f'(x − t), gt = scale·f'(t − x) (PyTorch computes the target gradient with the arguments swapped,
    /// which differs from −gx only at a tie with beta = 0). <paramref name="gEach"/> holds per-element upstream gradients or null.
    /// </summary>
    public static void Backward<T>(PointwiseLoss kind, double p, T[] x, T[] t, T scale, T[]? gEach, T[]? gx, T[]? gt) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T pp = T.CreateTruncating(p);
        Parallel2.For(x.Length, 1 << 15, (s, len) =>
        {
            if (typeof(T) == typeof(float))
            {
                fixed (float* px = (float[])(object)x, pt = (float[])(object)t, pge = (float[]?)(object?)gEach, pgx = (float[]?)(object?)gx, pgt = (float[]?)(object?)gt)
                {
                    var op = new PointwiseBackwardOperator { Kind = kind, P = (float)p, X = px, T = pt, Scale = (float)(object)scale, GEach = pge, Gx = pgx, Gt = pgt };
                    Simd.ForEach(ref op, s, s + len);
                }
                return;
            }
            for (int i = s; i < s + len; i++)
            {
                T g = gEach == null ? scale : gEach[i] * scale;
                T d = x[i] - t[i];
                if (gx != null) gx[i] = g * Deriv(kind, d, pp);
                if (gt != null) gt[i] = g * Deriv(kind, -d, pp);
            }
        });
    }

    /// <summary>f(d): d², |d|, smooth L1 (0.5·d²/β below β) or Huber (0.5·d² below δ, δ·(|d| − 0.5·δ) above).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Loss<T>(PointwiseLoss kind, T d, T p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T half = T.CreateTruncating(0.5);
        switch (kind)
        {
            case PointwiseLoss.Mse: return d * d;
            case PointwiseLoss.L1: return T.Abs(d);
            case PointwiseLoss.SmoothL1: d = T.Abs(d); return d < p ? half * d * d / p : d - half * p;
            default: d = T.Abs(d); return d < p ? half * d * d : p * (d - half * p);
        }
    }

    /// <summary>f'(d); sign(d) keeps NaN and gives 0 at ±0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Deriv<T>(PointwiseLoss kind, T d, T p) where T : unmanaged, IFloatingPointIeee754<T> => kind switch
    {
        PointwiseLoss.Mse => T.CreateTruncating(2) * d,
        PointwiseLoss.L1 => T.IsNaN(d) ? d : T.CreateTruncating(T.Sign(d)),
        PointwiseLoss.SmoothL1 => d <= -p ? -T.One : d >= p ? T.One : d / p,
        _ => d <= -p ? -p : d >= p ? p : d,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Loss(PointwiseLoss kind, Vector512<float> d, Vector512<float> p)
    {
        var half = Vector512.Create(0.5f);
        switch (kind)
        {
            case PointwiseLoss.Mse: return d * d;
            case PointwiseLoss.L1: return Vector512.Abs(d);
            case PointwiseLoss.SmoothL1:
                d = Vector512.Abs(d);
                return Vector512.ConditionalSelect(Vector512.LessThan(d, p), half * d * d / p, d - half * p);
            default:
                d = Vector512.Abs(d);
                return Vector512.ConditionalSelect(Vector512.LessThan(d, p), half * d * d, p * (d - half * p));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Loss(PointwiseLoss kind, Vector256<float> d, Vector256<float> p)
    {
        var half = Vector256.Create(0.5f);
        switch (kind)
        {
            case PointwiseLoss.Mse: return d * d;
            case PointwiseLoss.L1: return Vector256.Abs(d);
            case PointwiseLoss.SmoothL1:
                d = Vector256.Abs(d);
                return Vector256.ConditionalSelect(Vector256.LessThan(d, p), half * d * d / p, d - half * p);
            default:
                d = Vector256.Abs(d);
                return Vector256.ConditionalSelect(Vector256.LessThan(d, p), half * d * d, p * (d - half * p));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Deriv(PointwiseLoss kind, Vector512<float> d, Vector512<float> p)
    {
        var one = Vector512<float>.One;
        switch (kind)
        {
            case PointwiseLoss.Mse: return d + d;
            case PointwiseLoss.L1:
                var sg = (Vector512.GreaterThan(d, Vector512<float>.Zero) & one) - (Vector512.LessThan(d, Vector512<float>.Zero) & one);
                return Vector512.ConditionalSelect(Vector512.Equals(d, d), sg, d);
            case PointwiseLoss.SmoothL1:
                return Vector512.ConditionalSelect(Vector512.LessThanOrEqual(d, -p), -one, Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(d, p), one, d / p));
            default:
                return Vector512.ConditionalSelect(Vector512.LessThanOrEqual(d, -p), -p, Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(d, p), p, d));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Deriv(PointwiseLoss kind, Vector256<float> d, Vector256<float> p)
    {
        var one = Vector256<float>.One;
        switch (kind)
        {
            case PointwiseLoss.Mse: return d + d;
            case PointwiseLoss.L1:
                var sg = (Vector256.GreaterThan(d, Vector256<float>.Zero) & one) - (Vector256.LessThan(d, Vector256<float>.Zero) & one);
                return Vector256.ConditionalSelect(Vector256.Equals(d, d), sg, d);
            case PointwiseLoss.SmoothL1:
                return Vector256.ConditionalSelect(Vector256.LessThanOrEqual(d, -p), -one, Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(d, p), one, d / p));
            default:
                return Vector256.ConditionalSelect(Vector256.LessThanOrEqual(d, -p), -p, Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(d, p), p, d));
        }
    }
}

/// <summary>A pointwise regression loss per element.</summary>
internal unsafe struct PointwiseForwardOperator : IIndexedOperator
{
    public PointwiseLoss Kind;
    public float P;
    public float* X, T;

    public float Invoke(int i) => PointwiseLossKernel.Loss(Kind, X[i] - T[i], P);
    public Vector256<float> Invoke256(int i) => PointwiseLossKernel.Loss(Kind, Vector256.Load(X + i) - Vector256.Load(T + i), Vector256.Create(P));
    public Vector512<float> Invoke512(int i) => PointwiseLossKernel.Loss(Kind, Vector512.Load(X + i) - Vector512.Load(T + i), Vector512.Create(P));
}

/// <summary>A pointwise regression loss's gradients per element; GEach, Gx and Gt may be null.</summary>
internal unsafe struct PointwiseBackwardOperator : IIndexedKernel
{
    public PointwiseLoss Kind;
    public float P, Scale;
    public float* X, T, GEach, Gx, Gt;

    public void Invoke(int i)
    {
        float g = GEach == null ? Scale : GEach[i] * Scale;
        float d = X[i] - T[i];
        if (Gx != null) Gx[i] = g * PointwiseLossKernel.Deriv(Kind, d, P);
        if (Gt != null) Gt[i] = g * PointwiseLossKernel.Deriv(Kind, -d, P);
    }

    public void Invoke256(int i)
    {
        var g = GEach == null ? Vector256.Create(Scale) : Vector256.Load(GEach + i) * Vector256.Create(Scale);
        var d = Vector256.Load(X + i) - Vector256.Load(T + i);
        var p = Vector256.Create(P);
        if (Gx != null) (g * PointwiseLossKernel.Deriv(Kind, d, p)).Store(Gx + i);
        if (Gt != null) (g * PointwiseLossKernel.Deriv(Kind, -d, p)).Store(Gt + i);
    }

    public void Invoke512(int i)
    {
        var g = GEach == null ? Vector512.Create(Scale) : Vector512.Load(GEach + i) * Vector512.Create(Scale);
        var d = Vector512.Load(X + i) - Vector512.Load(T + i);
        var p = Vector512.Create(P);
        if (Gx != null) (g * PointwiseLossKernel.Deriv(Kind, d, p)).Store(Gx + i);
        if (Gt != null) (g * PointwiseLossKernel.Deriv(Kind, -d, p)).Store(Gt + i);
    }
}
