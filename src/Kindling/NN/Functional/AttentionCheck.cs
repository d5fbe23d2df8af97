using System.Numerics;
using Kindling.Kernels;

namespace Kindling.NN;

/// <summary>Validation and operand layout shared by the attention functions (one message style for every check).</summary>
internal static class AttentionCheck
{
    /// <summary>query (…, L, E), key (…, S, E), value (…, S, Ev): floating point, one dtype, equal batch dimensions.</summary>
    public static void Inputs(string who, Tensor q, Tensor k, Tensor v)
    {
        foreach (var (n, t) in new[] { ("query", q), ("key", k), ("value", v) })
        {
            if (!t.IsFloatingPoint) throw new ArgumentException($"{who}: {n} must be float32 or float64, got {t.DType}.", n);
            if (t.Rank < 2) throw new ArgumentException($"{who}: {n} must have at least 2 dimensions (…, length, features), got {t.ShapeString}.", n);
        }
        if (k.DType != q.DType || v.DType != q.DType) throw new ArgumentException($"{who}: query, key and value must share a dtype, got {q.DType}, {k.DType} and {v.DType}.");
        if (k.Rank != q.Rank || v.Rank != q.Rank || !k.Shape[..^2].SequenceEqual(q.Shape[..^2]) || !v.Shape[..^2].SequenceEqual(q.Shape[..^2]))
            throw new ArgumentException($"{who}: query {q.ShapeString}, key {k.ShapeString} and value {v.ShapeString} must have the same batch dimensions (all but the last two).");
        if (k.Dims[^1] != q.Dims[^1]) throw new ArgumentException($"{who}: key's last dimension {k.Dims[^1]} must equal query's {q.Dims[^1]} (key {k.ShapeString}, query {q.ShapeString}).");
        if (v.Dims[^2] != k.Dims[^2]) throw new ArgumentException($"{who}: value's length {v.Dims[^2]} must equal key's {k.Dims[^2]} (value {v.ShapeString}, key {k.ShapeString}).");
    }

    /// <summary>
    /// A mask as scores to add: a bool mask becomes 0 / −∞ (−∞ where true when <paramref name="trueBlocks"/>, as in
    /// nn.MultiheadAttention; where false otherwise, as in F.scaled_dot_product_attention); a float mask is used as given.
    /// </summary>
    public static Tensor Additive(string who, string name, Tensor mask, DType dtype, bool trueBlocks)
    {
        if (mask.DType == DType.Bool)
        {
            var blocked = trueBlocks ? mask : mask.LogicalNot();
            return Tensor.Where(blocked, Tensor.Scalar(double.NegativeInfinity, dtype), Tensor.Scalar(0, dtype));
        }
        if (!mask.IsFloatingPoint) throw new ArgumentException($"{who}: {name} must be bool or floating point, got {mask.DType}.", name);
        return mask.DType == dtype ? mask : mask.To(dtype);
    }

    /// <summary>Throws unless <paramref name="mask"/> broadcasts to exactly <paramref name="target"/>.</summary>
    public static void Broadcasts(string who, string name, Tensor mask, int[] target)
    {
        bool ok = mask.Rank <= target.Length;
        for (int i = 1; ok && i <= mask.Rank; i++) ok = mask.Dims[^i] == 1 || mask.Dims[^i] == target[^i];
        if (!ok) throw new ArgumentException($"{who}: {name} {mask.ShapeString} must broadcast to {Tensor.ShapeStr(target)}.", name);
    }

    /// <summary>The tensor itself when its rows are dense (last stride 1, rows not overlapping), else a contiguous copy.</summary>
    public static Tensor DenseRows(Tensor t)
    {
        bool ok = t.Strides_[^1] == 1 || t.Dims[^1] == 1;
        if (t.Rank >= 2 && t.Dims[^2] > 1 && t.Strides_[^2] < t.Dims[^1]) ok = false;
        return ok ? t : t.Contiguous();
    }

    /// <summary>Operand over the matrices of <paramref name="t"/> (…, rows, cols), the first <paramref name="batchRank"/> dimensions flattened.</summary>
    public static AttentionOperand<T> Operand<T>(Tensor t, int batchRank)
    {
        int nb = 1;
        for (int d = 0; d < batchRank; d++) nb *= t.Dims[d];
        var off = new int[nb];
        for (int n = 0; n < nb; n++)
        {
            int rem = n, o = t.Offset;
            for (int d = batchRank - 1; d >= 0; d--) { o += rem % t.Dims[d] * t.Strides_[d]; rem /= t.Dims[d]; }
            off[n] = o;
        }
        int rs = t.Dims[^2] == 1 ? Math.Max(t.Strides_[^2], t.Dims[^1]) : t.Strides_[^2];
        return new AttentionOperand<T>((T[])t.Storage.Data, off, rs, t.Dims[^1] == 1 ? 1 : t.Strides_[^1]);
    }

    /// <summary>nb dense matrices one after another, <paramref name="size"/> elements apart.</summary>
    public static AttentionOperand<T> Dense<T>(T[] data, int nb, int size, int rowStride)
    {
        var off = new int[nb];
        for (int n = 0; n < nb; n++) off[n] = n * size;
        return new AttentionOperand<T>(data, off, rowStride);
    }

    /// <summary>Heads of t (N, rows, E'): problem n·H + h is columns h·E'/H … of batch n's rows (t's rows must be dense).</summary>
    public static AttentionOperand<T> HeadOperand<T>(Tensor t, int heads)
    {
        int N = t.Dims[0], hd = t.Dims[2] / heads;
        var off = new int[N * heads];
        for (int n = 0; n < N; n++)
            for (int h = 0; h < heads; h++) off[n * heads + h] = t.Offset + n * t.Strides_[0] + h * hd;
        int rs = t.Dims[1] == 1 ? Math.Max(t.Strides_[1], t.Dims[2]) : t.Strides_[1];
        return new AttentionOperand<T>((T[])t.Storage.Data, off, rs);
    }

    /// <summary>Heads inside a dense (N, rows, rowStride) buffer (filled in later), starting at column <paramref name="col"/>.</summary>
    public static AttentionOperand<T> HeadOperand<T>(int heads, int N, int rows, int rowStride, int col, int hd)
    {
        var off = new int[N * heads];
        for (int n = 0; n < N; n++)
            for (int h = 0; h < heads; h++) off[n * heads + h] = n * rows * rowStride + col + h * hd;
        return new AttentionOperand<T>(null!, off, rowStride);
    }

    /// <summary>The same layout as <paramref name="like"/> (a dense output) inside <paramref name="g"/>, a contiguous tensor of that output's shape.</summary>
    public static AttentionOperand<T> Rebase<T>(AttentionOperand<T> like, Tensor g)
    {
        var off = new int[like.Offsets.Length];
        for (int i = 0; i < off.Length; i++) off[i] = like.Offsets[i] + g.Offset;
        return like with { Data = (T[])g.Storage.Data, Offsets = off };
    }
}
