namespace Kindling;

public sealed partial class Tensor
{
    private Tensor ViewOf(int offset, int[] shape, int[] strides) => new(Storage, offset, shape, strides, DType);

    /// <summary>
    /// The same elements with another shape (one dimension may be -1 and is inferred). A view when the layout allows,
    /// else a copy, like PyTorch's <c>reshape</c>.
    /// </summary>
    public Tensor Reshape(params int[] shape)
    {
        var target = InferShape(shape, "reshape");
        var src = IsContiguous ? this : Contiguous();
        var y = src.ViewOf(src.Offset, target, ContiguousStrides(target));
        return Autograd.Record(y, "ViewBackward", [src], Derivatives.View(src.Dims));
    }

    /// <summary>Like <see cref="Reshape"/>, but fails instead of copying when the tensor is not contiguous (PyTorch's <c>view</c>).</summary>
    public Tensor View(params int[] shape)
    {
        if (!IsContiguous)
            throw new InvalidOperationException($"View: the tensor of shape {ShapeString} is not contiguous (for example after Transpose); use Reshape, or Contiguous() first.");
        return Reshape(shape);
    }

    private int[] InferShape(int[] shape, string op)
    {
        var s = (int[])shape.Clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"{op}: only one dimension can be -1, got {ShapeStr(shape)}.");
                infer = i;
            }
            else if (s[i] < 0) throw new ArgumentException($"{op}: invalid dimension {s[i]} in {ShapeStr(shape)}.");
            else known *= s[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || NumEl % known != 0)
                throw new ArgumentException($"{op}: shape {ShapeStr(shape)} is invalid for a tensor of {NumEl} elements (shape {ShapeString}).");
            s[infer] = (int)(NumEl / known);
        }
        else if (known != NumEl)
            throw new ArgumentException($"{op}: shape {ShapeStr(shape)} is invalid for a tensor of {NumEl} elements (shape {ShapeString}).");
        return s;
    }

    /// <summary>Flattens dimensions startDim..endDim into one (defaults: all).</summary>
    public Tensor Flatten(int startDim = 0, int endDim = -1)
    {
        if (Rank == 0) return Reshape(1);
        int s = NormDim(startDim, Rank, "flatten"), e = NormDim(endDim, Rank, "flatten");
        if (s > e) throw new ArgumentException($"flatten: startDim {startDim} comes after endDim {endDim}.");
        var shape = new List<int>();
        for (int i = 0; i < s; i++) shape.Add(Dims[i]);
        int m = 1;
        for (int i = s; i <= e; i++) m *= Dims[i];
        shape.Add(m);
        for (int i = e + 1; i < Rank; i++) shape.Add(Dims[i]);
        return Reshape(shape.ToArray());
    }

    /// <summary>Removes dimension <paramref name="dim"/> if it has size 1 (or every size-1 dimension when null).</summary>
    public Tensor Squeeze(int? dim = null)
    {
        if (dim is int d0)
        {
            int d = NormDim(d0, Rank, "squeeze");
            if (Rank == 0 || Dims[d] != 1) return this;
            return Reshape(Dims.Where((_, i) => i != d).ToArray());
        }
        return Reshape(Dims.Where(x => x != 1).ToArray());
    }

    /// <summary>Inserts a size-1 dimension at <paramref name="dim"/> (in -(rank+1)..rank).</summary>
    public Tensor Unsqueeze(int dim)
    {
        int d = NormDim(dim, Rank + 1, "unsqueeze");
        var s = Dims.ToList();
        s.Insert(d, 1);
        return Reshape(s.ToArray());
    }

    /// <summary>Swaps two dimensions (a view).</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        if (Rank == 0) return this;
        int a = NormDim(dim0, Rank, "transpose"), b = NormDim(dim1, Rank, "transpose");
        var perm = Enumerable.Range(0, Rank).ToArray();
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(perm);
    }

    /// <summary>The transpose of a matrix (rank ≤ 2), like PyTorch's <c>.T</c> / <c>t()</c>.</summary>
    public Tensor T
    {
        get
        {
            if (Rank > 2) throw new InvalidOperationException($"T: expects a tensor of rank ≤ 2, got shape {ShapeString}; use Transpose(dim0, dim1) or Permute.");
            return Rank < 2 ? this : Transpose(0, 1);
        }
    }

    /// <summary>Reorders dimensions (a view): result dim i is input dim <paramref name="dims"/>[i].</summary>
    public Tensor Permute(params int[] dims)
    {
        if (dims.Length != Rank) throw new ArgumentException($"permute: got {dims.Length} dimensions for a tensor of rank {Rank} (shape {ShapeString}).");
        var seen = new bool[Rank];
        var p = new int[Rank];
        for (int i = 0; i < Rank; i++)
        {
            p[i] = NormDim(dims[i], Rank, "permute");
            if (seen[p[i]]) throw new ArgumentException($"permute: dimension {p[i]} repeats in {ShapeStr(dims)}.");
            seen[p[i]] = true;
        }
        var shape = new int[Rank];
        var strides = new int[Rank];
        var inv = new int[Rank];
        for (int i = 0; i < Rank; i++) { shape[i] = Dims[p[i]]; strides[i] = Strides_[p[i]]; inv[p[i]] = i; }
        var y = ViewOf(Offset, shape, strides);
        return Autograd.Record(y, "PermuteBackward", [this], Derivatives.Permute(inv));
    }

    /// <summary>
    /// Elements start, start+step, ... below end along <paramref name="dim"/> (a view; Python's <c>x[:, start:end:step]</c>).
    /// Negative start/end count from the end; out-of-range bounds are clamped as in Python.
    /// </summary>
    public Tensor Slice(int dim, int start, int? end = null, int step = 1)
    {
        int d = NormDim(dim, Rank, "slice");
        if (Rank == 0) throw new ArgumentException("slice: cannot slice a rank-0 tensor.");
        if (step <= 0) throw new ArgumentException($"slice: step must be positive, got {step}.");
        int n = Dims[d];
        int s = start < 0 ? Math.Max(0, start + n) : Math.Min(start, n);
        int e = end is int e0 ? (e0 < 0 ? Math.Max(0, e0 + n) : Math.Min(e0, n)) : n;
        int len = e > s ? (e - s + step - 1) / step : 0;
        var shape = (int[])Dims.Clone();
        var strides = (int[])Strides_.Clone();
        shape[d] = len;
        strides[d] *= step;
        var y = ViewOf(Offset + s * Strides_[d], shape, strides);
        return Autograd.Record(y, "SliceBackward", [this], Derivatives.Slice(Dims, d, s, e, step));
    }

    /// <summary><paramref name="length"/> elements from <paramref name="start"/> along <paramref name="dim"/> (a view); bounds must fit.</summary>
    public Tensor Narrow(int dim, int start, int length)
    {
        int d = NormDim(dim, Rank, "narrow");
        if (start < 0) start += Dims[d];
        if (start < 0 || length < 0 || start + length > Dims[d])
            throw new ArgumentOutOfRangeException(nameof(start), $"narrow: start {start} and length {length} do not fit dimension {d} of size {Dims[d]} (shape {ShapeString}).");
        return Slice(d, start, start + length);
    }

    /// <summary>The slice at <paramref name="index"/> along <paramref name="dim"/>, with that dimension removed (a view).</summary>
    public Tensor Select(int dim, int index)
    {
        int d = NormDim(dim, Rank, "select");
        int n = Dims[d];
        if (index < -n || index >= n) throw new ArgumentOutOfRangeException(nameof(index), $"select: index {index} is out of range for dimension {d} of size {n} (shape {ShapeString}).");
        if (index < 0) index += n;
        return Slice(d, index, index + 1).Squeeze(d);
    }

    /// <summary>Broadcasts size-1 dimensions to <paramref name="shape"/> without copying (-1 keeps a size).</summary>
    public Tensor Expand(params int[] shape)
    {
        if (shape.Length < Rank) throw new ArgumentException($"expand: target {ShapeStr(shape)} has fewer dimensions than the tensor {ShapeString}.");
        var strides = new int[shape.Length];
        var target = (int[])shape.Clone();
        int lead = shape.Length - Rank;
        for (int i = 0; i < shape.Length; i++)
        {
            int src = i - lead;
            if (src < 0) { if (target[i] < 0) throw new ArgumentException($"expand: -1 is not allowed for a new leading dimension ({ShapeStr(shape)})."); strides[i] = 0; continue; }
            if (target[i] == -1) target[i] = Dims[src];
            if (Dims[src] == target[i]) strides[i] = Strides_[src];
            else if (Dims[src] == 1) strides[i] = 0;
            else throw new ArgumentException($"expand: the size {Dims[src]} of dimension {src} (shape {ShapeString}) must match {target[i]} or be 1.");
        }
        Numel(target, "expand");
        var y = ViewOf(Offset, target, strides);
        return Autograd.Record(y, "ExpandBackward", [this], Derivatives.Expand(Dims));
    }

    /// <summary>Copies <paramref name="src"/> (any layout, same shape) into the possibly strided view <paramref name="dst"/>.</summary>
    internal static void CopyInto(Tensor src, Tensor dst)
    {
        if (!src.Dims.AsSpan().SequenceEqual(dst.Dims))
            throw new ArgumentException($"copy: source shape {src.ShapeString} differs from destination shape {dst.ShapeString}.");
        var s = src.DType == dst.DType ? src.Contiguous() : src.To(dst.DType).Contiguous();
        if (dst.IsContiguous) { CopyStrided(s, new Tensor(dst.Storage, dst.Offset, dst.Dims, ContiguousStrides(dst.Dims), dst.DType)); return; }
        switch (dst.DType)
        {
            case DType.Float32: Scatter<float>(s.F32Span, dst); break;
            case DType.Float64: Scatter<double>(s.F64Span, dst); break;
            case DType.Int64: Scatter<long>(s.I64Span, dst); break;
            case DType.UInt8: Scatter<byte>(s.Span<byte>(), dst); break;
            default: Scatter<bool>(s.BoolSpan, dst); break;
        }
    }

    private static void Scatter<T>(ReadOnlySpan<T> src, Tensor dst) where T : unmanaged
    {
        var data = (T[])dst.Storage.Data;
        int n = dst.NumEl;
        if (n == 0) return;
        var idx = new int[dst.Rank];
        for (int pos = 0; pos < n; pos++)
        {
            int off = dst.Offset;
            for (int d = 0; d < dst.Rank; d++) off += idx[d] * dst.Strides_[d];
            data[off] = src[pos];
            for (int d = dst.Rank - 1; d >= 0; d--)
            {
                if (++idx[d] < dst.Dims[d]) break;
                idx[d] = 0;
            }
        }
    }
}
