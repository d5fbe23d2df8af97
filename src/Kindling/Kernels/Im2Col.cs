using System.Numerics;

namespace Kindling.Kernels;

/// <summary>
/// Geometry of a 2-D sliding window over a (C, H, W) image: kernel kh×kw, stride, dilation and the top/left zero padding;
/// OH×OW is the number of window positions (computed by the caller, so asymmetric "same" padding and ceil_mode fit).
/// </summary>
internal readonly record struct Window2d(int C, int H, int W, int KH, int KW, int SH, int SW, int PH, int PW, int DH, int DW, int OH, int OW)
{
    /// <summary>Rows of the column matrix: C·kh·kw.</summary>
    public int K => C * KH * KW;
    /// <summary>Columns of the column matrix: OH·OW.</summary>
    public int L => OH * OW;
}

/// <summary>
/// im2col and col2im (Caffe's <c>im2col.cpp</c>): the column matrix of a (C, H, W) image is (C·kh·kw) × (OH·OW), row
/// (c·kh + i)·kw + j holding x[c, oh·sh − ph + i·dh, ow·sw − pw + j·dw] (zero outside the image). A convolution is then
/// one GEMM with the (O, C·kh·kw) weight; col2im is its adjoint (it adds every column entry back onto its pixel).
/// </summary>
internal static class Im2Col
{
    /// <summary>Fills <paramref name="col"/> (K × L, row-major with row stride <paramref name="ld"/> ≥ L, so several images can sit side by side) from <paramref name="img"/> (C·H·W, contiguous).</summary>
    public static void Forward<T>(ReadOnlySpan<T> img, Span<T> col, int ld, in Window2d g) where T : unmanaged, INumberBase<T>
    {
        int L = g.L;
        for (int c = 0; c < g.C; c++)
        {
            var plane = img.Slice(c * g.H * g.W, g.H * g.W);
            for (int i = 0; i < g.KH; i++)
                for (int j = 0; j < g.KW; j++)
                {
                    var row = col.Slice(((c * g.KH + i) * g.KW + j) * ld, L);
                    var (dj, owLo, owHi) = Columns(g, j);
                    for (int oh = 0; oh < g.OH; oh++)
                    {
                        var dst = row.Slice(oh * g.OW, g.OW);
                        int h = oh * g.SH - g.PH + i * g.DH;
                        if ((uint)h >= (uint)g.H) { dst.Clear(); continue; }
                        var src = plane.Slice(h * g.W, g.W);
                        dst[..owLo].Clear();
                        dst[owHi..].Clear();
                        // A kernel column that never touches the image (padding wider than the image) has an empty
                        // range whose start owLo + dj lies outside the row: nothing to copy, and no slice to take.
                        if (owHi == owLo) continue;
                        if (g.SW == 1) src.Slice(owLo + dj, owHi - owLo).CopyTo(dst[owLo..owHi]);
                        else for (int ow = owLo; ow < owHi; ow++) dst[ow] = src[ow * g.SW + dj];
                    }
                }
        }
    }

    /// <summary>Adds every entry of <paramref name="col"/> (K × L) onto its pixel of <paramref name="img"/> (C·H·W); padding entries are dropped.</summary>
    public static void Backward<T>(ReadOnlySpan<T> col, int ld, Span<T> img, in Window2d g) where T : unmanaged, INumberBase<T>
    {
        int L = g.L;
        for (int c = 0; c < g.C; c++)
        {
            var plane = img.Slice(c * g.H * g.W, g.H * g.W);
            for (int i = 0; i < g.KH; i++)
                for (int j = 0; j < g.KW; j++)
                {
                    var row = col.Slice(((c * g.KH + i) * g.KW + j) * ld, L);
                    var (dj, owLo, owHi) = Columns(g, j);
                    for (int oh = 0; oh < g.OH; oh++)
                    {
                        int h = oh * g.SH - g.PH + i * g.DH;
                        if ((uint)h >= (uint)g.H) continue;
                        var src = row.Slice(oh * g.OW, g.OW);
                        var dst = plane.Slice(h * g.W, g.W);
                        if (owHi == owLo) continue; // the kernel column reads only padding here (see Forward)
                        if (g.SW == 1)
                            AddInto(src[owLo..owHi], dst.Slice(owLo + dj, owHi - owLo));
                        else for (int ow = owLo; ow < owHi; ow++) dst[ow * g.SW + dj] += src[ow];
                    }
                }
        }
    }

    /// <summary>
    /// For kernel column <paramref name="j"/>: the input column offset dj = j·dw − pw, and the range [owLo, owHi) of
    /// output columns whose input column ow·sw + dj lies inside the image (the rest read padding).
    /// </summary>
    private static (int Dj, int OwLo, int OwHi) Columns(in Window2d g, int j)
    {
        int dj = j * g.DW - g.PW;
        int owLo = dj >= 0 ? 0 : Math.Min(g.OW, (-dj + g.SW - 1) / g.SW);
        int owHi = Math.Max(owLo, Math.Min(g.OW, g.W - dj <= 0 ? 0 : (g.W - dj + g.SW - 1) / g.SW));
        return (dj, owLo, owHi);
    }

    private static void AddInto<T>(ReadOnlySpan<T> src, Span<T> dst) where T : unmanaged, INumberBase<T>
    {
        if (typeof(T) == typeof(float))
        {
            var s = System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(src);
            var d = System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(dst);
            System.Numerics.Tensors.TensorPrimitives.Add(d, s, d);
        }
        else if (typeof(T) == typeof(double))
        {
            var s = System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(src);
            var d = System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(dst);
            System.Numerics.Tensors.TensorPrimitives.Add(d, s, d);
        }
        else for (int i = 0; i < src.Length; i++) dst[i] += src[i];
    }
}
