using System.Numerics;
using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// A pointwise regression loss f(d), d = x − t, in one struct: its value and derivative in float64, and in float32 at
/// every width with the same bits at every width. p is the loss's parameter (β, δ; unused by MSE and L1). Run by
/// <see cref="PointwiseLossKernel"/>; a new loss of this family is one such file plus its functional entry.
/// </summary>
internal interface IPointwiseLoss
{
    /// <summary>The graph node's name (for example <c>MseLossBackward</c>).</summary>
    static abstract string Name { get; }
    static abstract double Loss(double d, double p);
    static abstract float Loss(float d, float p);
    static abstract Vector128<float> Loss(Vector128<float> d, Vector128<float> p);
    static abstract Vector256<float> Loss(Vector256<float> d, Vector256<float> p);
    static abstract Vector512<float> Loss(Vector512<float> d, Vector512<float> p);
    static abstract double Deriv(double d, double p);
    static abstract float Deriv(float d, float p);
    static abstract Vector128<float> Deriv(Vector128<float> d, Vector128<float> p);
    static abstract Vector256<float> Deriv(Vector256<float> d, Vector256<float> p);
    static abstract Vector512<float> Deriv(Vector512<float> d, Vector512<float> p);
}

/// <summary>
/// Fused elementwise regression losses f(x − t): forward writes each loss (reduction none) or accumulates the sum in
/// double per chunk (mean/sum); backward writes ∂/∂x and ∂/∂t in the same pass. Chunks are fixed by the thread count,
/// so results are identical run to run. float32 runs through the <see cref="Simd"/> drivers at the current
/// <see cref="Isa.Level"/>; float64 runs the loss's scalar float64 form.
/// </summary>
internal static unsafe class PointwiseLossKernel
{
    public static double Forward<TLoss, T>(double p, T[] x, T[] t, T[]? outEach) where TLoss : IPointwiseLoss where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length;
        int chunks = Math.Max(1, Math.Min(Parallel2.Threads, n / Parallel2.MinParallel));
        var partial = new double[chunks];
        int per = (n + chunks - 1) / chunks;
        void Run(int ci)
        {
            int s = ci * per, e = Math.Min(n, s + per);
            if (typeof(T) == typeof(float))
            {
                fixed (float* px = (float[])(object)x, pt = (float[])(object)t, po = (float[]?)(object?)outEach)
                {
                    var op = new PointwiseForwardOperator<TLoss> { P = (float)p, X = px, T = pt };
                    partial[ci] = Simd.Sum(ref op, po, s, e);
                }
                return;
            }
            var xd = (double[])(object)x; var td = (double[])(object)t; var od = (double[]?)(object?)outEach;
            double acc = 0;
            for (int i = s; i < e; i++)
            {
                double v = TLoss.Loss(xd[i] - td[i], p);
                if (od != null) od[i] = v;
                acc += v;
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
    public static void Backward<TLoss, T>(double p, T[] x, T[] t, T scale, T[]? gEach, T[]? gx, T[]? gt) where TLoss : IPointwiseLoss where T : unmanaged, IFloatingPointIeee754<T>
    {
        Parallel2.For(x.Length, 1 << 15, (s, len) =>
        {
            if (typeof(T) == typeof(float))
            {
                fixed (float* px = (float[])(object)x, pt = (float[])(object)t, pge = (float[]?)(object?)gEach, pgx = (float[]?)(object?)gx, pgt = (float[]?)(object?)gt)
                {
                    var op = new PointwiseBackwardOperator<TLoss> { P = (float)p, X = px, T = pt, Scale = (float)(object)scale, GEach = pge, Gx = pgx, Gt = pgt };
                    Simd.ForEach(ref op, s, s + len);
                }
                return;
            }
            var xd = (double[])(object)x; var td = (double[])(object)t; var ge = (double[]?)(object?)gEach;
            var gxd = (double[]?)(object?)gx; var gtd = (double[]?)(object?)gt; double sc = (double)(object)scale;
            for (int i = s; i < s + len; i++)
            {
                double g = ge == null ? sc : ge[i] * sc;
                double d = xd[i] - td[i];
                if (gxd != null) gxd[i] = g * TLoss.Deriv(d, p);
                if (gtd != null) gtd[i] = g * TLoss.Deriv(-d, p);
            }
        });
    }
}

/// <summary>A pointwise regression loss per element.</summary>
internal unsafe struct PointwiseForwardOperator<TLoss> : IIndexedOperator where TLoss : IPointwiseLoss
{
    public float P;
    public float* X, T;

    public float Invoke(int i) => TLoss.Loss(X[i] - T[i], P);
    public Vector128<float> Invoke128(int i) => TLoss.Loss(Vector128.Load(X + i) - Vector128.Load(T + i), Vector128.Create(P));
    public Vector256<float> Invoke256(int i) => TLoss.Loss(Vector256.Load(X + i) - Vector256.Load(T + i), Vector256.Create(P));
    public Vector512<float> Invoke512(int i) => TLoss.Loss(Vector512.Load(X + i) - Vector512.Load(T + i), Vector512.Create(P));
}

/// <summary>A pointwise regression loss's gradients per element; GEach, Gx and Gt may be null.</summary>
internal unsafe struct PointwiseBackwardOperator<TLoss> : IIndexedKernel where TLoss : IPointwiseLoss
{
    public float P, Scale;
    public float* X, T, GEach, Gx, Gt;

    public void Invoke(int i)
    {
        float g = GEach == null ? Scale : GEach[i] * Scale;
        float d = X[i] - T[i];
        if (Gx != null) Gx[i] = g * TLoss.Deriv(d, P);
        if (Gt != null) Gt[i] = g * TLoss.Deriv(-d, P);
    }

    public void Invoke128(int i)
    {
        var g = GEach == null ? Vector128.Create(Scale) : Vector128.Load(GEach + i) * Vector128.Create(Scale);
        var d = Vector128.Load(X + i) - Vector128.Load(T + i);
        var p = Vector128.Create(P);
        if (Gx != null) (g * TLoss.Deriv(d, p)).Store(Gx + i);
        if (Gt != null) (g * TLoss.Deriv(-d, p)).Store(Gt + i);
    }

    public void Invoke256(int i)
    {
        var g = GEach == null ? Vector256.Create(Scale) : Vector256.Load(GEach + i) * Vector256.Create(Scale);
        var d = Vector256.Load(X + i) - Vector256.Load(T + i);
        var p = Vector256.Create(P);
        if (Gx != null) (g * TLoss.Deriv(d, p)).Store(Gx + i);
        if (Gt != null) (g * TLoss.Deriv(-d, p)).Store(Gt + i);
    }

    public void Invoke512(int i)
    {
        var g = GEach == null ? Vector512.Create(Scale) : Vector512.Load(GEach + i) * Vector512.Create(Scale);
        var d = Vector512.Load(X + i) - Vector512.Load(T + i);
        var p = Vector512.Create(P);
        if (Gx != null) (g * TLoss.Deriv(d, p)).Store(Gx + i);
        if (Gt != null) (g * TLoss.Deriv(-d, p)).Store(Gt + i);
    }
}
