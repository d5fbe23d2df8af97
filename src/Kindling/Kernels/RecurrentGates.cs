using System.Numerics;
using System.Numerics.Tensors;

namespace Kindling.Kernels;

/// <summary>Which recurrence a <see cref="RecurrentLayerKernel"/> runs (PyTorch's <c>mode</c> of <c>RNNBase</c>).</summary>
internal enum RecurrentMode { RnnTanh, RnnRelu, Lstm, Gru }

/// <summary>
/// The fused gate pass of one time step, forward and backward, over the rows active at that step. Each function is
/// one pass over the step's pre-activations (no per-gate tensors, no autograd nodes): the activations overwrite the
/// pre-activations in place and become the saved state the backward reads. Gate layouts are PyTorch's: LSTM
/// (i, f, g, o), GRU (r, z, n), each block H wide.
/// </summary>
internal static class RecurrentGates
{
    /// <summary>tanh with Kindling's exact-at-zero operator (float) or Math.Tanh (double).</summary>
    private static void Tanh<T>(Span<T> x) where T : unmanaged => Simd.Map<TanhOperator, T>(x, x);

    private static void Sigmoid<T>(Span<T> x) where T : unmanaged, IExponentialFunctions<T> => TensorPrimitives.Sigmoid<T>(x, x);

    /// <summary>
    /// LSTM step, row by row: gates (i, f, g, o) → σ, σ, tanh, σ in place; c' = f·c + i·g; tc = tanh(c'); h = o·tc.
    /// <paramref name="c"/> is updated in place; <paramref name="tanhC"/> and <paramref name="h"/> receive tc and h.
    /// Rows are contiguous: 4·H apart in the gate buffer, H apart in the others.
    /// </summary>
    public static void LstmForward<T>(int rows, int hid, Span<T> gates, Span<T> c, Span<T> tanhC, Span<T> h) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int g4 = 4 * hid;
        for (int r = 0; r < rows; r++)
        {
            var gr = gates.Slice(r * g4, g4);
            Sigmoid(gr[..(2 * hid)]);
            Tanh(gr.Slice(2 * hid, hid));
            Sigmoid(gr.Slice(3 * hid, hid));
            var i = gr[..hid]; var f = gr.Slice(hid, hid); var g = gr.Slice(2 * hid, hid); var o = gr.Slice(3 * hid, hid);
            var cr = c.Slice(r * hid, hid); var tc = tanhC.Slice(r * hid, hid); var hr = h.Slice(r * hid, hid);
            // c' = f·c + i·g in PyTorch's order (the product f·c first, then i·g added), rounded per product.
            TensorPrimitives.Multiply<T>(f, cr, cr);
            TensorPrimitives.Multiply<T>(i, g, tc);
            TensorPrimitives.Add<T>(cr, tc, cr);
            cr.CopyTo(tc);
            Tanh(tc);
            TensorPrimitives.Multiply<T>(o, tc, hr);
        }
    }

    /// <summary>
    /// LSTM step backward. In: dh (∂ of o·tanh c', rows × H, the pre-projection h), dc (∂c' from the next step, updated in
    /// place to ∂c), the saved activations, c (the previous cell state) and tc. Out: dG rows (∂ of the four
    /// pre-activations). ∂c_tot = dc + dh·o·(1 − tc²); ∂o = dh·tc·o(1−o); ∂i = ∂c_tot·g·i(1−i); ∂g = ∂c_tot·i·(1−g²);
    /// ∂f = ∂c_tot·c·f(1−f); ∂c = ∂c_tot·f.
    /// </summary>
    public static void LstmBackward<T>(int rows, int hid, ReadOnlySpan<T> dh, Span<T> dc, ReadOnlySpan<T> gates, ReadOnlySpan<T> cPrev, ReadOnlySpan<T> tanhC, Span<T> dG)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int g4 = 4 * hid, w = Vector<T>.Count;
        T one = T.One;
        var vone = Vector<T>.One;
        for (int r = 0; r < rows; r++)
        {
            int gb = r * g4, hb = r * hid, j = 0;
            // Vector<T> lanes first (the same formulas, the same rounding per element), then the tail.
            for (; j <= hid - w; j += w)
            {
                var i = new Vector<T>(gates.Slice(gb + j, w)); var f = new Vector<T>(gates.Slice(gb + hid + j, w));
                var g = new Vector<T>(gates.Slice(gb + 2 * hid + j, w)); var o = new Vector<T>(gates.Slice(gb + 3 * hid + j, w));
                var tc = new Vector<T>(tanhC.Slice(hb + j, w)); var d = new Vector<T>(dh.Slice(hb + j, w));
                var dct = new Vector<T>(dc.Slice(hb + j, w)) + d * o * (vone - tc * tc);
                (d * tc * o * (vone - o)).CopyTo(dG.Slice(gb + 3 * hid + j, w));
                (dct * g * i * (vone - i)).CopyTo(dG.Slice(gb + j, w));
                (dct * i * (vone - g * g)).CopyTo(dG.Slice(gb + 2 * hid + j, w));
                (dct * new Vector<T>(cPrev.Slice(hb + j, w)) * f * (vone - f)).CopyTo(dG.Slice(gb + hid + j, w));
                (dct * f).CopyTo(dc.Slice(hb + j, w));
            }
            for (; j < hid; j++)
            {
                T i = gates[gb + j], f = gates[gb + hid + j], g = gates[gb + 2 * hid + j], o = gates[gb + 3 * hid + j];
                T tc = tanhC[hb + j], d = dh[hb + j];
                T dct = dc[hb + j] + d * o * (one - tc * tc);
                dG[gb + 3 * hid + j] = d * tc * o * (one - o);
                dG[gb + j] = dct * g * i * (one - i);
                dG[gb + 2 * hid + j] = dct * i * (one - g * g);
                dG[gb + hid + j] = dct * cPrev[hb + j] * f * (one - f);
                dc[hb + j] = dct * f;
            }
        }
    }

    /// <summary>
    /// GRU step: gi holds x·W_ihᵀ + b_ih with b_hr, b_hz already added to its r, z blocks; hh holds h·W_hhᵀ (+ b_hn in
    /// its n block, the part r multiplies). r = σ(gi_r + hh_r), z = σ(gi_z + hh_z), n = tanh(gi_n + r·hh_n),
    /// h' = (1 − z)·n + z·h, computed as (h − n)·z + n. gi's rows become (r, z, n); h is updated in place; hh_n is kept (the
    /// backward needs it) in <paramref name="hhN"/>.
    /// </summary>
    public static void GruForward<T>(int rows, int hid, Span<T> gi, ReadOnlySpan<T> hh, Span<T> h, Span<T> hhN) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int g3 = 3 * hid;
        for (int r = 0; r < rows; r++)
        {
            var gr = gi.Slice(r * g3, g3);
            var hr = hh.Slice(r * g3, g3);
            var rz = gr[..(2 * hid)];
            TensorPrimitives.Add<T>(rz, hr[..(2 * hid)], rz);
            Sigmoid(rz);
            var n = gr.Slice(2 * hid, hid);
            var hn = hhN.Slice(r * hid, hid);
            hr.Slice(2 * hid, hid).CopyTo(hn);
            var tmp = h.Slice(r * hid, hid);
            // n = tanh(gi_n + r·hh_n); then h' = n + z·(h − n)
            for (int j = 0; j < hid; j++) n[j] += gr[j] * hn[j];
            Tanh(n);
            // PyTorch's order: (h − n)·z + n
            for (int j = 0; j < hid; j++) tmp[j] = (tmp[j] - n[j]) * gr[hid + j] + n[j];
        }
    }

    /// <summary>
    /// GRU step backward. dh: ∂h' (rows × H), replaced by the direct part z·∂h' (the caller adds dGh·W_hh). With
    /// ∂n = dh(1−z), ∂z = dh(h−n), pre-activation grads ∂n̂ = ∂n(1−n²), ∂r̂ = ∂n̂·hh_n·r(1−r), ∂ẑ = ∂z·z(1−z):
    /// dGi = (∂r̂, ∂ẑ, ∂n̂) for the input side and dGh = (∂r̂, ∂ẑ, ∂n̂·r) for the hidden side.
    /// </summary>
    public static void GruBackward<T>(int rows, int hid, Span<T> dh, ReadOnlySpan<T> gates, ReadOnlySpan<T> hPrev, ReadOnlySpan<T> hhN, Span<T> dGi, Span<T> dGh)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int g3 = 3 * hid;
        T one = T.One;
        for (int r = 0; r < rows; r++)
        {
            int gb = r * g3, hb = r * hid;
            for (int j = 0; j < hid; j++)
            {
                T rr = gates[gb + j], z = gates[gb + hid + j], n = gates[gb + 2 * hid + j];
                T d = dh[hb + j];
                T dn = d * (one - z) * (one - n * n);
                T dz = d * (hPrev[hb + j] - n) * z * (one - z);
                T dr = dn * hhN[hb + j] * rr * (one - rr);
                dGi[gb + j] = dr; dGh[gb + j] = dr;
                dGi[gb + hid + j] = dz; dGh[gb + hid + j] = dz;
                dGi[gb + 2 * hid + j] = dn; dGh[gb + 2 * hid + j] = dn * rr;
                dh[hb + j] = d * z;
            }
        }
    }

    /// <summary>Elman step: h' = tanh(pre) or relu(pre), in place over rows × H.</summary>
    public static void RnnForward<T>(bool relu, Span<T> pre) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (relu) TensorPrimitives.Max<T>(pre, T.Zero, pre);
        else Tanh(pre);
    }

    /// <summary>Elman step backward: ∂pre = dh·(1 − h²) for tanh, dh·[h &gt; 0] for relu.</summary>
    public static void RnnBackward<T>(bool relu, ReadOnlySpan<T> dh, ReadOnlySpan<T> h, Span<T> dG) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j = 0; j < dh.Length; j++)
            dG[j] = relu ? (h[j] > T.Zero ? dh[j] : T.Zero) : dh[j] * (T.One - h[j] * h[j]);
    }
}
