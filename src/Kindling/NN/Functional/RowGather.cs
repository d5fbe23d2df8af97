using System.Numerics;
using System.Numerics.Tensors;

namespace Kindling.NN;

public static partial class Functional
{
    /// <summary>
    /// out[k] = src[rows[k]] (a row being everything after dimension 0), or <paramref name="fill"/> where rows[k] = −1, as
    /// one node whose backward adds each output row's gradient into its source row. What packing, unpacking and padding
    /// sequences are made of (a gather by a precomputed map, differentiable, with no per-row graph).
    /// </summary>
    internal static Tensor GatherRows(Tensor src, int[] rows, double fill, int[] outShape)
    {
        int width = src.Rank == 0 || src.Dims[0] == 0 ? 0 : src.NumEl / src.Dims[0];
        return src.DType == DType.Float32 ? GatherRows<float>(src, rows, width, float.CreateChecked(fill), outShape)
            : GatherRows<double>(src, rows, width, fill, outShape);
    }

    private static Tensor GatherRows<T>(Tensor src, int[] rows, int width, T fill, int[] outShape) where T : unmanaged, INumber<T>
    {
        var s = src.DenseData<T>();
        var y = new T[rows.Length * width];
        for (int k = 0; k < rows.Length; k++)
        {
            var dst = y.AsSpan(k * width, width);
            if (rows[k] < 0) dst.Fill(fill);
            else s.AsSpan(rows[k] * width, width).CopyTo(dst);
        }
        int[] srcShape = src.Shape;
        return Autograd.Record(Tensor.Wrap(y, outShape), "GatherRowsBackward", [src], (g, sink) =>
        {
            var gd = g.DenseData<T>();
            var dx = sink.Into<T>(0, out bool acc);
            if (!acc) Array.Clear(dx);
            for (int k = 0; k < rows.Length; k++)
                if (rows[k] >= 0)
                {
                    var d = dx.AsSpan(rows[k] * width, width);
                    TensorPrimitives.Add<T>(d, gd.AsSpan(k * width, width), d);
                }
        });
    }
}
