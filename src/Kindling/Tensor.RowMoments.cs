using Kindling.Kernels;

namespace Kindling;

/// <summary>
/// Variance and 2-norm along a dimension whose elements are contiguous (the last one, or any followed only by size-1
/// dimensions), each row read once or twice by a fused cascade sum instead of materialising x − mean, its square and
/// x² as whole tensors. Other layouts take the composed path in Tensor.Reductions.cs (same accuracy, more memory).
/// </summary>
public sealed partial class Tensor
{
    /// <summary>Rows and row length when dimension d of this dense float tensor is contiguous; else false.</summary>
    private bool ContiguousRows(int d, out int rows, out int n)
    {
        (rows, n) = (0, 0);
        if (DType is not (DType.Float32 or DType.Float64) || !IsContiguous) return false;
        var (outer, len, inner) = Split(d);
        if (inner != 1) return false;
        (rows, n) = (outer, len);
        return true;
    }

    /// <summary>Two-pass variance per row (Σ(x − mean)²/(n − correction)), or null when the rows are not contiguous.</summary>
    private Tensor? VarRows(int d, int correction, bool keepDim)
    {
        if (!ContiguousRows(d, out int rows, out int n)) return null;
        var y = Empty(ReducedShape(d, keepDim), DType);
        double div = Math.Max(0, n - correction);
        if (DType == DType.Float32)
        {
            var x = F32Span; var o = y.F32Span;
            for (int r = 0; r < rows; r++)
            {
                var row = x.Slice(r * n, n);
                float mean = Cascade.Sum<float>(row) / n;
                o[r] = (float)(Cascade.SumOf(row, new Cascade.SquaredDeviation<float>(mean)) / div);
            }
        }
        else
        {
            var x = F64Span; var o = y.F64Span;
            for (int r = 0; r < rows; r++)
            {
                var row = x.Slice(r * n, n);
                double mean = Cascade.Sum<double>(row) / n;
                o[r] = Cascade.SumOf(row, new Cascade.SquaredDeviation<double>(mean)) / div;
            }
        }
        // var backward (PyTorch's var_backward): ∂x = g·2(x − mean)/(n − correction).
        return Autograd.Record(y, "VarBackward", [this], (g, s) =>
        {
            var x = Detach();
            var gk = keepDim ? g : g.Unsqueeze(d);
            s.Add(0, gk * (2 / div) * (x - x.Mean(d, keepDim: true)));
        }, this);
    }

    /// <summary>√Σx² per row without a graph, or null when the rows are not contiguous.</summary>
    private Tensor? Norm2Rows(int d, bool keepDim)
    {
        if (!ContiguousRows(d, out int rows, out int n)) return null;
        var y = Empty(ReducedShape(d, keepDim), DType);
        if (DType == DType.Float32)
        {
            var x = F32Span; var o = y.F32Span;
            for (int r = 0; r < rows; r++) o[r] = MathF.Sqrt(Cascade.SumOf(x.Slice(r * n, n), new Cascade.Square<float>()));
        }
        else
        {
            var x = F64Span; var o = y.F64Span;
            for (int r = 0; r < rows; r++) o[r] = Math.Sqrt(Cascade.SumOf(x.Slice(r * n, n), new Cascade.Square<double>()));
        }
        return y;
    }
}
