using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// Fused binary cross-entropy on logits: ℓ = w·[(1 − t)·x + L·softplus(−x)], L = 1 + (pos_weight − 1)·t, with
/// softplus(−x) = log1p(exp(−|x|)) + max(−x, 0) so that no exponential of a large positive number is ever taken.
/// float32 runs through the <see cref="Simd"/> drivers at the current <see cref="Isa.Level"/> (the operators below);
/// float64 runs the scalar loop.
/// </summary>
internal static unsafe class BceLogitsKernel
{
    public static double Forward<T>(T[] x, T[] t, T[]? w, T[]? pw, T[]? outEach) where T : unmanaged, IFloatingPointIeee754<T> =>
        ForwardBackward(x, t, w, pw, outEach, T.Zero, null);

    /// <summary>
    /// The forward sum and, when <paramref name="gx"/> is given, the input's gradient for a scalar upstream factor
    /// <paramref name="scale"/> (1/n for a mean) in the same pass: the logits and targets are read and exponentiated
    /// once. The gradient is bit-identical to <see cref="Backward{T}"/>'s.
    /// </summary>
    public static double ForwardBackward<T>(T[] x, T[] t, T[]? w, T[]? pw, T[]? outEach, T scale, T[]? gx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length;
        int chunks = Math.Max(1, Math.Min(Parallel2.Threads, n / Parallel2.MinParallel));
        var partial = new double[chunks];
        // Chunks start at multiples of 16, as Parallel2.For's, so an element is in a vector or in the scalar tail alike
        // in the forward, the backward and the fused pass.
        int per = ((n + chunks - 1) / chunks + 15) & ~15;
        void Run(int ci)
        {
            int s = ci * per, e = Math.Min(n, s + per);
            if (typeof(T) == typeof(float))
            {
                fixed (float* px = (float[])(object)x, pt = (float[])(object)t, pwt = (float[]?)(object?)w, ppw = (float[]?)(object?)pw, po = (float[]?)(object?)outEach,
                       pgx = (float[]?)(object?)gx)
                {
                    if (pgx != null)
                    {
                        var fused = new BceForwardBackwardOperator { X = px, T = pt, W = pwt, Pw = ppw, Scale = (float)(object)scale, Gx = pgx };
                        partial[ci] = Simd.Sum(ref fused, po, s, e);
                    }
                    else
                    {
                        var op = new BceForwardOperator { X = px, T = pt, W = pwt, Pw = ppw };
                        partial[ci] = Simd.Sum(ref op, po, s, e);
                    }
                }
                return;
            }
            double acc = 0;
            for (int i = s; i < e; i++)
            {
                T v = Loss(x[i], t[i], w == null ? T.One : w[i], pw == null ? T.One : pw[i], w != null, pw != null);
                if (outEach != null) outEach[i] = v;
                acc += double.CreateTruncating(v);
                if (gx != null) { Grad(x[i], t[i], pw == null ? T.One : pw[i], w == null ? scale : scale * w[i], out T dx, out _); gx[i] = dx; }
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
            if (typeof(T) == typeof(float))
            {
                fixed (float* px = (float[])(object)x, pt = (float[])(object)t, pwt = (float[]?)(object?)w, ppw = (float[]?)(object?)pw,
                       pge = (float[]?)(object?)gEach, pgx = (float[]?)(object?)gx, pgt = (float[]?)(object?)gt)
                {
                    var op = new BceBackwardOperator { X = px, T = pt, W = pwt, Pw = ppw, Scale = (float)(object)scale, GEach = pge, Gx = pgx, Gt = pgt };
                    Simd.ForEach(ref op, s, s + len);
                }
                return;
            }
            for (int i = s; i < s + len; i++)
            {
                T g = gEach == null ? scale : gEach[i] * scale;
                if (w != null) g *= w[i];
                Grad(x[i], t[i], pw == null ? T.One : pw[i], g, out T dx, out T dt);
                if (gx != null) gx[i] = dx;
                if (gt != null) gt[i] = dt;
            }
        });
    }

    /// <summary>One element's loss (the scalar form of every path).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Loss<T>(T xi, T ti, T wi, T pwi, bool hasW, bool hasPw) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sp = SoftplusNeg(xi);
        T l = hasPw ? T.One + (pwi - T.One) * ti : T.One;
        T v = (T.One - ti) * xi + l * sp;
        if (hasW) v *= wi;
        return v;
    }

    /// <summary>One element's gradients for upstream gradient g (already multiplied by the weight).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Grad<T>(T xi, T ti, T pwi, T g, out T dx, out T dt) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T l = T.One + (pwi - T.One) * ti;
        dx = g * ((T.One - ti) - l * Elementwise.Sigmoid(-xi));
        dt = g * (-xi + (pwi - T.One) * SoftplusNeg(xi));
    }

    /// <summary>softplus(−x) = log(1 + e^−x) = log1p(e^−|x|) + max(−x, 0): exact for |x| large in either direction.</summary>
    private static T SoftplusNeg<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> =>
        T.LogP1(T.Exp(-T.Abs(x))) + T.Max(-x, T.Zero);

    /// <summary>softplus(−x) = max(−x, 0) + log1p(u), u = e^−|x| (16 lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> SoftplusNeg(Vector512<float> x, out Vector512<float> u)
    {
        u = FastExp.Exp(-Vector512.Abs(x));
        return Vector512.MaxNative(-x, Vector512<float>.Zero) + FastLog.Log1p(u);
    }

    /// <summary>softplus(−x) = max(−x, 0) + log1p(u), u = e^−|x| (8 lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> SoftplusNeg(Vector256<float> x, out Vector256<float> u)
    {
        u = FastExp.Exp(-Vector256.Abs(x));
        return Vector256.MaxNative(-x, Vector256<float>.Zero) + FastLog.Log1p(u);
    }

    /// <summary>softplus(−x) = max(−x, 0) + log1p(u), u = e^−|x| (4 lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> SoftplusNeg(Vector128<float> x, out Vector128<float> u)
    {
        u = FastExp.Exp(-Vector128.Abs(x));
        return Vector128.MaxNative(-x, Vector128<float>.Zero) + FastLog.Log1p(u);
    }
}

/// <summary>BCE-with-logits loss per element; W and Pw may be null.</summary>
internal unsafe struct BceForwardOperator : IIndexedOperator
{
    public float* X, T, W, Pw;

    public float Invoke(int i) => BceLogitsKernel.Loss(X[i], T[i], W == null ? 1f : W[i], Pw == null ? 1f : Pw[i], W != null, Pw != null);

    public Vector256<float> Invoke256(int i)
    {
        var one = Vector256<float>.One;
        var xv = Vector256.Load(X + i); var tv = Vector256.Load(T + i);
        var sp = BceLogitsKernel.SoftplusNeg(xv, out _);
        var l = Pw == null ? one : one + (Vector256.Load(Pw + i) - one) * tv;
        var v = (one - tv) * xv + l * sp;
        return W == null ? v : v * Vector256.Load(W + i);
    }

    public Vector128<float> Invoke128(int i)
    {
        var one = Vector128<float>.One;
        var xv = Vector128.Load(X + i); var tv = Vector128.Load(T + i);
        var sp = BceLogitsKernel.SoftplusNeg(xv, out _);
        var l = Pw == null ? one : one + (Vector128.Load(Pw + i) - one) * tv;
        var v = (one - tv) * xv + l * sp;
        return W == null ? v : v * Vector128.Load(W + i);
    }

    public Vector512<float> Invoke512(int i)
    {
        var one = Vector512<float>.One;
        var xv = Vector512.Load(X + i); var tv = Vector512.Load(T + i);
        var sp = BceLogitsKernel.SoftplusNeg(xv, out _);
        var l = Pw == null ? one : one + (Vector512.Load(Pw + i) - one) * tv;
        var v = (one - tv) * xv + l * sp;
        return W == null ? v : v * Vector512.Load(W + i);
    }
}

/// <summary>BCE-with-logits gradients per element; every pointer but X and T may be null.</summary>
internal unsafe struct BceBackwardOperator : IIndexedKernel
{
    public float* X, T, W, Pw, GEach, Gx, Gt;
    public float Scale;

    public void Invoke(int i)
    {
        float g = GEach == null ? Scale : GEach[i] * Scale;
        if (W != null) g *= W[i];
        BceLogitsKernel.Grad(X[i], T[i], Pw == null ? 1f : Pw[i], g, out float dx, out float dt);
        if (Gx != null) Gx[i] = dx;
        if (Gt != null) Gt[i] = dt;
    }

    public void Invoke256(int i)
    {
        var one = Vector256<float>.One;
        var g = GEach == null ? Vector256.Create(Scale) : Vector256.Load(GEach + i) * Vector256.Create(Scale);
        if (W != null) g *= Vector256.Load(W + i);
        var xv = Vector256.Load(X + i); var tv = Vector256.Load(T + i);
        var pwm1 = Pw == null ? Vector256<float>.Zero : Vector256.Load(Pw + i) - one;
        var u = FastExp.Exp(-Vector256.Abs(xv));
        if (Gx != null)
        {
            // σ(−x) = 1/(1 + e^x): u/(1 + u) for x ≥ 0, 1/(1 + u) for x < 0, with u = e^−|x| ≤ 1.
            var sig = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(xv, Vector256<float>.Zero), u, one) / (one + u);
            (g * ((one - tv) - (one + pwm1 * tv) * sig)).Store(Gx + i);
        }
        if (Gt != null) (g * (-xv + pwm1 * BceLogitsKernel.SoftplusNeg(xv, out _))).Store(Gt + i);
    }

    public void Invoke128(int i)
    {
        var one = Vector128<float>.One;
        var g = GEach == null ? Vector128.Create(Scale) : Vector128.Load(GEach + i) * Vector128.Create(Scale);
        if (W != null) g *= Vector128.Load(W + i);
        var xv = Vector128.Load(X + i); var tv = Vector128.Load(T + i);
        var pwm1 = Pw == null ? Vector128<float>.Zero : Vector128.Load(Pw + i) - one;
        var u = FastExp.Exp(-Vector128.Abs(xv));
        if (Gx != null)
        {
            // σ(−x) = 1/(1 + e^x): u/(1 + u) for x ≥ 0, 1/(1 + u) for x < 0, with u = e^−|x| ≤ 1.
            var sig = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(xv, Vector128<float>.Zero), u, one) / (one + u);
            (g * ((one - tv) - (one + pwm1 * tv) * sig)).Store(Gx + i);
        }
        if (Gt != null) (g * (-xv + pwm1 * BceLogitsKernel.SoftplusNeg(xv, out _))).Store(Gt + i);
    }

    public void Invoke512(int i)
    {
        var one = Vector512<float>.One;
        var g = GEach == null ? Vector512.Create(Scale) : Vector512.Load(GEach + i) * Vector512.Create(Scale);
        if (W != null) g *= Vector512.Load(W + i);
        var xv = Vector512.Load(X + i); var tv = Vector512.Load(T + i);
        var pwm1 = Pw == null ? Vector512<float>.Zero : Vector512.Load(Pw + i) - one;
        var u = FastExp.Exp(-Vector512.Abs(xv)); // log1p is only needed for the target's gradient
        if (Gx != null)
        {
            var sig = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(xv, Vector512<float>.Zero), u, one) / (one + u);
            (g * ((one - tv) - (one + pwm1 * tv) * sig)).Store(Gx + i);
        }
        if (Gt != null) (g * (-xv + pwm1 * BceLogitsKernel.SoftplusNeg(xv, out _))).Store(Gt + i);
    }
}

/// <summary>BCE-with-logits loss per element, and the input's gradient for upstream factor Scale stored on the way.</summary>
internal unsafe struct BceForwardBackwardOperator : IIndexedOperator
{
    public float* X, T, W, Pw, Gx;
    public float Scale;

    public float Invoke(int i)
    {
        float xi = X[i], ti = T[i], pwi = Pw == null ? 1f : Pw[i];
        BceLogitsKernel.Grad(xi, ti, pwi, W == null ? Scale : Scale * W[i], out float dx, out _);
        Gx[i] = dx;
        return BceLogitsKernel.Loss(xi, ti, W == null ? 1f : W[i], pwi, W != null, Pw != null);
    }

    public Vector256<float> Invoke256(int i)
    {
        var one = Vector256<float>.One;
        var xv = Vector256.Load(X + i); var tv = Vector256.Load(T + i);
        var sp = BceLogitsKernel.SoftplusNeg(xv, out var u);
        var pwv = Pw == null ? one : Vector256.Load(Pw + i);
        var g = Vector256.Create(Scale);
        if (W != null) g *= Vector256.Load(W + i);
        var sig = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(xv, Vector256<float>.Zero), u, one) / (one + u);
        var pwm1 = Pw == null ? Vector256<float>.Zero : pwv - one;
        (g * ((one - tv) - (one + pwm1 * tv) * sig)).Store(Gx + i);
        var l = Pw == null ? one : one + (pwv - one) * tv;
        var v = (one - tv) * xv + l * sp;
        return W == null ? v : v * Vector256.Load(W + i);
    }

    public Vector128<float> Invoke128(int i)
    {
        var one = Vector128<float>.One;
        var xv = Vector128.Load(X + i); var tv = Vector128.Load(T + i);
        var sp = BceLogitsKernel.SoftplusNeg(xv, out var u);
        var pwv = Pw == null ? one : Vector128.Load(Pw + i);
        var g = Vector128.Create(Scale);
        if (W != null) g *= Vector128.Load(W + i);
        var sig = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(xv, Vector128<float>.Zero), u, one) / (one + u);
        var pwm1 = Pw == null ? Vector128<float>.Zero : pwv - one;
        (g * ((one - tv) - (one + pwm1 * tv) * sig)).Store(Gx + i);
        var l = Pw == null ? one : one + (pwv - one) * tv;
        var v = (one - tv) * xv + l * sp;
        return W == null ? v : v * Vector128.Load(W + i);
    }

    public Vector512<float> Invoke512(int i)
    {
        var one = Vector512<float>.One;
        var xv = Vector512.Load(X + i); var tv = Vector512.Load(T + i);
        var sp = BceLogitsKernel.SoftplusNeg(xv, out var u);
        var pwv = Pw == null ? one : Vector512.Load(Pw + i);
        var g = Vector512.Create(Scale);
        if (W != null) g *= Vector512.Load(W + i);
        var sig = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(xv, Vector512<float>.Zero), u, one) / (one + u);
        var pwm1 = Pw == null ? Vector512<float>.Zero : pwv - one;
        (g * ((one - tv) - (one + pwm1 * tv) * sig)).Store(Gx + i);
        var l = Pw == null ? one : one + (pwv - one) * tv;
        var v = (one - tv) * xv + l * sp;
        return W == null ? v : v * Vector512.Load(W + i);
    }
}
