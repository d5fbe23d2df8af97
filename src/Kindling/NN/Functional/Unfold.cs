using System.Numerics;
using Kindling.Kernels;

namespace Kindling.NN;

public static partial class Functional
{
    /// <summary>
    /// Extracts sliding blocks (PyTorch's <c>F.unfold</c>, im2col): input (N, C, H, W) → (N, C·kh·kw, L), L = OH·OW,
    /// row (c·kh + i)·kw + j of column p·OW + q holding x[n, c, p·sh − ph + i·dh, q·sw − pw + j·dw] (zero in the padding).
    /// Defaults: dilation 1, padding 0, stride 1. Its adjoint is <see cref="Fold"/>, so conv2d(x, w) =
    /// (w.View(O, −1) @ Unfold(x, k)).View(N, O, OH, OW).
    /// </summary>
    public static Tensor Unfold(Tensor input, Size2 kernelSize, Size2? dilation = null, Size2? padding = null, Size2? stride = null)
    {
        const string U = "unfold";
        LossCheck.Float(U, "input", input);
        if (input.Rank != 4) throw new ArgumentException($"{U}: expected input (N, C, H, W), got {input.ShapeString}.", nameof(input));
        var g = FoldGeometry(U, input.Dims[1], input.Dims[2], input.Dims[3], kernelSize, dilation ?? 1, padding ?? 0, stride ?? 1);
        return Im2ColOp(input, g);
    }

    /// <summary>
    /// Combines sliding blocks into an image (PyTorch's <c>F.fold</c>, col2im), summing overlaps: input (N, C·kh·kw, L)
    /// → (N, C, H, W) with (H, W) = <paramref name="outputSize"/>; L must equal the number of block positions.
    /// </summary>
    public static Tensor Fold(Tensor input, Size2 outputSize, Size2 kernelSize, Size2? dilation = null, Size2? padding = null, Size2? stride = null)
    {
        const string F = "fold";
        LossCheck.Float(F, "input", input);
        // Unbatched (C·kh·kw, L), as PyTorch accepts it: one image.
        if (input.Rank == 2) return Fold(input.Unsqueeze(0), outputSize, kernelSize, dilation, padding, stride).Squeeze(0);
        if (input.Rank != 3) throw new ArgumentException($"{F}: expected input (N, C·kh·kw, L) or unbatched (C·kh·kw, L), got {input.ShapeString}.", nameof(input));
        int kk = kernelSize.H * kernelSize.W;
        if (kk <= 0 || input.Dims[1] % kk != 0)
            throw new ArgumentException($"{F}: input dimension 1 ({input.Dims[1]}) must be divisible by the kernel's kh·kw = {kk}.", nameof(input));
        var g = FoldGeometry(F, input.Dims[1] / kk, outputSize.H, outputSize.W, kernelSize, dilation ?? 1, padding ?? 0, stride ?? 1);
        if (input.Dims[2] != g.L)
            throw new ArgumentException($"{F}: output size {outputSize} with kernel {kernelSize} has {g.OH}×{g.OW} = {g.L} block positions, but the input has {input.Dims[2]} (shape {input.ShapeString}).", nameof(input));
        return Col2ImOp(input, g);
    }

    private static Window2d FoldGeometry(string who, int c, int h, int w, Size2 k, Size2 d, Size2 p, Size2 s)
    {
        if (k.H <= 0 || k.W <= 0 || d.H <= 0 || d.W <= 0 || s.H <= 0 || s.W <= 0 || p.H < 0 || p.W < 0)
            throw new ArgumentException($"{who}: kernel_size {k}, dilation {d} and stride {s} must be positive and padding {p} non-negative.");
        int eh = d.H * (k.H - 1) + 1, ew = d.W * (k.W - 1) + 1;
        if (h + 2 * p.H < eh || w + 2 * p.W < ew)
            throw new ArgumentException($"{who}: image {c}×{h}×{w} (padded {h + 2 * p.H}×{w + 2 * p.W}) is smaller than the kernel {k.H}×{k.W} with dilation {d}.");
        return new Window2d(c, h, w, k.H, k.W, s.H, s.W, p.H, p.W, d.H, d.W, (h + 2 * p.H - eh) / s.H + 1, (w + 2 * p.W - ew) / s.W + 1);
    }

    private static Tensor Im2ColOp(Tensor input, Window2d g) =>
        input.DType == DType.Float32 ? Im2ColOp<float>(input, g) : Im2ColOp<double>(input, g);

    private static Tensor Col2ImOp(Tensor input, Window2d g) =>
        input.DType == DType.Float32 ? Col2ImOp<float>(input, g) : Col2ImOp<double>(input, g);

    private static Tensor Im2ColOp<T>(Tensor input, Window2d g) where T : unmanaged, INumberBase<T>
    {
        var x = input.DenseData<T>();
        int n = input.Dims[0], img = g.C * g.H * g.W, colSize = g.K * g.L;
        var y = GC.AllocateUninitializedArray<T>(n * colSize);
        for (int i = 0; i < n; i++) Im2Col.Forward<T>(x.AsSpan(i * img, img), y.AsSpan(i * colSize, colSize), g.L, g);
        return Autograd.Record(Tensor.Wrap(y, [n, g.K, g.L]), "Im2ColBackward", [input], grad => [Col2ImOp(grad, g)]);
    }

    private static Tensor Col2ImOp<T>(Tensor input, Window2d g) where T : unmanaged, INumberBase<T>
    {
        var x = input.DenseData<T>();
        int n = input.Dims[0], img = g.C * g.H * g.W, colSize = g.K * g.L;
        var y = new T[n * img];
        for (int i = 0; i < n; i++) Im2Col.Backward<T>(x.AsSpan(i * colSize, colSize), g.L, y.AsSpan(i * img, img), g);
        return Autograd.Record(Tensor.Wrap(y, [n, g.C, g.H, g.W]), "Col2ImBackward", [input], grad => [Im2ColOp(grad, g)]);
    }
}
