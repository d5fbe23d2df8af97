using System.Numerics;
using Kindling.Kernels;

namespace Kindling.NN;

public static partial class Functional
{
    /// <summary>
    /// One recurrent layer in one direction over a packed batch, as one fused autograd node (the kernel is
    /// <see cref="RecurrentLayerKernel"/>). x (N, I) holds the time steps' rows back to back, step t being the
    /// <paramref name="batchSizes"/>[t] rows after the previous steps' (PyTorch's PackedSequence data); h0 (B, P) and, for
    /// LSTM, c0 (B, H) with B = batchSizes[0]. Returns out (N, P), hN (B, P) and cN (B, H) (null unless LSTM), where
    /// each batch entry's final state is the one after its own last step. The three are views of one buffer the node
    /// writes, so their gradients reach the same backward.
    /// </summary>
    internal static (Tensor Out, Tensor HN, Tensor? CN) RecurrentLayer(RecurrentMode mode, Tensor x, int[] batchSizes, bool reverse,
        Tensor h0, Tensor? c0, Tensor wih, Tensor whh, Tensor? bih, Tensor? bhh, Tensor? whr)
    {
        int hid = whh.Dims[0] / (mode switch { RecurrentMode.Lstm => 4, RecurrentMode.Gru => 3, _ => 1 });
        var plan = new RecurrentPlan(mode, x.Dims[1], hid, whh.Dims[1], batchSizes, reverse);
        return x.DType == DType.Float32
            ? RecurrentLayer<float>(plan, x, h0, c0, wih, whh, bih, bhh, whr)
            : RecurrentLayer<double>(plan, x, h0, c0, wih, whh, bih, bhh, whr);
    }

    private static (Tensor, Tensor, Tensor?) RecurrentLayer<T>(RecurrentPlan p, Tensor x, Tensor h0, Tensor? c0, Tensor wih, Tensor whh, Tensor? bih, Tensor? bhh, Tensor? whr)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool lstm = p.Mode == RecurrentMode.Lstm;
        int n = p.N, b = p.B, P = p.P, hid = p.H;
        int outLen = n * P, hLen = b * P, cLen = lstm ? b * hid : 0;
        var y = BufferPool.Rent<T>(outLen + hLen + cLen);
        var ya = y.AsSpan();
        var saved = RecurrentLayerKernel.Forward<T>(p, x.DenseData<T>(), h0.DenseData<T>(), lstm ? c0!.DenseData<T>() : default,
            wih.DenseData<T>(), whh.DenseData<T>(), bih?.DenseData<T>(), bhh?.DenseData<T>(), whr?.DenseData<T>(),
            ya[..outLen], ya.Slice(outLen, hLen), ya.Slice(outLen + hLen, cLen));

        // Inputs in a fixed order; absent ones get index −1.
        var inputs = new List<Tensor>();
        int Add(Tensor? t) { if (t == null) return -1; inputs.Add(t); return inputs.Count - 1; }
        var ix = new RecurrentInputs(Add(x), Add(h0), Add(lstm ? c0 : null), Add(wih), Add(whh), Add(bih), Add(bhh), Add(whr));
        var kept = whr == null ? new[] { x, wih, whh } : new[] { x, wih, whh, whr };
        string name = p.Mode switch { RecurrentMode.Lstm => "LstmBackward", RecurrentMode.Gru => "GruBackward", _ => "RnnBackward" };
        var flat = Autograd.Record(Tensor.Wrap(y, [y.Length]), name, inputs.ToArray(), (g, sink) => RecurrentBackward(p, saved, ix, g, sink), kept);
        Autograd.ReleaseScratchWithGraph(flat, saved.Pooled());
        var o = flat.Narrow(0, 0, outLen).View(n, P);
        var hn = flat.Narrow(0, outLen, hLen).View(b, P);
        var cn = lstm ? flat.Narrow(0, outLen + hLen, cLen).View(b, hid) : null;
        return (o, hn, cn);
    }

    /// <summary>Where each input of a recurrent node sits in its input list (−1: absent).</summary>
    private sealed record RecurrentInputs(int X, int H0, int C0, int Wih, int Whh, int Bih, int Bhh, int Whr);

    /// <summary>
    /// Backward of <see cref="RecurrentLayer"/>: the reverse walk gives every step's gate gradients, then
    /// ∂x = dGi·W_ih, ∂W_ih = dGiᵀ·x, ∂W_hh = dGhᵀ·h_prev, ∂b_ih = Σ dGi, ∂b_hh = Σ dGh, ∂W_hr = dOutᵀ·(o·tanh c), each one
    /// GEMM or blocked column sum over all N rows, written straight into the gradient buffers.
    /// </summary>
    private static void RecurrentBackward<T>(RecurrentPlan p, RecurrentSaved<T> s, RecurrentInputs ix, Tensor g, GradSink sink)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = p.N, b = p.B, P = p.P, hid = p.H, gh = p.GH, I = p.I;
        var gd = g.DenseData<T>().AsSpan();
        bool lstm = p.Mode == RecurrentMode.Lstm;
        var sg = RecurrentLayerKernel.BackwardSteps<T>(p, s, gd[..(n * P)], gd.Slice(n * P, b * P), lstm ? gd.Slice(n * P + b * P, b * hid) : default);
        if (ix.X >= 0 && sink.Needs(ix.X) && I > 0)
        {
            var dx = sink.Into<T>(ix.X, out bool acc);
            RecurrentLayerKernel.Mm<T>(false, false, n, I, gh, sg.DGi, gh, s.Wih, I, dx, I, acc);
        }
        if (ix.H0 >= 0 && sink.Needs(ix.H0)) sink.Add(ix.H0, Tensor.Wrap(sg.Dh0.AsSpan(0, b * P).ToArray(), [b, P]));
        if (ix.C0 >= 0 && sink.Needs(ix.C0)) sink.Add(ix.C0, Tensor.Wrap(sg.Dc0!.AsSpan(0, b * hid).ToArray(), [b, hid]));
        if (sink.Needs(ix.Wih))
        {
            var dw = sink.Into<T>(ix.Wih, out bool acc);
            if (I > 0) RecurrentLayerKernel.Mm<T>(true, false, gh, I, n, sg.DGi, gh, s.X, I, dw, I, acc);
        }
        if (sink.Needs(ix.Whh))
        {
            var dw = sink.Into<T>(ix.Whh, out bool acc);
            RecurrentLayerKernel.Mm<T>(true, false, gh, P, n, sg.DGh, gh, s.HPrev, P, dw, P, acc);
        }
        if (ix.Bih >= 0 && sink.Needs(ix.Bih)) { var db = sink.Into<T>(ix.Bih, out bool acc); RecurrentLayerKernel.ColumnSum<T>(sg.DGi, n, gh, db, acc); }
        if (ix.Bhh >= 0 && sink.Needs(ix.Bhh)) { var db = sink.Into<T>(ix.Bhh, out bool acc); RecurrentLayerKernel.ColumnSum<T>(sg.DGh, n, gh, db, acc); }
        if (ix.Whr >= 0 && sink.Needs(ix.Whr))
        {
            var dw = sink.Into<T>(ix.Whr, out bool acc);
            RecurrentLayerKernel.Mm<T>(true, false, P, hid, n, sg.DProj!, P, s.HPre!, hid, dw, hid, acc);
        }
        BufferPool.Return(sg.DGi);
        if (!ReferenceEquals(sg.DGh, sg.DGi)) BufferPool.Return(sg.DGh);
        if (sg.DProj != null) BufferPool.Return(sg.DProj);
    }
}
