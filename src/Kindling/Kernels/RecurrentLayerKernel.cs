using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Kindling.Kernels;

/// <summary>
/// The shape of one recurrent layer in one direction over a packed batch (PyTorch's PackedSequence layout): step t
/// reads rows [Offsets[t], Offsets[t] + BatchSizes[t]) of the (N, ·) input, and those rows are batch entries
/// 0 … BatchSizes[t] − 1 (batch sizes never grow, so the active entries are always a prefix). A padded batch of equal
/// lengths is the case BatchSizes = (B, B, …). <see cref="Reverse"/> runs the steps from last to first.
/// </summary>
internal sealed class RecurrentPlan
{
    public required RecurrentMode Mode { get; init; }
    /// <summary>Input features, hidden size, output size (proj_size, or H without projection).</summary>
    public required int I { get; init; }
    public required int H { get; init; }
    public required int P { get; init; }
    public required int[] BatchSizes { get; init; }
    public required bool Reverse { get; init; }
    public int[] Offsets { get; }
    public int N { get; }
    public int B => BatchSizes.Length == 0 ? 0 : BatchSizes[0];
    public int Gates => Mode switch { RecurrentMode.Lstm => 4, RecurrentMode.Gru => 3, _ => 1 };
    public int GH => Gates * H;
    public bool HasProj => Mode == RecurrentMode.Lstm && P != H;

    [System.Diagnostics.CodeAnalysis.SetsRequiredMembers]
    public RecurrentPlan(RecurrentMode mode, int i, int h, int p, int[] batchSizes, bool reverse)
    {
        Mode = mode; I = i; H = h; P = p; BatchSizes = batchSizes; Reverse = reverse;
        Offsets = new int[batchSizes.Length];
        int n = 0;
        for (int t = 0; t < batchSizes.Length; t++) { Offsets[t] = n; n += batchSizes[t]; }
        N = n;
    }

    /// <summary>The time index of the k-th step in processing order.</summary>
    public int StepAt(int k) => Reverse ? BatchSizes.Length - 1 - k : k;
}

/// <summary>
/// What the forward keeps for the backward of one recurrent layer-direction: an explicit record of pooled arrays (no
/// captured locals, no per-gate graph). Row k of every (N, ·) array belongs to input row k.
/// </summary>
internal sealed class RecurrentSaved<T> where T : unmanaged
{
    /// <summary>(N, I) the input as read.</summary>
    public required T[] X;
    /// <summary>(N, G·H) gate activations: LSTM (i, f, g, o); GRU (r, z, n); Elman the new h.</summary>
    public required T[] Gates;
    /// <summary>(N, P) the hidden state each row's step read.</summary>
    public required T[] HPrev;
    /// <summary>LSTM: (N, H) the cell state each step read, and tanh of the one it wrote.</summary>
    public T[]? CPrev, TanhC;
    /// <summary>LSTM with projection: (N, H) o·tanh(c) before W_hr.</summary>
    public T[]? HPre;
    /// <summary>GRU: (N, H) h·W_hnᵀ + b_hn, the term r multiplies.</summary>
    public T[]? HhN;
    public required T[] Wih, Whh;
    public T[]? Whr;

    /// <summary>The pooled arrays, for the engine to recycle when the graph is freed.</summary>
    public Array[] Pooled() => new Array?[] { Gates, HPrev, CPrev, TanhC, HPre, HhN }.Where(a => a != null).Select(a => a!).ToArray();
}

/// <summary>
/// One recurrent layer in one direction, forward and backward: the input projection of all time steps is one GEMM,
/// each step adds one recurrent GEMM over its active rows and runs the fused gate pass of <see cref="RecurrentGates"/>.
/// The backward walks the steps in reverse, producing every step's gate gradients, and then computes ∂x, ∂W_ih, ∂W_hh
/// and the bias gradients as whole-sequence GEMMs and column sums.
/// </summary>
internal static class RecurrentLayerKernel
{
    /// <summary>C = op(A)·op(B) (+ C when <paramref name="acc"/>), row-major, on spans of float or double.</summary>
    internal static void Mm<T>(bool ta, bool tb, int m, int n, int k, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, bool acc) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            Gemm.Sgemm(ta, tb, m, n, k, 1f, MemoryMarshal.Cast<T, float>(a), lda, MemoryMarshal.Cast<T, float>(b), ldb, acc ? 1f : 0f, MemoryMarshal.Cast<T, float>(c), ldc);
        else
            Gemm.Dgemm(ta, tb, m, n, k, 1.0, MemoryMarshal.Cast<T, double>(a), lda, MemoryMarshal.Cast<T, double>(b), ldb, acc ? 1.0 : 0.0, MemoryMarshal.Cast<T, double>(c), ldc);
    }

    /// <summary>
    /// Forward. x (N, I); h0 (B, P); c0 (B, H) for LSTM; W_ih (G·H, I), W_hh (G·H, P), biases (G·H) or null, W_hr (P, H)
    /// or null. Writes out (N, P), hN (B, P), cN (B, H) and returns the saved record.
    /// </summary>
    public static RecurrentSaved<T> Forward<T>(RecurrentPlan p, T[] x, ReadOnlySpan<T> h0, ReadOnlySpan<T> c0, T[] wih, T[] whh, T[]? bih, T[]? bhh, T[]? whr,
        Span<T> output, Span<T> hN, Span<T> cN) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = p.N, gh = p.GH, hid = p.H, P = p.P;
        bool lstm = p.Mode == RecurrentMode.Lstm, gru = p.Mode == RecurrentMode.Gru;
        var gates = BufferPool.Rent<T>(Math.Max(n * gh, 1));
        var s = new RecurrentSaved<T>
        {
            X = x, Gates = gates, HPrev = BufferPool.Rent<T>(Math.Max(n * P, 1)), Wih = wih, Whh = whh, Whr = whr,
            CPrev = lstm ? BufferPool.Rent<T>(Math.Max(n * hid, 1)) : null,
            TanhC = lstm ? BufferPool.Rent<T>(Math.Max(n * hid, 1)) : null,
            HPre = p.HasProj ? BufferPool.Rent<T>(Math.Max(n * hid, 1)) : null,
            HhN = gru ? BufferPool.Rent<T>(Math.Max(n * hid, 1)) : null,
        };
        // All time steps' input projections in one GEMM, with the biases that simply add folded in.
        if (p.I == 0) gates.AsSpan(0, n * gh).Clear();
        else Mm<T>(false, true, n, gh, p.I, x, p.I, wih, p.I, gates, gh, false);
        for (int r = 0; r < n; r++)
        {
            var row = gates.AsSpan(r * gh, gh);
            if (bih != null) TensorPrimitives.Add<T>(row, bih, row);
            // GRU keeps b_hn apart: it sits inside r·(W_hn h + b_hn).
            if (bhh != null) { var add = gru ? row[..(2 * hid)] : row; TensorPrimitives.Add<T>(add, bhh.AsSpan(0, add.Length), add); }
        }
        var h = hN; h0.CopyTo(h);
        var c = cN; if (lstm) c0.CopyTo(c);
        var hh = gru ? BufferPool.Rent<T>(Math.Max(p.B * gh, 1)) : null;
        for (int k = 0; k < p.BatchSizes.Length; k++)
        {
            int t = p.StepAt(k), bs = p.BatchSizes[t], off = p.Offsets[t];
            var hs = h[..(bs * P)];
            hs.CopyTo(s.HPrev.AsSpan(off * P, bs * P));
            var g = gates.AsSpan(off * gh, bs * gh);
            var outRows = output.Slice(off * P, bs * P);
            if (gru)
            {
                Mm<T>(false, true, bs, gh, P, s.HPrev.AsSpan(off * P, bs * P), P, whh, P, hh, gh, false);
                if (bhh != null) for (int r = 0; r < bs; r++) { var nb = hh.AsSpan(r * gh + 2 * hid, hid); TensorPrimitives.Add<T>(nb, bhh.AsSpan(2 * hid, hid), nb); }
                RecurrentGates.GruForward<T>(bs, hid, g, hh, hs, s.HhN.AsSpan(off * hid, bs * hid));
                hs.CopyTo(outRows);
                continue;
            }
            Mm<T>(false, true, bs, gh, P, s.HPrev.AsSpan(off * P, bs * P), P, whh, P, g, gh, true);
            if (lstm)
            {
                var cs = c[..(bs * hid)];
                cs.CopyTo(s.CPrev.AsSpan(off * hid, bs * hid));
                var tc = s.TanhC.AsSpan(off * hid, bs * hid);
                if (p.HasProj)
                {
                    var pre = s.HPre.AsSpan(off * hid, bs * hid);
                    RecurrentGates.LstmForward<T>(bs, hid, g, cs, tc, pre);
                    Mm<T>(false, true, bs, P, hid, pre, hid, whr, hid, outRows, P, false);
                }
                else RecurrentGates.LstmForward<T>(bs, hid, g, cs, tc, outRows);
                outRows.CopyTo(hs);
            }
            else
            {
                RecurrentGates.RnnForward<T>(p.Mode == RecurrentMode.RnnRelu, g);
                g.CopyTo(outRows);
                g.CopyTo(hs);
            }
        }
        if (hh != null) BufferPool.Return(hh);
        return s;
    }

    /// <summary>
    /// Gradients that the whole-sequence GEMMs need, from the reverse walk over the steps: dGi (N, G·H) for the input
    /// side, dGh for the hidden side (the same array except for GRU), dOut (N, P) the gradient reaching each projected
    /// h (LSTM with projection only), and the initial states' gradients dh0 (B, P), dc0 (B, H).
    /// </summary>
    internal sealed class StepGrads<T> where T : unmanaged
    {
        public required T[] DGi, DGh;
        public T[]? DProj;
        public required T[] Dh0;
        public T[]? Dc0;
    }

    /// <summary>
    /// Walks the steps in reverse. gOut (N, P), ghN (B, P), gcN (B, H): the gradients of the forward's outputs (any may be
    /// empty, meaning zero).
    /// </summary>
    public static StepGrads<T> BackwardSteps<T>(RecurrentPlan p, RecurrentSaved<T> s, ReadOnlySpan<T> gOut, ReadOnlySpan<T> ghN, ReadOnlySpan<T> gcN)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = p.N, gh = p.GH, hid = p.H, P = p.P, b = p.B;
        bool lstm = p.Mode == RecurrentMode.Lstm, gru = p.Mode == RecurrentMode.Gru;
        var dGi = BufferPool.Rent<T>(Math.Max(n * gh, 1));
        var dGh = gru ? BufferPool.Rent<T>(Math.Max(n * gh, 1)) : dGi;
        var dh = new T[Math.Max(b * P, 1)];
        if (!ghN.IsEmpty) ghN.CopyTo(dh);
        T[]? dc = lstm ? new T[Math.Max(b * hid, 1)] : null;
        if (lstm && !gcN.IsEmpty) gcN.CopyTo(dc);
        var dProj = p.HasProj ? BufferPool.Rent<T>(Math.Max(n * P, 1)) : null;
        var dPre = p.HasProj ? BufferPool.Rent<T>(Math.Max(b * hid, 1)) : null;
        for (int k = p.BatchSizes.Length - 1; k >= 0; k--)
        {
            int t = p.StepAt(k), bs = p.BatchSizes[t], off = p.Offsets[t];
            var dhs = dh.AsSpan(0, bs * P);
            if (!gOut.IsEmpty) TensorPrimitives.Add<T>(dhs, gOut.Slice(off * P, bs * P), dhs);
            var dgi = dGi.AsSpan(off * gh, bs * gh);
            var gates = s.Gates.AsSpan(off * gh, bs * gh);
            if (lstm)
            {
                ReadOnlySpan<T> dhpre = dhs;
                if (p.HasProj)
                {
                    dhs.CopyTo(dProj.AsSpan(off * P, bs * P));
                    Mm<T>(false, false, bs, hid, P, dhs, P, s.Whr, hid, dPre, hid, false);
                    dhpre = dPre.AsSpan(0, bs * hid);
                }
                RecurrentGates.LstmBackward<T>(bs, hid, dhpre, dc.AsSpan(0, bs * hid), gates, s.CPrev.AsSpan(off * hid, bs * hid), s.TanhC.AsSpan(off * hid, bs * hid), dgi);
                Mm<T>(false, false, bs, P, gh, dgi, gh, s.Whh, P, dhs, P, false);
            }
            else if (gru)
            {
                var dgh = dGh.AsSpan(off * gh, bs * gh);
                RecurrentGates.GruBackward<T>(bs, hid, dhs, gates, s.HPrev.AsSpan(off * P, bs * P), s.HhN.AsSpan(off * hid, bs * hid), dgi, dgh);
                Mm<T>(false, false, bs, P, gh, dgh, gh, s.Whh, P, dhs, P, true);
            }
            else
            {
                RecurrentGates.RnnBackward<T>(p.Mode == RecurrentMode.RnnRelu, dhs, gates, dgi);
                Mm<T>(false, false, bs, P, gh, dgi, gh, s.Whh, P, dhs, P, false);
            }
        }
        if (dPre != null) BufferPool.Return(dPre);
        return new StepGrads<T> { DGi = dGi, DGh = dGh, DProj = dProj, Dh0 = dh, Dc0 = dc };
    }

    /// <summary>
    /// Column sums of a (rows, cols) block into <paramref name="dst"/> (added when <paramref name="acc"/>), blocked: 64-row
    /// partial sums are added to a running total, so a float32 bias gradient over thousands of rows does not drift.
    /// </summary>
    public static void ColumnSum<T>(ReadOnlySpan<T> src, int rows, int cols, Span<T> dst, bool acc) where T : unmanaged, INumber<T>
    {
        const int Block = 64;
        var total = new T[cols];
        var part = new T[cols];
        for (int r0 = 0; r0 < rows; r0 += Block)
        {
            int r1 = Math.Min(rows, r0 + Block);
            Array.Clear(part);
            for (int r = r0; r < r1; r++) TensorPrimitives.Add<T>(part, src.Slice(r * cols, cols), part);
            TensorPrimitives.Add<T>(total, part, total);
        }
        if (acc) TensorPrimitives.Add<T>(dst, total, dst);
        else total.CopyTo(dst);
    }
}
