namespace Kindling;

/// <summary>
/// Reductions of expanded (broadcast, stride-0) views without materialising them. An element repeated along a
/// broadcast dimension stands for all its copies, so the reduction runs over the view with those dimensions narrowed
/// to size 1 (the "core") and counts each element k times: Σ over a 20000×20000 view of one value is that value × 4·10⁸,
/// exact to one rounding, instead of 1.6 GB of copies summed.
/// </summary>
public sealed partial class Tensor
{
    /// <summary>
    /// The view with every broadcast dimension (stride 0, size &gt; 1) narrowed to size 1, and k = the product of
    /// their sizes (1 when there is none). No graph is recorded.
    /// </summary>
    internal (Tensor Core, long Copies) Unexpanded()
    {
        long k = 1;
        int[]? dims = null;
        for (int i = 0; i < Rank; i++)
            if (Strides_[i] == 0 && Dims[i] > 1)
            {
                dims ??= (int[])Dims.Clone();
                k *= Dims[i];
                dims[i] = 1;
            }
        return dims == null ? (this, 1) : (new Tensor(Storage, Offset, dims, Strides_, DType), k);
    }

    /// <summary>
    /// The core of <see cref="Unexpanded"/> recorded as an operation, for reductions that are symmetric in all
    /// elements (whole-tensor variance, norms): the gradient of each of the k copies is the core element's gradient / k,
    /// which Expand's backward sums back to the core element's.
    /// </summary>
    private Tensor UnexpandedForWholeReduction(out long copies)
    {
        var (core, k) = Unexpanded();
        copies = k;
        if (k == 1) return this;
        double inv = 1.0 / k;
        return Autograd.Record(core, "UnexpandBackward", [this], (g, s) => s.Add(0, (g * inv).Expand(Dims)));
    }

    /// <summary>Σ along d without a graph, broadcast dimensions summed as count × value (see the class summary).</summary>
    private Tensor SumRawExpanded(int d, bool keepDim)
    {
        var (core, _) = Unexpanded();
        var yc = core.ReduceRaw(Kernels.ReduceOp.Sum, d, keepDim: true, "sum");
        if (Strides_[d] == 0 && Dims[d] > 1) ScaleRaw(yc, Dims[d]);
        var kept = (int[])Dims.Clone();
        kept[d] = 1;
        var y = yc.Expand(kept).Contiguous();
        return keepDim ? y : y.Reshape(ReducedShape(d, false));
    }

    /// <summary>Multiplies a freshly computed (unshared) result by a count, in place.</summary>
    private static void ScaleRaw(Tensor t, long k)
    {
        switch (t.DType)
        {
            case DType.Float32: { var s = t.F32Span; for (int i = 0; i < s.Length; i++) s[i] = (float)(s[i] * (double)k); break; }
            case DType.Float64: { var s = t.F64Span; double f = k; for (int i = 0; i < s.Length; i++) s[i] *= f; break; }
            case DType.Int64: { var s = t.I64Span; for (int i = 0; i < s.Length; i++) s[i] *= k; break; }
            default: throw new ArgumentException($"sum: unsupported type {DTypeName(t.DType)}.");
        }
    }
}
