using System.Numerics;
using Kindling.Kernels;

namespace Kindling.NN;

/// <summary>
/// What the fused attention's backward reads (an explicit saved-state record, not captured locals): the problem (its
/// operands point into the inputs' storage, which the graph keeps alive and version-checks), the output rows, the row
/// log-sum-exp, and where each input's gradient goes.
/// </summary>
internal sealed record AttentionSaved<T>(AttentionProblem<T> Problem, AttentionOperand<T> Output, T[] Lse, int[] DOutShape,
    Func<int, AttentionOperand<T>> GradOperand, int[][] GradShapes, bool Packed)
    where T : unmanaged, IFloatingPointIeee754<T>;

public static partial class Functional
{
    /// <summary>
    /// Scaled dot-product attention (PyTorch 2's <c>F.scaled_dot_product_attention</c>):
    /// softmax(Q·Kᵀ/√E + mask)·V with dropout on the weights. query (…, L, E), key (…, S, E), value (…, S, Ev) with
    /// equal batch dimensions; output (…, L, Ev). <paramref name="attnMask"/> broadcasts to (…, L, S): a bool mask keeps
    /// the positions that are <b>true</b> (PyTorch 2's convention here; <see cref="MultiheadAttention"/>'s masks follow
    /// 1.13's nn.MultiheadAttention, where true means blocked), a float mask is added to the scores. <paramref name="isCausal"/>: query i sees keys j ≤ i (top-left aligned, as PyTorch).
    /// Without dropout this runs the blocked online-softmax kernel (<see cref="FlashAttention"/>): neither forward nor
    /// backward holds an L×S matrix. With dropout (<paramref name="dropoutP"/> &gt; 0), or a float mask that requires
    /// grad, the weights are materialised (the dropout mask and the mask's gradient need them). A row whose keys are all masked gives NaN, as PyTorch 1.13's softmax
    /// of a row of −∞ does.
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? attnMask = null, double dropoutP = 0, bool isCausal = false, Generator? generator = null)
    {
        const string W = "scaled_dot_product_attention";
        AttentionCheck.Inputs(W, query, key, value);
        if (!(dropoutP >= 0 && dropoutP <= 1)) throw new ArgumentOutOfRangeException(nameof(dropoutP), dropoutP, $"{W}: dropout_p must be in [0, 1], got {dropoutP}.");
        int L = query.Dims[^2], S = key.Dims[^2];
        var additive = attnMask == null ? null : AttentionCheck.Additive(W, "attn_mask", attnMask, query.DType, trueBlocks: false);
        if (additive != null) AttentionCheck.Broadcasts(W, "attn_mask", additive, [.. query.Dims[..^2], L, S]);
        // A mask that takes a gradient (a learned bias) needs the scores' gradient, so the weights are materialised.
        if (dropoutP > 0 || additive is { RequiresGrad: true }) return AttentionMath(query, key, value, additive, isCausal, 0, dropoutP, generator).Output;
        return query.DType == DType.Float32
            ? FusedGeneral<float>(query, key, value, additive, isCausal)
            : FusedGeneral<double>(query, key, value, additive, isCausal);
    }

    /// <summary>
    /// The materialised form (PyTorch 1.13's <c>_scaled_dot_product_attention</c>): weights = softmax(q/√E·kᵀ + mask
    /// [+ causal −∞]), dropout on the weights, output = weights·v. Used when the weights are wanted or dropped out.
    /// </summary>
    internal static (Tensor Output, Tensor Weights) AttentionMath(Tensor q, Tensor k, Tensor v, Tensor? additiveMask, bool causal, int shift, double dropoutP, Generator? generator)
    {
        int E = q.Dims[^1], L = q.Dims[^2], S = k.Dims[^2];
        var scores = Tensor.Matmul(q / Math.Sqrt(E), k.MT);
        if (additiveMask != null) scores = scores + additiveMask;
        if (causal) scores = scores + CausalMask(L, S, shift, q.DType);
        var w = scores.Softmax(-1);
        if (dropoutP > 0) w = Dropout(w, dropoutP, true, generator);
        return (Tensor.Matmul(w, v), w);
    }

    /// <summary>(L, S): 0 where key j ≤ query i + shift, −∞ elsewhere.</summary>
    internal static Tensor CausalMask(int L, int S, int shift, DType dtype)
    {
        var m = new double[L * S];
        for (int i = 0; i < L; i++)
            for (int j = i + shift + 1; j < S; j++) m[i * S + j] = double.NegativeInfinity;
        return Tensor.FromArray(m, L, S).To(dtype);
    }

    private static Tensor FusedGeneral<T>(Tensor q, Tensor k, Tensor v, Tensor? mask, bool causal) where T : unmanaged, IFloatingPointIeee754<T>
    {
        q = AttentionCheck.DenseRows(q); k = AttentionCheck.DenseRows(k); v = AttentionCheck.DenseRows(v);
        var batch = q.Dims[..^2];
        int nb = batch.Aggregate(1, (a, b) => a * b);
        int L = q.Dims[^2], E = q.Dims[^1], S = k.Dims[^2], Ev = v.Dims[^1];
        var Q = AttentionCheck.Operand<T>(q, batch.Length);
        var K = AttentionCheck.Operand<T>(k, batch.Length);
        var V = AttentionCheck.Operand<T>(v, batch.Length);
        AttentionOperand<T>? M = mask == null ? null : AttentionCheck.Operand<T>(mask.Expand([.. batch, L, S]), batch.Length);
        var p = new AttentionProblem<T>(nb, L, S, E, Ev, T.One / T.Sqrt(T.CreateChecked(E)), Q, K, V, M, causal);
        var y = Tensor.Uninit([.. batch, L, Ev], q.DType); // every row is written by the kernel
        var O = AttentionCheck.Dense<T>((T[])y.Storage.Data, nb, L * Ev, Ev);
        var lse = BufferPool.Rent<T>(nb * L);
        FlashAttention.Forward(p, O, lse);
        int[][] shapes = [q.Shape, k.Shape, v.Shape];
        var saved = new AttentionSaved<T>(p, O, lse, y.Shape, i => AttentionCheck.Dense<T>(null!, nb, shapes[i][^2] * shapes[i][^1], shapes[i][^1]), shapes, false);
        return Autograd.ReleaseScratchWithGraph(
            Autograd.Record(y, "ScaledDotProductAttentionBackward", [q, k, v], (g, sink) => AttentionBackward(saved, g, sink), q, k, v, y), lse);
    }

    /// <summary>
    /// Attention over <paramref name="heads"/> heads of (N, L, E) projections without splitting them into copies: head h
    /// reads columns h·E/H … (h+1)·E/H of every row. With <paramref name="qkv"/> (N, L, 3E), the self-attention's one
    /// packed projection, q, k and v are its three column blocks and the gradient lands in one (N, L, 3E) buffer.
    /// mask: additive, broadcastable to (N, H, L, S). Output (N, L, E), heads side by side (ready for out_proj).
    /// </summary>
    internal static Tensor AttentionHeads(Tensor? qkv, Tensor? q, Tensor? k, Tensor? v, int heads, Tensor? mask, bool causal, int shift)
    {
        var dt = (qkv ?? q)!.DType;
        return dt == DType.Float32 ? FusedHeads<float>(qkv, q, k, v, heads, mask, causal, shift) : FusedHeads<double>(qkv, q, k, v, heads, mask, causal, shift);
    }

    private static Tensor FusedHeads<T>(Tensor? qkv, Tensor? q, Tensor? k, Tensor? v, int heads, Tensor? mask, bool causal, int shift) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool packed = qkv != null;
        if (packed)
        {
            qkv = AttentionCheck.DenseRows(qkv!);
            int e3 = qkv.Dims[2];
            var d = qkv.Detach();
            (q, k, v) = (d.Narrow(2, 0, e3 / 3), d.Narrow(2, e3 / 3, e3 / 3), d.Narrow(2, 2 * e3 / 3, e3 / 3));
        }
        else { q = AttentionCheck.DenseRows(q!); k = AttentionCheck.DenseRows(k!); v = AttentionCheck.DenseRows(v!); }
        int N = q!.Dims[0], L = q.Dims[1], E = q.Dims[2], S = k!.Dims[1], hd = E / heads, nb = N * heads;
        var p = new AttentionProblem<T>(nb, L, S, hd, hd, T.One / T.Sqrt(T.CreateChecked(hd)),
            AttentionCheck.HeadOperand<T>(q, heads), AttentionCheck.HeadOperand<T>(k, heads), AttentionCheck.HeadOperand<T>(v!, heads),
            mask == null ? null : AttentionCheck.Operand<T>(mask.Expand(N, heads, L, S), 2), causal, shift);
        var y = Tensor.Uninit([N, L, E], dt(q)); // every row is written by the kernel
        var O = AttentionCheck.HeadOperand<T>(y, heads);
        var lse = BufferPool.Rent<T>(nb * L);
        FlashAttention.Forward(p, O, lse);
        Func<int, AttentionOperand<T>> grads = packed
            ? i => AttentionCheck.HeadOperand<T>(heads, N, i == 0 ? L : S, 3 * E, i * E, hd)
            : i => AttentionCheck.HeadOperand<T>(heads, N, i == 0 ? L : S, E, 0, hd);
        int[][] shapes = packed ? [qkv!.Shape] : [q.Shape, k.Shape, v!.Shape];
        var saved = new AttentionSaved<T>(p, O, lse, y.Shape, grads, shapes, packed);
        Tensor[] inputs = packed ? [qkv!] : [q, k, v!];
        return Autograd.ReleaseScratchWithGraph(
            Autograd.Record(y, "MultiheadAttentionBackward", inputs, (g, sink) => AttentionBackward(saved, g, sink), [.. inputs, y]), lse);

        static DType dt(Tensor t) => t.DType;
    }

    private static T[] Zeroed<T>(int[] shape) where T : unmanaged
    {
        var a = BufferPool.Rent<T>(shape.Aggregate(1, (x, y) => x * y));
        Array.Clear(a);
        return a;
    }

    private static void AttentionBackward<T>(AttentionSaved<T> s, Tensor g, GradSink sink) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = s.Problem;
        // The output was dense, so a dense gradient of its shape has the output operand's layout.
        var dO = AttentionCheck.Rebase(s.Output, g.Contiguous());
        // Gradients go to pooled buffers whose ownership passes to the engine (AddOwned): these tensors are LOH-sized
        // at ordinary shapes, and fresh large arrays cost more than the kernel.
        if (s.Packed)
        {
            var buf = Zeroed<T>(s.GradShapes[0]);
            FlashAttention.Backward(p, s.Output, s.Lse, dO, s.GradOperand(0) with { Data = buf }, s.GradOperand(1) with { Data = buf }, s.GradOperand(2) with { Data = buf });
            sink.AddOwned(0, Tensor.Wrap(buf, s.GradShapes[0]));
            return;
        }
        var bufs = new T[3][];
        for (int i = 0; i < 3; i++) bufs[i] = Zeroed<T>(s.GradShapes[i]);
        FlashAttention.Backward(p, s.Output, s.Lse, dO, s.GradOperand(0) with { Data = bufs[0] }, s.GradOperand(1) with { Data = bufs[1] }, s.GradOperand(2) with { Data = bufs[2] });
        for (int i = 0; i < 3; i++) sink.AddOwned(i, Tensor.Wrap(bufs[i], s.GradShapes[i]));
    }
}
