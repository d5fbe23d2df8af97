using System.Numerics;
using System.Numerics.Tensors;

namespace Kindling.Kernels;

/// <summary>
/// One operand of <see cref="FlashAttention"/>: a batch of row-major matrices inside <see cref="Data"/>, matrix
/// <c>t</c> starting at <c>Offsets[t]</c>, rows <see cref="RowStride"/> apart, the last dimension dense. A mask also
/// has a <see cref="ColStride"/> (0 when broadcast over keys).
/// </summary>
internal readonly record struct AttentionOperand<T>(T[] Data, int[] Offsets, int RowStride, int ColStride = 1);

/// <summary>
/// The sizes and inputs of one attention: <c>nb</c> independent (batch, head) problems, queries (L, E), keys (S, E),
/// values (S, Ev), an optional additive mask (L, S) and the causal flag: query i sees keys j ≤ i + CausalShift (0: PyTorch's
/// top-left <c>is_causal</c>; S − L: the last L positions of a sequence whose first S − L keys are cached).
/// </summary>
internal sealed record AttentionProblem<T>(int Batches, int L, int S, int E, int Ev, T Scale,
    AttentionOperand<T> Q, AttentionOperand<T> K, AttentionOperand<T> V, AttentionOperand<T>? Mask, bool Causal, int CausalShift = 0)
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>
/// Attention softmax(scale·Q·Kᵀ + mask)·V without the L×S matrix (FlashAttention's online softmax, Dao et al. 2022):
/// queries go in blocks of <see cref="BlockQ"/> rows, keys in blocks of <see cref="BlockK"/>; per query row a running
/// maximum m and sum l are kept, and when a new key block raises the maximum the partial output and sum are rescaled by
/// e^(m_old − m_new). Only a BlockQ×BlockK score tile exists at a time, so memory does not grow with L·S. The forward
/// saves the row log-sum-exp m + log l; the backward recomputes each tile's probabilities from it
/// (P = e^(S − lse)) and forms dV += Pᵀ·dO, dS = P∘(dO·Vᵀ − D) with D = rowsum(dO∘O), dQ += scale·dS·K,
/// dK += scale·dSᵀ·Q — the softmax derivative written out so no L×S matrix is stored.
/// A row whose every key is masked has l = 0: its output and log-sum-exp are NaN, which is what PyTorch 1.13's
/// softmax over a row of −∞ gives.
/// </summary>
internal static class FlashAttention
{
    /// <summary>Query rows per tile: 64×64 score tiles with head size ≤ 128 keep every GEMM single-threaded (under Gemm's per-thread work), so the tiles themselves are what runs in parallel.</summary>
    public const int BlockQ = 64;
    /// <summary>Key columns per tile.</summary>
    public const int BlockK = 64;

    /// <summary>Fills O (the output operand's rows, dense Ev columns) and lse (Batches×L).</summary>
    public static void Forward<T>(AttentionProblem<T> p, AttentionOperand<T> o, T[] lse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int qBlocks = (p.L + BlockQ - 1) / BlockQ;
        int tasks = p.Batches * qBlocks;
        long work = (long)p.Batches * p.L * p.S * (p.E + p.Ev);
        if (tasks == 0) return;
        if (tasks == 1 || work < 1 << 16 || Parallel2.Threads == 1)
        {
            var s = Scratch<T>.ForThread();
            for (int t = 0; t < tasks; t++) ForwardTile(p, o, lse, t / qBlocks, t % qBlocks * BlockQ, s);
            return;
        }
        Parallel.For(0, Math.Min(Parallel2.Threads, tasks), new ParallelOptions { MaxDegreeOfParallelism = Parallel2.Threads }, w =>
        {
            var s = Scratch<T>.ForThread();
            // Interleaved tasks: with causal masking later query blocks cost more, so a stride evens the load.
            for (int t = w; t < tasks; t += Parallel2.Threads) ForwardTile(p, o, lse, t / qBlocks, t % qBlocks * BlockQ, s);
        });
    }

    /// <summary>One thread's tiles, kept between calls (each is 16–32 KiB: allocating them per call showed up in the profile).</summary>
    private sealed class Scratch<T>
    {
        public readonly T[] S = new T[BlockQ * BlockK], D = new T[BlockQ * BlockK], M = new T[BlockQ], L = new T[BlockQ];
        private T[] _rows = [];
        [ThreadStatic] private static Scratch<T>? t_current;
        public static Scratch<T> ForThread() => t_current ??= new Scratch<T>();
        /// <summary>A per-row buffer of at least <paramref name="n"/> elements.</summary>
        public T[] Rows(int n) => _rows.Length >= n ? _rows : _rows = new T[n];
    }

    private static void ForwardTile<T>(AttentionProblem<T> p, AttentionOperand<T> o, T[] lse, int b, int i0, Scratch<T> sc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int br = Math.Min(BlockQ, p.L - i0);
        int qo = p.Q.Offsets[b] + i0 * p.Q.RowStride, oo = o.Offsets[b] + i0 * o.RowStride;
        var s = sc.S; var m = sc.M; var l = sc.L;
        for (int r = 0; r < br; r++)
        {
            m[r] = T.NegativeInfinity; l[r] = T.Zero;
            o.Data.AsSpan(oo + r * o.RowStride, p.Ev).Clear();
        }
        int jEnd = p.Causal ? Math.Min(p.S, i0 + br + p.CausalShift) : p.S;
        for (int j0 = 0; j0 < jEnd; j0 += BlockK)
        {
            int bc = Math.Min(BlockK, jEnd - j0);
            Mm(false, true, br, bc, p.E, p.Scale, p.Q.Data, qo, p.Q.RowStride, p.K.Data, p.K.Offsets[b] + j0 * p.K.RowStride, p.K.RowStride, T.Zero, s, 0, BlockK);
            for (int r = 0; r < br; r++)
            {
                var row = s.AsSpan(r * BlockK, bc);
                AddMaskAndCausal(p, b, i0 + r, j0, row);
                T mx = TensorPrimitives.Max<T>(row);
                T mNew = T.Max(m[r], mx);
                if (T.IsNegativeInfinity(mNew)) { row.Clear(); continue; } // every key so far masked: nothing to add
                T alpha = Exp(m[r] - mNew); // 0 on the first unmasked block (m = −∞)
                TensorPrimitives.Subtract(row, mNew, row);
                ExpInPlace(row);
                l[r] = l[r] * alpha + TensorPrimitives.Sum<T>(row);
                m[r] = mNew;
                if (alpha != T.One)
                {
                    var orow = o.Data.AsSpan(oo + r * o.RowStride, p.Ev);
                    TensorPrimitives.Multiply(orow, alpha, orow);
                }
            }
            Mm(false, false, br, p.Ev, bc, T.One, s, 0, BlockK, p.V.Data, p.V.Offsets[b] + j0 * p.V.RowStride, p.V.RowStride, T.One, o.Data, oo, o.RowStride);
        }
        for (int r = 0; r < br; r++)
        {
            var orow = o.Data.AsSpan(oo + r * o.RowStride, p.Ev);
            if (l[r] == T.Zero || T.IsNaN(l[r]))
            {
                orow.Fill(T.NaN);
                lse[b * p.L + i0 + r] = T.NaN;
                continue;
            }
            TensorPrimitives.Multiply(orow, T.One / l[r], orow);
            lse[b * p.L + i0 + r] = m[r] + T.Log(l[r]);
        }
    }

    /// <summary>
    /// Adds the gradients of the inputs, given dO and the forward's O and lse, into dQ (rows of E), dK (rows of E) and
    /// dV (rows of Ev): the caller zeroes them first (they may be three views of one buffer, as for a packed projection).
    /// </summary>
    public static void Backward<T>(AttentionProblem<T> p, AttentionOperand<T> o, T[] lse, AttentionOperand<T> dO, AttentionOperand<T> dQ, AttentionOperand<T> dK, AttentionOperand<T> dV)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long work = (long)p.Batches * p.L * p.S * (p.E + p.Ev);
        if (p.Batches == 1 || work < 1 << 15 || Parallel2.Threads == 1)
        {
            var s = Scratch<T>.ForThread();
            var d = s.Rows(p.L);
            for (int b = 0; b < p.Batches; b++) BackwardBatch(p, o, lse, dO, dQ, dK, dV, b, s, d);
            return;
        }
        Parallel.For(0, Math.Min(Parallel2.Threads, p.Batches), new ParallelOptions { MaxDegreeOfParallelism = Parallel2.Threads }, w =>
        {
            var s = Scratch<T>.ForThread();
            var d = s.Rows(p.L);
            for (int b = w; b < p.Batches; b += Parallel2.Threads) BackwardBatch(p, o, lse, dO, dQ, dK, dV, b, s, d);
        });
    }

    private static void BackwardBatch<T>(AttentionProblem<T> p, AttentionOperand<T> o, T[] lse, AttentionOperand<T> dO, AttentionOperand<T> dQ, AttentionOperand<T> dK, AttentionOperand<T> dV, int b, Scratch<T> sc, T[] d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int L = p.L, S = p.S, E = p.E, Ev = p.Ev;
        // D_i = Σ dO_i·O_i: the softmax backward's row term, once per row instead of once per tile.
        for (int i = 0; i < L; i++)
            d[i] = TensorPrimitives.Dot<T>(dO.Data.AsSpan(dO.Offsets[b] + i * dO.RowStride, Ev), o.Data.AsSpan(o.Offsets[b] + i * o.RowStride, Ev));
        int dqo = dQ.Offsets[b], dko = dK.Offsets[b], dvo = dV.Offsets[b];
        var s = sc.S; var ds = sc.D;
        for (int j0 = 0; j0 < S; j0 += BlockK)
        {
            int bc = Math.Min(BlockK, S - j0);
            int ko = p.K.Offsets[b] + j0 * p.K.RowStride, vo = p.V.Offsets[b] + j0 * p.V.RowStride;
            for (int i0 = 0; i0 < L; i0 += BlockQ)
            {
                int br = Math.Min(BlockQ, L - i0);
                if (p.Causal && j0 > i0 + br - 1 + p.CausalShift) continue; // every query of this block comes before every key of that one
                int qo = p.Q.Offsets[b] + i0 * p.Q.RowStride, doo = dO.Offsets[b] + i0 * dO.RowStride;
                Mm(false, true, br, bc, E, p.Scale, p.Q.Data, qo, p.Q.RowStride, p.K.Data, ko, p.K.RowStride, T.Zero, s, 0, BlockK);
                // dP = dO_i·V_jᵀ
                Mm(false, true, br, bc, Ev, T.One, dO.Data, doo, dO.RowStride, p.V.Data, vo, p.V.RowStride, T.Zero, ds, 0, BlockK);
                for (int r = 0; r < br; r++)
                {
                    var row = s.AsSpan(r * BlockK, bc);
                    AddMaskAndCausal(p, b, i0 + r, j0, row);
                    TensorPrimitives.Subtract(row, lse[b * L + i0 + r], row);
                    ExpInPlace(row); // P, exactly the forward's normalised probabilities
                    var dsr = ds.AsSpan(r * BlockK, bc);
                    TensorPrimitives.Subtract(dsr, d[i0 + r], dsr);
                    TensorPrimitives.Multiply(dsr, row, dsr); // dS = P∘(dP − D)
                }
                Mm(true, false, bc, Ev, br, T.One, s, 0, BlockK, dO.Data, doo, dO.RowStride, T.One, dV.Data, dvo + j0 * dV.RowStride, dV.RowStride);
                Mm(false, false, br, E, bc, p.Scale, ds, 0, BlockK, p.K.Data, ko, p.K.RowStride, T.One, dQ.Data, dqo + i0 * dQ.RowStride, dQ.RowStride);
                Mm(true, false, bc, E, br, p.Scale, ds, 0, BlockK, p.Q.Data, qo, p.Q.RowStride, T.One, dK.Data, dko + j0 * dK.RowStride, dK.RowStride);
            }
        }
    }

    private static void AddMaskAndCausal<T>(AttentionProblem<T> p, int b, int i, int j0, Span<T> row) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (p.Mask is AttentionOperand<T> mk)
        {
            int mo = mk.Offsets[b] + i * mk.RowStride + j0 * mk.ColStride;
            if (mk.ColStride == 1) TensorPrimitives.Add(row, mk.Data.AsSpan(mo, row.Length), row);
            else for (int c = 0; c < row.Length; c++) row[c] += mk.Data[mo + c * mk.ColStride];
        }
        int last = i + p.CausalShift; // the last key this query sees
        if (p.Causal && j0 + row.Length - 1 > last)
            row[Math.Max(0, last + 1 - j0)..].Fill(T.NegativeInfinity);
    }

    private static T Exp<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => T.Exp(x);

    private static void ExpInPlace<T>(Span<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            var f = System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(x);
            FastExp.Exp(f, f);
        }
        else TensorPrimitives.Exp<T>(x, x);
    }

    /// <summary>C = alpha·op(A)·op(B) + beta·C on array slices (Sgemm or Dgemm by element type).</summary>
    private static void Mm<T>(bool ta, bool tb, int m, int n, int k, T alpha, T[] a, int ao, int lda, T[] b, int bo, int ldb, T beta, T[] c, int co, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
            Gemm.Sgemm(ta, tb, m, n, k, float.CreateTruncating(alpha), ((float[])(object)a).AsSpan(ao), lda, ((float[])(object)b).AsSpan(bo), ldb,
                float.CreateTruncating(beta), ((float[])(object)c).AsSpan(co), ldc);
        else
            Gemm.Dgemm(ta, tb, m, n, k, double.CreateTruncating(alpha), ((double[])(object)a).AsSpan(ao), lda, ((double[])(object)b).AsSpan(bo), ldb,
                double.CreateTruncating(beta), ((double[])(object)c).AsSpan(co), ldc);
    }
}
