using Kindling.Kernels;

namespace Kindling;

public sealed partial class Tensor
{
    /// <summary>
    /// Matrix product with PyTorch's rules: 1-D·1-D is a dot product; 2-D·2-D a matrix product; a 1-D operand is
    /// promoted to a row (left) or column (right) and the added dimension removed; higher ranks are batches of
    /// matrices whose batch dimensions broadcast. Transposed views go to the kernel as flags, never copied.
    /// </summary>
    public static Tensor Matmul(Tensor a, Tensor b)
    {
        if (a.Rank == 0 || b.Rank == 0)
            throw new ArgumentException($"matmul: both arguments need at least 1 dimension, got {a.ShapeString} and {b.ShapeString}; use * for scaling by a scalar.");
        a.RequireFloat("matmul"); b.RequireFloat("matmul");
        if (a.DType != b.DType) throw new ArgumentException($"matmul: operand types differ ({DTypeName(a.DType)} and {DTypeName(b.DType)}); convert one with To().");
        if (a.Rank == 1 && b.Rank == 1)
        {
            if (a.Dims[0] != b.Dims[0]) throw new ArgumentException($"matmul: {a.ShapeString} @ {b.ShapeString}: inner dimensions {a.Dims[0]} and {b.Dims[0]} differ.");
            return Matmul(a.Unsqueeze(0), b.Unsqueeze(1)).Reshape();
        }
        if (a.Rank == 1) return Matmul(a.Unsqueeze(0), b).Squeeze(-2);
        if (b.Rank == 1) return Matmul(a, b.Unsqueeze(1)).Squeeze(-1);
        int m = a.Dims[^2], k = a.Dims[^1], k2 = b.Dims[^2], n = b.Dims[^1];
        if (k != k2) throw new ArgumentException($"matmul: {a.ShapeString} @ {b.ShapeString}: inner dimensions {k} and {k2} differ.");
        var batch = BroadcastShapes(a.Dims[..^2], b.Dims[..^2], "matmul (batch dimensions)");
        var y = k == 0 ? Empty([.. batch, m, n], a.DType) : Uninit([.. batch, m, n], a.DType);
        MatmulRaw(a.Detach(), b.Detach(), y, batch, m, n, k);
        return Autograd.Record(y, "MmBackward", [a, b], Derivatives.Matmul(a, b), a, b);
    }

    /// <summary>The last two dimensions swapped (a view; PyTorch's <c>mT</c>).</summary>
    public Tensor MT => Transpose(-2, -1);

    /// <summary>Matrix product with <paramref name="other"/> (see <see cref="Matmul(Tensor, Tensor)"/>).</summary>
    public Tensor Matmul(Tensor other) => Matmul(this, other);

    /// <summary>How a 2-D view can be fed to GEMM: (transposed?, leading dimension), or null when it needs a copy.</summary>
    private static (bool trans, int ld)? GemmLayout(int rows, int cols, int sRow, int sCol)
    {
        if ((sCol == 1 || cols == 1) && (sRow >= Math.Max(cols, 1) || rows == 1)) return (false, rows == 1 ? Math.Max(cols, 1) : sRow);
        if ((sRow == 1 || rows == 1) && (sCol >= Math.Max(rows, 1) || cols == 1)) return (true, cols == 1 ? Math.Max(rows, 1) : sCol);
        return null;
    }

    private static void MatmulRaw(Tensor a, Tensor b, Tensor y, int[] batch, int m, int n, int k)
    {
        int nb = Numel(batch, "matmul");
        if (y.NumEl == 0) return;
        int br = batch.Length;
        // Batch strides of each operand after broadcasting (0 where broadcast).
        var la = GemmLayout(m, k, a.Strides_[^2], a.Strides_[^1]);
        if (la == null) { a = a.Contiguous(); la = (false, k); }
        var lb = GemmLayout(k, n, b.Strides_[^2], b.Strides_[^1]);
        if (lb == null) { b = b.Contiguous(); lb = (false, n); }
        var stA = BatchStrides(a, batch);
        var stB = BatchStrides(b, batch);
        var idx = new int[br];
        for (int t = 0; t < nb; t++)
        {
            int oa = a.Offset, ob = b.Offset;
            for (int d = 0; d < br; d++) { oa += idx[d] * stA[d]; ob += idx[d] * stB[d]; }
            int oy = t * m * n;
            if (y.DType == DType.Float32)
                Gemm.Sgemm(la.Value.trans, lb.Value.trans, m, n, k, 1f, ((float[])a.Storage.Data).AsSpan(oa), la.Value.ld,
                    ((float[])b.Storage.Data).AsSpan(ob), lb.Value.ld, 0f, ((float[])y.Storage.Data).AsSpan(oy, m * n), n);
            else
                Gemm.Dgemm(la.Value.trans, lb.Value.trans, m, n, k, 1.0, ((double[])a.Storage.Data).AsSpan(oa), la.Value.ld,
                    ((double[])b.Storage.Data).AsSpan(ob), lb.Value.ld, 0.0, ((double[])y.Storage.Data).AsSpan(oy, m * n), n);
            for (int d = br - 1; d >= 0; d--)
            {
                if (++idx[d] < batch[d]) break;
                idx[d] = 0;
            }
        }
    }

    private static int[] BatchStrides(Tensor t, int[] batch)
    {
        int tb = t.Rank - 2, lead = batch.Length - tb;
        var st = new int[batch.Length];
        for (int i = lead; i < batch.Length; i++) st[i] = t.Dims[i - lead] == 1 ? 0 : t.Strides_[i - lead];
        return st;
    }
}
