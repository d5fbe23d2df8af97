using System.Numerics;
using Kindling.Kernels;

namespace Kindling.NN;

public static partial class Functional
{
    /// <summary>
    /// 2-D max pooling (PyTorch's <c>F.max_pool2d</c>): y[n, c, p, q] = max over the window at (p·sh − ph, q·sw − pw)
    /// with dilation, ignoring padding (−∞); NaN propagates. Input (N, C, H, W) or (C, H, W). Defaults: stride = kernel,
    /// padding 0 (at most half the kernel), dilation 1, floor output size unless <paramref name="ceilMode"/>
    /// (a last window must start inside the input or left padding).
    /// </summary>
    public static Tensor MaxPool2d(Tensor input, Size2 kernelSize, Size2? stride = null, Size2? padding = null, Size2? dilation = null, bool ceilMode = false) =>
        MaxPool2dCore("max_pool2d", input, kernelSize, stride ?? kernelSize, padding ?? 0, dilation ?? 1, ceilMode).Output;

    /// <summary><see cref="MaxPool2d"/> with the flat index (into H·W) of each maximum, as <c>return_indices=True</c> gives.</summary>
    public static (Tensor Output, Tensor Indices) MaxPool2dWithIndices(Tensor input, Size2 kernelSize, Size2? stride = null, Size2? padding = null, Size2? dilation = null, bool ceilMode = false)
    {
        var (y, i) = MaxPool2dCore("max_pool2d", input, kernelSize, stride ?? kernelSize, padding ?? 0, dilation ?? 1, ceilMode, wantIndices: true);
        return (y, i!);
    }

    /// <summary>1-D max pooling (PyTorch's <c>F.max_pool1d</c>): input (N, C, L) or (C, L); see <see cref="MaxPool2d"/>.</summary>
    public static Tensor MaxPool1d(Tensor input, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false) =>
        MaxPool1dCore("max_pool1d", input, kernelSize, stride ?? kernelSize, padding, dilation, ceilMode).Output;

    internal static (Tensor Output, Tensor? Indices) MaxPool1dCore(string who, Tensor input, int k, int s, int p, int d, bool ceil, bool wantIndices = false)
    {
        if (input.Rank is not (2 or 3)) throw new ArgumentException($"{who}: expected input (N, C, L) or (C, L), got {input.ShapeString}.", nameof(input));
        var (y, i) = MaxPool2dCore(who, input.Unsqueeze(-2), (1, k), (1, s), (0, p), (1, d), ceil, wantIndices);
        return (y.Squeeze(-2), i?.Squeeze(-2));
    }

    /// <summary>
    /// 2-D average pooling (PyTorch's <c>F.avg_pool2d</c>): the mean over each window, where the divisor is the window
    /// clipped to input + padding (<paramref name="countIncludePad"/>, default true) or to the input alone, or
    /// <paramref name="divisorOverride"/>. Defaults: stride = kernel, padding 0, no ceil_mode.
    /// </summary>
    public static Tensor AvgPool2d(Tensor input, Size2 kernelSize, Size2? stride = null, Size2? padding = null, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null) =>
        AvgPool2dCore("avg_pool2d", input, kernelSize, stride ?? kernelSize, padding ?? 0, ceilMode, countIncludePad, divisorOverride);

    /// <summary>
    /// Adaptive average pooling to <paramref name="outputSize"/> (PyTorch's <c>F.adaptive_avg_pool2d</c>): output cell
    /// (p, q) averages rows ⌊p·H/OH⌋ … ⌈(p + 1)·H/OH⌉ − 1 and the columns likewise.
    /// </summary>
    public static Tensor AdaptiveAvgPool2d(Tensor input, Size2 outputSize) => AdaptiveAvgPool2dCore("adaptive_avg_pool2d", input, outputSize);

    /// <summary>PyTorch's pooling_output_shape, with its checks phrased for the caller.</summary>
    private static int PoolOut(string who, int size, int k, int s, int p, int d, bool ceil)
    {
        int num = size + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0);
        int o = (int)Math.Floor((double)num / s) + 1;
        if (ceil && (o - 1) * s >= size + p) o--;
        return o;
    }

    private static (int N, int C, int H, int W, bool Unbatched) PoolInput(string who, Tensor input)
    {
        LossCheck.Float(who, "input", input);
        if (input.Rank == 3) return (1, input.Dims[0], input.Dims[1], input.Dims[2], true);
        if (input.Rank == 4) return (input.Dims[0], input.Dims[1], input.Dims[2], input.Dims[3], false);
        throw new ArgumentException($"{who}: expected input (N, C, H, W) or (C, H, W), got {input.ShapeString}.", nameof(input));
    }

    private static (int OH, int OW) PoolGeometry(string who, int c, int h, int w, Size2 k, Size2 s, Size2 p, Size2 d, bool ceil)
    {
        if (k.H <= 0 || k.W <= 0) throw new ArgumentException($"{who}: kernel_size must be positive, got {k}.");
        if (s.H <= 0 || s.W <= 0) throw new ArgumentException($"{who}: stride must be positive, got {s}.");
        if (d.H <= 0 || d.W <= 0) throw new ArgumentException($"{who}: dilation must be positive, got {d}.");
        if (p.H < 0 || p.W < 0 || p.H > k.H / 2 || p.W > k.W / 2)
            throw new ArgumentException($"{who}: padding {p} must be non-negative and at most half the kernel size {k}.");
        int oh = PoolOut(who, h, k.H, s.H, p.H, d.H, ceil), ow = PoolOut(who, w, k.W, s.W, p.W, d.W, ceil);
        if (oh < 1 || ow < 1)
            throw new ArgumentException($"{who}: input {c}×{h}×{w} is smaller than the kernel {k.H}×{k.W} (dilation {d}, padding {p}): the output would be {oh}×{ow}. Use a smaller kernel or larger images.");
        return (oh, ow);
    }

    internal static (Tensor Output, Tensor? Indices) MaxPool2dCore(string who, Tensor input, Size2 k, Size2 s, Size2 p, Size2 d, bool ceil, bool wantIndices = false)
    {
        var (n, c, h, w, unbatched) = PoolInput(who, input);
        var (oh, ow) = PoolGeometry(who, c, h, w, k, s, p, d, ceil);
        var geo = new Window2d(n * c, h, w, k.H, k.W, s.H, s.W, p.H, p.W, d.H, d.W, oh, ow);
        var (y, idx) = input.DType == DType.Float32 ? MaxPoolImpl<float>(input, geo, wantIndices) : MaxPoolImpl<double>(input, geo, wantIndices);
        int[] shape = unbatched ? [c, oh, ow] : [n, c, oh, ow];
        return (y.Reshape(shape), idx?.Reshape(shape));
    }

    /// <summary>
    /// What a pooling backward reads (its row of the derivative table): the window geometry and the input's shape, plus
    /// max pooling's argmax indices or average pooling's divisor options.
    /// </summary>
    private sealed record PoolSaved(Window2d G, int[] InputDims, int[]? Indices = null, bool CountIncludePad = false, int? DivisorOverride = null);

    private static (Tensor, Tensor?) MaxPoolImpl<T>(Tensor input, Window2d g, bool wantIndices) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = input.DenseData<T>();
        int plane = g.H * g.W, L = g.L;
        var y = GC.AllocateUninitializedArray<T>(g.C * L);
        // Flat argmax indices as int (the plane has < 2³¹ pixels); widened to int64 only when the caller asks for them.
        var ind = GC.AllocateUninitializedArray<int>(g.C * L);
        Parallel2.For(g.C, Math.Max(1, Parallel2.MinParallel / Math.Max(1, plane)), (c0, cn) =>
        {
            for (int c = c0; c < c0 + cn; c++)
            {
                var xp = x.AsSpan(c * plane, plane);
                var yp = y.AsSpan(c * L, L);
                var ip = ind.AsSpan(c * L, L);
                for (int oh = 0; oh < g.OH; oh++)
                {
                    int h0 = oh * g.SH - g.PH;
                    // Rows of the window inside the image: h0 + i·dh ∈ [0, H).
                    int iLo = h0 >= 0 ? 0 : (-h0 + g.DH - 1) / g.DH, iHi = Math.Min(g.KH, (g.H - h0 + g.DH - 1) / g.DH);
                    for (int ow = 0; ow < g.OW; ow++)
                    {
                        int w0 = ow * g.SW - g.PW;
                        int jLo = w0 >= 0 ? 0 : (-w0 + g.DW - 1) / g.DW, jHi = Math.Min(g.KW, (g.W - w0 + g.DW - 1) / g.DW);
                        // PyTorch's rule: start at the first pixel in the window, then a larger value or any NaN takes over.
                        int bi = (h0 + iLo * g.DH) * g.W + w0 + jLo * g.DW;
                        T best = xp[bi];
                        for (int i = iLo; i < iHi; i++)
                        {
                            int row = (h0 + i * g.DH) * g.W + w0;
                            for (int j = jLo; j < jHi; j++)
                            {
                                T v = xp[row + j * g.DW];
                                if (v > best || T.IsNaN(v)) { best = v; bi = row + j * g.DW; }
                            }
                        }
                        yp[oh * g.OW + ow] = best;
                        ip[oh * g.OW + ow] = bi;
                    }
                }
            }
        });
        var result = Tensor.Wrap(y, [g.C * L]);
        var inDims = input.Dims;
        var r = Autograd.Record(result, "MaxPool2DWithIndicesBackward", [input], Derivatives.Fused(new PoolSaved(g, inDims, ind), static (grad, saved) =>
        {
            var (g, inDims, ind, _, _) = saved;
            int plane = g.H * g.W, L = g.L;
            var gy = grad.DenseData<T>();
            var dx = new T[g.C * plane];
            for (int c = 0; c < g.C; c++)
            {
                var dp = dx.AsSpan(c * plane, plane);
                var ip = ind.AsSpan(c * L, L);
                var gp = gy.AsSpan(c * L, L);
                for (int l = 0; l < L; l++) dp[ip[l]] += gp[l];
            }
            return [Tensor.Wrap(dx, inDims)];
        }));
        return (r, wantIndices ? Tensor.Wrap(Array.ConvertAll(ind, v => (long)v), [g.C * L]) : null);
    }

    internal static Tensor AvgPool2dCore(string who, Tensor input, Size2 k, Size2 s, Size2 p, bool ceil, bool countIncludePad, int? divisorOverride)
    {
        var (n, c, h, w, unbatched) = PoolInput(who, input);
        if (divisorOverride is <= 0) throw new ArgumentException($"{who}: divisor_override must be positive, got {divisorOverride}.");
        var (oh, ow) = PoolGeometry(who, c, h, w, k, s, p, 1, ceil);
        var geo = new Window2d(n * c, h, w, k.H, k.W, s.H, s.W, p.H, p.W, 1, 1, oh, ow);
        var y = input.DType == DType.Float32 ? AvgPoolImpl<float>(input, geo, countIncludePad, divisorOverride) : AvgPoolImpl<double>(input, geo, countIncludePad, divisorOverride);
        return y.Reshape(unbatched ? [c, oh, ow] : [n, c, oh, ow]);
    }

    /// <summary>PyTorch's avg_pool2d window: clipped rows/columns and the divisor.</summary>
    private static (int h0, int h1, int w0, int w1, int div) AvgWindow(in Window2d g, int oh, int ow, bool countIncludePad, int? divisorOverride)
    {
        int h0 = oh * g.SH - g.PH, w0 = ow * g.SW - g.PW;
        int h1 = Math.Min(h0 + g.KH, g.H + g.PH), w1 = Math.Min(w0 + g.KW, g.W + g.PW);
        int poolSize = (h1 - h0) * (w1 - w0);
        h0 = Math.Max(h0, 0); w0 = Math.Max(w0, 0); h1 = Math.Min(h1, g.H); w1 = Math.Min(w1, g.W);
        int div = divisorOverride ?? (countIncludePad ? poolSize : (h1 - h0) * (w1 - w0));
        return (h0, h1, w0, w1, div);
    }

    private static Tensor AvgPoolImpl<T>(Tensor input, Window2d g, bool countIncludePad, int? divisorOverride) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = input.DenseData<T>();
        int plane = g.H * g.W, L = g.L;
        var y = new T[g.C * L];
        Parallel2.For(g.C, Math.Max(1, Parallel2.MinParallel / Math.Max(1, plane)), (c0, cn) =>
        {
            for (int c = c0; c < c0 + cn; c++)
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++)
                    {
                        var (h0, h1, w0, w1, div) = AvgWindow(g, oh, ow, countIncludePad, divisorOverride);
                        if (h0 >= h1 || w0 >= w1) continue;
                        T sum = T.Zero;
                        for (int hh = h0; hh < h1; hh++)
                            for (int ww = w0; ww < w1; ww++) sum += x[c * plane + hh * g.W + ww];
                        y[c * L + oh * g.OW + ow] = sum / T.CreateChecked(div);
                    }
        });
        var inDims = input.Dims;
        return Autograd.Record(Tensor.Wrap(y, [g.C * L]), "AvgPool2DBackward", [input], Derivatives.Fused(new PoolSaved(g, inDims, null, countIncludePad, divisorOverride), static (grad, saved) =>
        {
            var (g, inDims, _, countIncludePad, divisorOverride) = saved;
            int plane = g.H * g.W, L = g.L;
            var gy = grad.DenseData<T>();
            var dx = new T[g.C * plane];
            for (int c = 0; c < g.C; c++)
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++)
                    {
                        var (h0, h1, w0, w1, div) = AvgWindow(g, oh, ow, countIncludePad, divisorOverride);
                        T v = gy[c * L + oh * g.OW + ow] / T.CreateChecked(div);
                        for (int hh = h0; hh < h1; hh++)
                            for (int ww = w0; ww < w1; ww++) dx[c * plane + hh * g.W + ww] += v;
                    }
            return [Tensor.Wrap(dx, inDims)];
        }));
    }

    internal static Tensor AdaptiveAvgPool2dCore(string who, Tensor input, Size2 outputSize)
    {
        var (n, c, h, w, unbatched) = PoolInput(who, input);
        if (outputSize.H <= 0 || outputSize.W <= 0) throw new ArgumentException($"{who}: output_size must be positive, got {outputSize}.");
        if (h == 0 || w == 0) throw new ArgumentException($"{who}: input {input.ShapeString} has an empty spatial dimension.", nameof(input));
        var geo = new Window2d(n * c, h, w, 0, 0, 1, 1, 0, 0, 1, 1, outputSize.H, outputSize.W);
        var y = input.DType == DType.Float32 ? AdaptiveImpl<float>(input, geo) : AdaptiveImpl<double>(input, geo);
        return y.Reshape(unbatched ? [c, outputSize.H, outputSize.W] : [n, c, outputSize.H, outputSize.W]);
    }

    /// <summary>
    /// Σ of a window of one plane. Small windows in a plain loop; a large one (a global average pool over a big plane)
    /// by cascade: each row segment cascade-summed, then the row sums, so thousands of terms keep float32's accuracy.
    /// </summary>
    private static T WindowSum<T>(T[] x, int at, int width, int h0, int h1, int w0, int w1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sum = T.Zero;
        if ((h1 - h0) * (w1 - w0) <= 64)
        {
            for (int hh = h0; hh < h1; hh++)
                for (int ww = w0; ww < w1; ww++) sum += x[at + hh * width + ww];
            return sum;
        }
        var rows = System.Buffers.ArrayPool<T>.Shared.Rent(h1 - h0);
        for (int hh = h0; hh < h1; hh++) rows[hh - h0] = Kernels.Cascade.Sum<T>(x.AsSpan(at + hh * width + w0, w1 - w0));
        sum = Kernels.Cascade.Sum<T>(rows.AsSpan(0, h1 - h0));
        System.Buffers.ArrayPool<T>.Shared.Return(rows);
        return sum;
    }

    private static Tensor AdaptiveImpl<T>(Tensor input, Window2d g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = input.DenseData<T>();
        int plane = g.H * g.W, L = g.L;
        static int Start(int o, int inSize, int outSize) => (int)((long)o * inSize / outSize);
        static int End(int o, int inSize, int outSize) => (int)(((long)(o + 1) * inSize + outSize - 1) / outSize);
        var y = new T[g.C * L];
        for (int c = 0; c < g.C; c++)
            for (int oh = 0; oh < g.OH; oh++)
            {
                int h0 = Start(oh, g.H, g.OH), h1 = End(oh, g.H, g.OH);
                for (int ow = 0; ow < g.OW; ow++)
                {
                    int w0 = Start(ow, g.W, g.OW), w1 = End(ow, g.W, g.OW);
                    y[c * L + oh * g.OW + ow] = WindowSum(x, c * plane, g.W, h0, h1, w0, w1) / T.CreateChecked((h1 - h0) * (w1 - w0));
                }
            }
        var inDims = input.Dims;
        return Autograd.Record(Tensor.Wrap(y, [g.C * L]), "AdaptiveAvgPool2DBackward", [input], Derivatives.Fused(new PoolSaved(g, inDims), static (grad, saved) =>
        {
            var (g, inDims, _, _, _) = saved;
            int plane = g.H * g.W, L = g.L;
            var gy = grad.DenseData<T>();
            var dx = new T[g.C * plane];
            for (int c = 0; c < g.C; c++)
                for (int oh = 0; oh < g.OH; oh++)
                {
                    int h0 = Start(oh, g.H, g.OH), h1 = End(oh, g.H, g.OH);
                    for (int ow = 0; ow < g.OW; ow++)
                    {
                        int w0 = Start(ow, g.W, g.OW), w1 = End(ow, g.W, g.OW);
                        T v = gy[c * L + oh * g.OW + ow] / T.CreateChecked((h1 - h0) * (w1 - w0));
                        for (int hh = h0; hh < h1; hh++)
                            for (int ww = w0; ww < w1; ww++) dx[c * plane + hh * g.W + ww] += v;
                    }
                }
            return [Tensor.Wrap(dx, inDims)];
        }));
    }
}
