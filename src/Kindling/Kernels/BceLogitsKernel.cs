using System.Numerics;
using System.Runtime.Intrinsics.X86;

namespace Kindling.Kernels;

/// <summary>
/// Fused binary cross-entropy on logits: ℓ = w·[(1 − t)·x + L·softplus(−x)], L = 1 + (pos_weight − 1)·t, with
/// softplus(−x) = log1p(exp(−|x|)) + max(−x, 0) so that no exponential of a large positive number is ever taken.
/// </summary>
internal static class BceLogitsKernel
{
    public static double Forward<T>(T[] x, T[] t, T[]? w, T[]? pw, T[]? outEach) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length;
        int chunks = Math.Max(1, Math.Min(Parallel2.Threads, n / Parallel2.MinParallel));
        var partial = new double[chunks];
        int per = (n + chunks - 1) / chunks;
        void Run(int ci)
        {
            int s = ci * per, e = Math.Min(n, s + per);
            double acc = 0;
            int i0 = s;
            if (typeof(T) == typeof(float) && Avx512F.IsSupported)
                i0 = LossAvx512.BceForward((float[])(object)x, (float[])(object)t, (float[]?)(object?)w, (float[]?)(object?)pw, (float[]?)(object?)outEach, s, e, out acc);
            for (int i = i0; i < e; i++)
            {
                T xi = x[i], ti = t[i];
                T sp = SoftplusNeg(xi);
                T l = pw == null ? T.One : T.One + (pw[i] - T.One) * ti;
                T v = (T.One - ti) * xi + l * sp;
                if (w != null) v *= w[i];
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

    /// <summary>∂ℓ/∂x = w·[(1 − t) − L·σ(−x)]; ∂ℓ/∂t = w·[−x + (pos_weight − 1)·softplus(−x)].</summary>
    public static void Backward<T>(T[] x, T[] t, T[]? w, T[]? pw, T scale, T[]? gEach, T[]? gx, T[]? gt) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Parallel2.For(x.Length, 1 << 15, (s, len) =>
        {
            int i0 = s;
            if (typeof(T) == typeof(float) && Avx512F.IsSupported)
                i0 = LossAvx512.BceBackward((float[])(object)x, (float[])(object)t, (float[]?)(object?)w, (float[]?)(object?)pw, (float)(object)scale, (float[]?)(object?)gEach, (float[]?)(object?)gx, (float[]?)(object?)gt, s, s + len);
            for (int i = i0; i < s + len; i++)
            {
                T g = gEach == null ? scale : gEach[i] * scale;
                if (w != null) g *= w[i];
                T xi = x[i], ti = t[i];
                T pwi = pw == null ? T.One : pw[i];
                if (gx != null)
                {
                    T l = T.One + (pwi - T.One) * ti;
                    gx[i] = g * ((T.One - ti) - l * Elementwise.Sigmoid(-xi));
                }
                if (gt != null) gt[i] = g * (-xi + (pwi - T.One) * SoftplusNeg(xi));
            }
        });
    }

    /// <summary>softplus(−x) = log(1 + e^−x) = log1p(e^−|x|) + max(−x, 0): exact for |x| large in either direction.</summary>
    private static T SoftplusNeg<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> =>
        T.LogP1(T.Exp(-T.Abs(x))) + T.Max(-x, T.Zero);
}
