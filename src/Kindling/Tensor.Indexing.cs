namespace Kindling;

public sealed partial class Tensor
{
    private void CheckIndex(Tensor index, string op)
    {
        if (index.DType != DType.Int64) throw new ArgumentException($"{op}: index must be an int64 tensor, got {DTypeName(index.DType)}.");
    }

    /// <summary>
    /// Picks values along <paramref name="dim"/> by index (PyTorch's <c>gather</c>): for dim = 1,
    /// out[i, j] = x[i, index[i, j]]. <paramref name="index"/> has this tensor's rank and is no larger in the other dims.
    /// </summary>
    public Tensor Gather(int dim, Tensor index)
    {
        CheckIndex(index, "gather");
        int d = NormDim(dim, Rank, "gather");
        if (index.Rank != Math.Max(Rank, 1) && !(Rank == 0 && index.Rank <= 1))
            throw new ArgumentException($"gather: index has rank {index.Rank} but the input has rank {Rank} (shapes {index.ShapeString} and {ShapeString}).");
        for (int i = 0; i < index.Rank && Rank > 0; i++)
            if (i != d && index.Dims[i] > Dims[i])
                throw new ArgumentException($"gather: index {index.ShapeString} is larger than the input {ShapeString} at dimension {i}.");
        var x = Detach();
        var ic = index.Detach().Contiguous();
        var ids = ic.I64Span;
        var y = Empty(index.Dims, DType);
        var coord = new int[index.Rank];
        int size = Rank == 0 ? 1 : Dims[d];
        for (int p = 0; p < ids.Length; p++)
        {
            long v = ids[p];
            // PyTorch's gather refuses negative indices (unlike Python indexing); so does Kindling.
            if (v < 0 || v >= size) throw new ArgumentOutOfRangeException(nameof(index), $"gather: index {v} is out of range for dimension {d} of size {size} (input shape {ShapeString}); indices must be in [0, {size}).");
            int off = x.Offset;
            for (int k = 0; k < coord.Length && Rank > 0; k++) off += (k == d ? (int)v : coord[k]) * x.Strides_[k];
            CopyElement(x, off, y, p);
            Next(coord, index.Dims);
        }
        return Autograd.Record(y, "GatherBackward", [this], Derivatives.Gather(Dims, d, index));
    }

    /// <summary>
    /// A copy of <paramref name="self"/> with <paramref name="src"/> added at the positions <paramref name="index"/> names along
    /// <paramref name="dim"/> (PyTorch's <c>scatter_add</c>): for dim = 1, out[i, index[i, j]] += src[i, j]. Repeated indices accumulate.
    /// </summary>
    public static Tensor ScatterAdd(Tensor self, int dim, Tensor index, Tensor src)
    {
        self.CheckIndex(index, "scatter_add");
        int d = NormDim(dim, self.Rank, "scatter_add");
        if (index.Rank != self.Rank || src.Rank != self.Rank)
            throw new ArgumentException($"scatter_add: self {self.ShapeString}, index {index.ShapeString} and src {src.ShapeString} must have the same rank.");
        for (int i = 0; i < index.Rank; i++)
            if (index.Dims[i] > src.Dims[i] || (i != d && index.Dims[i] > self.Dims[i]))
                throw new ArgumentException($"scatter_add: index {index.ShapeString} is larger than src {src.ShapeString} or self {self.ShapeString} at dimension {i}.");
        var y = self.Detach().Clone();
        var s = src.Detach().To(self.DType);
        var ids = index.Detach().Contiguous().I64Span;
        var coord = new int[index.Rank];
        int size = self.Dims[d];
        for (int p = 0; p < ids.Length; p++)
        {
            long v = ids[p];
            if (v < 0 || v >= size) throw new ArgumentOutOfRangeException(nameof(index), $"scatter_add: index {v} is out of range for dimension {d} of size {size}; indices must be in [0, {size}).");
            int oy = 0, os = s.Offset;
            for (int k = 0; k < coord.Length; k++) { oy += (k == d ? (int)v : coord[k]) * y.Strides_[k]; os += coord[k] * s.Strides_[k]; }
            AddElement(s, os, y, oy);
            Next(coord, index.Dims);
        }
        return Autograd.Record(y, "ScatterAddBackward", [self, src], Derivatives.ScatterAdd(d, index));
    }

    /// <summary>The slices at the given indices along <paramref name="dim"/> (PyTorch's <c>index_select</c>); <paramref name="index"/> is 1-D int64.</summary>
    public Tensor IndexSelect(int dim, Tensor index)
    {
        CheckIndex(index, "index_select");
        if (index.Rank > 1) throw new ArgumentException($"index_select: index must be 1-D, got shape {index.ShapeString}.");
        int d = NormDim(dim, Rank, "index_select");
        var ids = index.Detach().Contiguous().I64Span.ToArray();
        if (d == 0 && Rank >= 1) return IndexRows(ids);
        var parts = new Tensor[ids.Length];
        var x = Detach();
        for (int i = 0; i < ids.Length; i++)
        {
            long v = ids[i];
            // PyTorch's index_select refuses negative indices ("index out of range in self"); so does Kindling.
            if (v < 0 || v >= Dims[d]) throw new ArgumentOutOfRangeException(nameof(index), $"index_select: index {v} is out of range for dimension {d} of size {Dims[d]} (shape {ShapeString}); indices must be in [0, {Dims[d]}).");
            parts[i] = x.Narrow(d, (int)v, 1);
        }
        Tensor y;
        if (parts.Length > 0) y = Cat(parts, d);
        else { var s = (int[])Dims.Clone(); s[d] = 0; y = Empty(s, DType); }
        return Autograd.Record(y, "IndexSelectBackward", [this], Derivatives.IndexSelect(Dims, d, ids));
    }

    /// <summary>Rows by index along dim 0 as whole-row copies (the batch gather of a data loader).</summary>
    private Tensor IndexRows(long[] ids)
    {
        var x = Detach().Contiguous();
        int n = Dims[0], row = n == 0 ? 0 : NumEl / n;
        var shape = (int[])Dims.Clone();
        shape[0] = ids.Length;
        var y = Empty(shape, DType);
        for (int i = 0; i < ids.Length; i++)
        {
            long v = ids[i];
            if (v < 0 || v >= n) throw new ArgumentOutOfRangeException("index", $"index_select: index {v} is out of range for dimension 0 of size {n} (shape {ShapeString}); indices must be in [0, {n}).");
            Array.Copy(x.Storage.Data, x.Offset + (int)v * row, y.Storage.Data, i * row, row);
        }
        return Autograd.Record(y, "IndexSelectBackward", [this], Derivatives.IndexSelect(Dims, 0, ids));
    }

    /// <summary>One-hot encoding of an int64 tensor: a new last dimension of <paramref name="numClasses"/> (−1: max + 1), int64.</summary>
    public static Tensor OneHot(Tensor labels, int numClasses = -1)
    {
        labels.CheckIndex(labels, "one_hot");
        var ids = labels.Contiguous().I64Span;
        long max = -1;
        foreach (var v in ids)
        {
            if (v < 0) throw new ArgumentException($"one_hot: class values must be non-negative, got {v}.");
            max = Math.Max(max, v);
        }
        int c = numClasses < 0 ? (int)(max + 1) : numClasses;
        if (max >= c) throw new ArgumentException($"one_hot: class value {max} is out of range for {c} classes.");
        var y = Empty([.. labels.Dims, c], DType.Int64);
        var ys = y.I64Span;
        for (int i = 0; i < ids.Length; i++) ys[i * c + (int)ids[i]] = 1;
        return y;
    }

    /// <summary>Concatenates tensors along <paramref name="dim"/>; all other sizes must match.</summary>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("cat: expected a non-empty list of tensors.");
        var first = tensors[0];
        int d = NormDim(dim, first.Rank, "cat");
        var dt = first.DType;
        int total = 0;
        for (int t = 0; t < tensors.Count; t++)
        {
            var x = tensors[t];
            if (x.Rank != first.Rank) throw new ArgumentException($"cat: tensor {t} has rank {x.Rank} ({x.ShapeString}) but tensor 0 has rank {first.Rank} ({first.ShapeString}).");
            if (x.DType != dt) throw new ArgumentException($"cat: tensor {t} is {DTypeName(x.DType)} but tensor 0 is {DTypeName(dt)}.");
            for (int i = 0; i < x.Rank; i++)
                if (i != d && x.Dims[i] != first.Dims[i])
                    throw new ArgumentException($"cat: sizes must match except in dimension {d}; tensor {t} has shape {x.ShapeString}, tensor 0 {first.ShapeString}.");
            total += x.Dims[d];
        }
        var shape = (int[])first.Dims.Clone();
        shape[d] = total;
        var y = Empty(shape, dt);
        int at = 0;
        var sizes = new int[tensors.Count];
        for (int t = 0; t < tensors.Count; t++)
        {
            sizes[t] = tensors[t].Dims[d];
            if (sizes[t] > 0) CopyInto(tensors[t].Detach(), y.Narrow(d, at, sizes[t]));
            at += sizes[t];
        }
        return Autograd.Record(y, "CatBackward", tensors.ToArray(), Derivatives.Cat(sizes, d));
    }

    /// <summary>Stacks equal-shaped tensors along a new dimension <paramref name="dim"/>.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("stack: expected a non-empty list of tensors.");
        for (int t = 1; t < tensors.Count; t++)
            if (!tensors[t].Dims.AsSpan().SequenceEqual(tensors[0].Dims))
                throw new ArgumentException($"stack: all tensors must have the same shape; tensor {t} is {tensors[t].ShapeString}, tensor 0 is {tensors[0].ShapeString}.");
        int d = NormDim(dim, tensors[0].Rank + 1, "stack");
        return Cat(tensors.Select(x => x.Unsqueeze(d)).ToArray(), d);
    }

    /// <summary>Bool mask of finite elements.</summary>
    public Tensor IsFinite() => MapBool(double.IsFinite);

    /// <summary>Bool mask of NaN elements.</summary>
    public Tensor IsNaN() => MapBool(double.IsNaN);

    /// <summary>Elementwise logical not of a bool mask.</summary>
    public Tensor LogicalNot() => MapBool(v => v == 0);

    /// <summary>Elementwise logical and of two bool masks (broadcast).</summary>
    public Tensor LogicalAnd(Tensor other) => Mul(To(DType.Int64), other.To(DType.Int64)).Ne(0);

    private Tensor MapBool(Func<double, bool> f)
    {
        var v = ToDoubleArray();
        var r = new bool[v.Length];
        for (int i = 0; i < v.Length; i++) r[i] = f(v[i]);
        return new Tensor(r, Shape, DType.Bool);
    }

    /// <summary>True when any element is true (or non-zero).</summary>
    public bool Any() => ToDoubleArray().Any(v => v != 0);

    // ---------------------------------------------------------------- element helpers

    private static void Next(int[] coord, int[] dims)
    {
        for (int k = coord.Length - 1; k >= 0; k--)
        {
            if (++coord[k] < dims[k]) return;
            coord[k] = 0;
        }
    }

    private static void CopyElement(Tensor src, int so, Tensor dst, int dp)
    {
        switch (src.DType)
        {
            case DType.Float32: ((float[])dst.Storage.Data)[dst.Offset + dp] = ((float[])src.Storage.Data)[so]; break;
            case DType.Float64: ((double[])dst.Storage.Data)[dst.Offset + dp] = ((double[])src.Storage.Data)[so]; break;
            case DType.Int64: ((long[])dst.Storage.Data)[dst.Offset + dp] = ((long[])src.Storage.Data)[so]; break;
            default: ((bool[])dst.Storage.Data)[dst.Offset + dp] = ((bool[])src.Storage.Data)[so]; break;
        }
    }

    private static void AddElement(Tensor src, int so, Tensor dst, int dofs)
    {
        switch (dst.DType)
        {
            case DType.Float32: ((float[])dst.Storage.Data)[dst.Offset + dofs] += ((float[])src.Storage.Data)[so]; break;
            case DType.Float64: ((double[])dst.Storage.Data)[dst.Offset + dofs] += ((double[])src.Storage.Data)[so]; break;
            case DType.Int64: ((long[])dst.Storage.Data)[dst.Offset + dofs] += ((long[])src.Storage.Data)[so]; break;
            default: throw new ArgumentException("scatter_add: bool tensors are not supported.");
        }
    }
}
