using System.Numerics;
using System.Runtime.Intrinsics.X86;

namespace Kindling.Kernels;

internal enum PointwiseLoss { Mse, L1, SmoothL1, Huber }

/// <summary>
/// Fused elementwise regression losses f(x − t): forward writes each loss (reduction none) or accumulates the sum in
/// double per chunk (mean/sum); backward writes ∂/∂x and ∂/∂t in the same pass. Chunks are fixed by the thread count,
/// so results are identical run to run.
/// </summary>
internal static class PointwiseLossKernel
{
    public static double Forward<T>(PointwiseLoss kind, double p, T[] x, T[] t, T[]? outEach) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length;
        int chunks = Math.Max(1, Math.Min(Parallel2.Threads, n / Parallel2.MinParallel));
        var partial = new double[chunks];
        int per = (n + chunks - 1) / chunks;
        T pp = T.CreateTruncating(p), half = T.CreateTruncating(0.5);
        void Run(int ci)
        {
            int s = ci * per, e = Math.Min(n, s + per);
            double acc = 0;
            if (typeof(T) == typeof(float) && Avx512F.IsSupported)
                s = LossAvx512.PointwiseForward(kind, (float)p, (float[])(object)x, (float[])(object)t, (float[]?)(object?)outEach, s, e, out acc);
            switch (kind)
            {
                case PointwiseLoss.Mse:
                    if (outEach == null && typeof(T) == typeof(float) && !Avx512F.IsSupported)
                    {
                        // Sum of squares through the vectorised distance kernel, in float, then widened per block of 4096
                        // so the rounding error stays at the level of one block.
                        var xs = (float[])(object)x; var ts = (float[])(object)t;
                        for (int b = s; b < e; b += 4096)
                        {
                            int len = Math.Min(4096, e - b);
                            float d = System.Numerics.Tensors.TensorPrimitives.Distance(new ReadOnlySpan<float>(xs, b, len), new ReadOnlySpan<float>(ts, b, len));
                            acc += (double)d * d;
                        }
                        break;
                    }
                    for (int i = s; i < e; i++) { T d = x[i] - t[i]; T v = d * d; if (outEach != null) outEach[i] = v; acc += double.CreateTruncating(v); }
                    break;
                case PointwiseLoss.L1:
                    for (int i = s; i < e; i++) { T v = T.Abs(x[i] - t[i]); if (outEach != null) outEach[i] = v; acc += double.CreateTruncating(v); }
                    break;
                case PointwiseLoss.SmoothL1:
                    for (int i = s; i < e; i++)
                    {
                        T d = T.Abs(x[i] - t[i]);
                        T v = d < pp ? half * d * d / pp : d - half * pp;
                        if (outEach != null) outEach[i] = v;
                        acc += double.CreateTruncating(v);
                    }
                    break;
                default:
                    for (int i = s; i < e; i++)
                    {
                        T d = T.Abs(x[i] - t[i]);
                        T v = d < pp ? half * d * d : pp * (d - half * pp);
                        if (outEach != null) outEach[i] = v;
                        acc += double.CreateTruncating(v);
                    }
                    break;
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
        T pp = T.CreateTruncating(p), two = T.CreateTruncating(2);
        Parallel2.For(x.Length, 1 << 15, (s, len) =>
        {
            int i0 = s;
            if (typeof(T) == typeof(float) && Avx512F.IsSupported)
                i0 = LossAvx512.PointwiseBackward(kind, (float)p, (float[])(object)x, (float[])(object)t, (float)(object)scale, (float[]?)(object?)gEach, (float[]?)(object?)gx, (float[]?)(object?)gt, s, s + len);
            for (int i = i0; i < s + len; i++)
            {
                T g = gEach == null ? scale : gEach[i] * scale;
                T d = x[i] - t[i];
                if (gx != null) gx[i] = g * Deriv(kind, d, pp, two);
                if (gt != null) gt[i] = g * Deriv(kind, -d, pp, two);
            }
        });
    }

    private static T Deriv<T>(PointwiseLoss kind, T d, T p, T two) where T : unmanaged, IFloatingPointIeee754<T> => kind switch
    {
        PointwiseLoss.Mse => two * d,
        PointwiseLoss.L1 => T.IsNaN(d) ? d : T.CreateTruncating(T.Sign(d)),
        PointwiseLoss.SmoothL1 => d <= -p ? -T.One : d >= p ? T.One : d / p,
        _ => d <= -p ? -p : d >= p ? p : d,
    };
}
