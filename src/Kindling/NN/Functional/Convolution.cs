using System.Buffers;
using System.Numerics;
using Kindling.Kernels;

namespace Kindling.NN;

public static partial class Functional
{
    /// <summary>
    /// 2-D cross-correlation (PyTorch's <c>F.conv2d</c>):
    /// y[n, o, p, q] = b[o] + Σ_{c ∈ group(o), i, j} w[o, c, i, j] · x[n, c, p·sh − ph + i·dh, q·sw − pw + j·dw] (zero outside).
    /// Shapes: input (N, C, H, W) or unbatched (C, H, W); weight (O, C/groups, kh, kw); bias (O) or null →
    /// (N, O, OH, OW) with OH = ⌊(H + 2ph − dh(kh − 1) − 1)/sh⌋ + 1. Defaults: stride 1, padding 0, dilation 1, groups 1.
    /// <paramref name="padding"/> is an int, a pair, "valid" or "same" (stride 1 only; an odd total pads one more at the
    /// bottom/right, as PyTorch does). Computed as im2col + GEMM in batch chunks; backward gives input, weight and bias.
    /// </summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, Size2? stride = null, ConvPadding? padding = null, Size2? dilation = null, int groups = 1) =>
        Conv2dCore("conv2d", input, weight, bias, stride ?? 1, padding ?? 0, dilation ?? 1, groups);

    /// <summary>
    /// 1-D cross-correlation (PyTorch's <c>F.conv1d</c>): input (N, C, L) or (C, L), weight (O, C/groups, k), bias (O) →
    /// (N, O, OL), OL = ⌊(L + 2p − d(k − 1) − 1)/s⌋ + 1. Runs as a 2-D convolution of height 1.
    /// </summary>
    public static Tensor Conv1d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, ConvPadding? padding = null, int dilation = 1, int groups = 1) =>
        Conv1dCore("conv1d", input, weight, bias, stride, padding ?? 0, dilation, groups);

    internal static Tensor Conv1dCore(string who, Tensor input, Tensor weight, Tensor? bias, int stride, ConvPadding padding, int dilation, int groups)
    {
        if (input.Rank is not (2 or 3)) throw new ArgumentException($"{who}: expected input (N, C, L) or unbatched (C, L), got {input.ShapeString}.", nameof(input));
        if (weight.Rank != 3) throw new ArgumentException($"{who}: weight must be (out_channels, in_channels/groups, kernel_size), got {weight.ShapeString}.", nameof(weight));
        ConvPadding pad2 = padding.Same ? padding : (0, padding.Size.W);
        var y = Conv2dCore(who, input.Unsqueeze(-2), weight.Unsqueeze(2), bias, (1, stride), pad2, (1, dilation), groups);
        return y.Squeeze(-2);
    }

    /// <summary>
    /// Transposed 2-D convolution (PyTorch's <c>F.conv_transpose2d</c>, the adjoint of <see cref="Conv2d"/> in its
    /// input): input (N, Cin, H, W) or (Cin, H, W); weight (Cin, Cout/groups, kh, kw); bias (Cout) →
    /// (N, Cout, OH, OW), OH = (H − 1)·sh − 2ph + dh(kh − 1) + output_padding_h + 1. Defaults: stride 1, padding 0,
    /// output_padding 0, groups 1, dilation 1; output_padding must be smaller than stride or dilation.
    /// </summary>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias = null, Size2? stride = null, Size2? padding = null, Size2? outputPadding = null, int groups = 1, Size2? dilation = null) =>
        ConvTranspose2dCore("conv_transpose2d", input, weight, bias, stride ?? 1, padding ?? 0, outputPadding ?? 0, groups, dilation ?? 1);

    // Below this many elements of column matrix per chunk the GEMMs are too small to run well; above it the chunk
    // leaves the cache. 2M floats = 8 MB, shared through the array pool across steps.
    private const int ChunkElements = 1 << 21;

    internal static Tensor Conv2dCore(string who, Tensor input, Tensor weight, Tensor? bias, Size2 stride, ConvPadding padding, Size2 dilation, int groups)
    {
        LossCheck.Float(who, "input", input);
        if (input.Rank == 3 && weight.Rank == 4) return Conv2dCore(who, input.Unsqueeze(0), weight, bias, stride, padding, dilation, groups).Squeeze(0);
        if (input.Rank != 4) throw new ArgumentException($"{who}: expected input (N, C, H, W) or unbatched (C, H, W), got {input.ShapeString}.", nameof(input));
        if (weight.Rank != 4) throw new ArgumentException($"{who}: weight must be (out_channels, in_channels/groups, kH, kW), got {weight.ShapeString}.", nameof(weight));
        if (weight.DType != input.DType) throw new ArgumentException($"{who}: input is {Tensor.DTypeName(input.DType)} but weight is {Tensor.DTypeName(weight.DType)}.");
        CheckConvArgs(who, stride, dilation, groups);
        int n = input.Dims[0], c = input.Dims[1], h = input.Dims[2], w = input.Dims[3];
        int o = weight.Dims[0], cg = weight.Dims[1], kh = weight.Dims[2], kw = weight.Dims[3];
        if (o % groups != 0) throw new ArgumentException($"{who}: out_channels {o} is not divisible by groups {groups}.");
        if (cg * groups != c)
            throw new ArgumentException($"{who}: expected input with {cg * groups} channels (weight {weight.ShapeString} × groups {groups}), got input {input.ShapeString}.", nameof(input));
        if (bias != null && (bias.Rank != 1 || bias.Dims[0] != o)) throw new ArgumentException($"{who}: bias must be ({o},), got {bias.ShapeString}.", nameof(bias));
        int pt, pb, pl, pr;
        if (padding.Same)
        {
            if (stride.H != 1 || stride.W != 1) throw new ArgumentException($"{who}: padding=\"same\" is not supported for strided convolutions (stride {stride}); pad explicitly instead.");
            int th = dilation.H * (kh - 1), tw = dilation.W * (kw - 1);
            pt = th / 2; pb = th - pt; pl = tw / 2; pr = tw - pl;
        }
        else { pt = pb = padding.Size.H; pl = pr = padding.Size.W; }
        int effH = dilation.H * (kh - 1) + 1, effW = dilation.W * (kw - 1) + 1;
        if (h + pt + pb < effH || w + pl + pr < effW)
            throw new ArgumentException($"{who}: input {c}×{h}×{w} is smaller than the kernel ({kh}×{kw}, {effH}×{effW} with dilation {dilation}; padded input {h + pt + pb}×{w + pl + pr}). Use a smaller kernel or more padding, or check the image size.", nameof(input));
        int oh = (h + pt + pb - effH) / stride.H + 1, ow = (w + pl + pr - effW) / stride.W + 1;
        var geo = new Window2d(c, h, w, kh, kw, stride.H, stride.W, pt, pl, dilation.H, dilation.W, oh, ow);
        return input.DType == DType.Float32
            ? ConvImpl<float>(input, weight, bias, geo, n, o, groups)
            : ConvImpl<double>(input, weight, bias, geo, n, o, groups);
    }

    private static void CheckConvArgs(string who, Size2 stride, Size2 dilation, int groups)
    {
        if (stride.H <= 0 || stride.W <= 0) throw new ArgumentException($"{who}: stride must be positive, got {stride}.");
        if (dilation.H <= 0 || dilation.W <= 0) throw new ArgumentException($"{who}: dilation must be positive, got {dilation}.");
        if (groups <= 0) throw new ArgumentException($"{who}: groups must be positive, got {groups}.");
    }

    /// <summary>Images per chunk so that the column matrix stays near <see cref="ChunkElements"/>.</summary>
    private static int ChunkSize(int n, long perImage) => (int)Math.Clamp(ChunkElements / Math.Max(perImage, 1), 1, Math.Max(n, 1));

    /// <summary>
    /// What a convolution's backward reads (its row of the derivative table): the dense input and weight, the window
    /// geometry, the batch size, the channel count (output channels for a convolution, input channels for a transposed
    /// one), the groups and the images per chunk.
    /// </summary>
    private sealed record ConvSaved<T>(T[] X, T[] Wt, Window2d G, int N, int Channels, int Groups, int Chunk);

    private static Tensor ConvImpl<T>(Tensor input, Tensor weight, Tensor? bias, Window2d g, int n, int o, int groups) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = input.DenseData<T>();
        var wt = weight.DenseData<T>();
        var b = bias?.DenseData<T>();
        int K = g.K, L = g.L, Kg = K / groups, Og = o / groups, imgSize = g.C * g.H * g.W;
        var y = GC.AllocateUninitializedArray<T>(n * o * L);
        int chunk = ChunkSize(n, (long)K * L);
        var col = ArrayPool<T>.Shared.Rent(chunk * K * L);
        var yt = chunk > 1 ? ArrayPool<T>.Shared.Rent(chunk * o * L) : null;
        try
        {
            for (int n0 = 0; n0 < n; n0 += chunk)
            {
                int bc = Math.Min(chunk, n - n0), nb = bc * L;
                ParallelImages(bc, K * L, i => Im2Col.Forward<T>(x.AsSpan((n0 + i) * imgSize, imgSize), col.AsSpan(i * L), nb, g));
                // One image: the GEMM writes straight into y; several: into (O, bc·L), then regrouped per image.
                var dst = bc == 1 ? y.AsSpan(n0 * o * L, o * L) : yt.AsSpan(0, o * nb);
                for (int gi = 0; gi < groups; gi++)
                    Mm(false, false, Og, nb, Kg, wt.AsSpan(gi * Og * Kg), Kg, col.AsSpan(gi * Kg * nb), nb, dst[(gi * Og * nb)..], nb);
                if (bc > 1) Ungroup<T>(yt!, y.AsSpan(n0 * o * L, bc * o * L), bc, o, L);
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(col);
            if (yt != null) ArrayPool<T>.Shared.Return(yt);
        }
        if (b != null) AddChannelBias<T>(y, b, n, o, L);
        var result = Tensor.Wrap(y, [n, o, g.OH, g.OW]);
        var inputs = bias == null ? new[] { input, weight } : new[] { input, weight, bias };
        return Autograd.Record(result, "ConvolutionBackward", inputs, Derivatives.Fused(new ConvSaved<T>(x, wt, g, n, o, groups, chunk), static (grad, sink, saved) =>
        {
            var (x, wt, g, n, o, groups, chunk) = saved;
            int K = g.K, L = g.L, Kg = K / groups, Og = o / groups, imgSize = g.C * g.H * g.W;
            var gy = grad.DenseData<T>();
            // col2im and the chunked dW GEMMs (β = 1) add into the engine's buffers: a fresh one starts at zero, an
            // existing gradient (a weight's, or a pending one nothing else shares) is accumulated into directly.
            T[]? dx = null, dw = null;
            if (sink.Needs(0)) { dx = sink.Into<T>(0, out bool acc); if (!acc) Array.Clear(dx); }
            if (sink.Needs(1)) { dw = sink.Into<T>(1, out bool acc); if (!acc) Array.Clear(dw); }
            var col2 = ArrayPool<T>.Shared.Rent(chunk * K * L);
            var gt = chunk > 1 ? ArrayPool<T>.Shared.Rent(chunk * o * L) : null;
            try
            {
                for (int n0 = 0; n0 < n; n0 += chunk)
                {
                    int bc = Math.Min(chunk, n - n0), nb = bc * L;
                    ReadOnlySpan<T> gsrc = gy.AsSpan(n0 * o * L, bc * o * L);
                    if (bc > 1) { Regroup<T>(gsrc, gt!, bc, o, L); gsrc = gt.AsSpan(0, o * nb); }
                    if (dw != null)
                    {
                        ParallelImages(bc, K * L, i => Im2Col.Forward<T>(x.AsSpan((n0 + i) * imgSize, imgSize), col2.AsSpan(i * L), nb, g));
                        for (int gi = 0; gi < groups; gi++)
                            Mm(false, true, Og, Kg, nb, gsrc[(gi * Og * nb)..], nb, col2.AsSpan(gi * Kg * nb), nb, dw.AsSpan(gi * Og * Kg), Kg, 1);
                    }
                    if (dx != null)
                    {
                        for (int gi = 0; gi < groups; gi++)
                            Mm(true, false, Kg, nb, Og, wt.AsSpan(gi * Og * Kg), Kg, gsrc[(gi * Og * nb)..], nb, col2.AsSpan(gi * Kg * nb), nb);
                        ParallelImages(bc, K * L, i => Im2Col.Backward<T>(col2.AsSpan(i * L), nb, dx.AsSpan((n0 + i) * imgSize, imgSize), g));
                    }
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(col2);
                if (gt != null) ArrayPool<T>.Shared.Return(gt);
            }
            if (sink.Needs(2)) sink.Add(2, Tensor.Wrap(ChannelSums<T>(gy, n, o, L), [o]));
        }), inputs);
    }

    internal static Tensor ConvTranspose2dCore(string who, Tensor input, Tensor weight, Tensor? bias, Size2 stride, Size2 padding, Size2 outputPadding, int groups, Size2 dilation)
    {
        LossCheck.Float(who, "input", input);
        if (input.Rank == 3 && weight.Rank == 4) return ConvTranspose2dCore(who, input.Unsqueeze(0), weight, bias, stride, padding, outputPadding, groups, dilation).Squeeze(0);
        if (input.Rank != 4) throw new ArgumentException($"{who}: expected input (N, C, H, W) or unbatched (C, H, W), got {input.ShapeString}.", nameof(input));
        if (weight.Rank != 4) throw new ArgumentException($"{who}: weight must be (in_channels, out_channels/groups, kH, kW), got {weight.ShapeString}.", nameof(weight));
        if (weight.DType != input.DType) throw new ArgumentException($"{who}: input is {Tensor.DTypeName(input.DType)} but weight is {Tensor.DTypeName(weight.DType)}.");
        CheckConvArgs(who, stride, dilation, groups);
        if (padding.H < 0 || padding.W < 0) throw new ArgumentException($"{who}: padding must be non-negative, got {padding}.");
        if (outputPadding.H < 0 || outputPadding.W < 0 || (outputPadding.H >= stride.H && outputPadding.H >= dilation.H) || (outputPadding.W >= stride.W && outputPadding.W >= dilation.W))
            throw new ArgumentException($"{who}: output_padding {outputPadding} must be non-negative and smaller than either stride {stride} or dilation {dilation}.");
        int n = input.Dims[0], cin = input.Dims[1], h = input.Dims[2], w = input.Dims[3];
        int cin2 = weight.Dims[0], cog = weight.Dims[1], kh = weight.Dims[2], kw = weight.Dims[3];
        if (cin != cin2) throw new ArgumentException($"{who}: expected input with {cin2} channels (weight {weight.ShapeString}), got input {input.ShapeString}.", nameof(input));
        if (cin % groups != 0) throw new ArgumentException($"{who}: in_channels {cin} is not divisible by groups {groups}.");
        int cout = cog * groups;
        if (bias != null && (bias.Rank != 1 || bias.Dims[0] != cout)) throw new ArgumentException($"{who}: bias must be ({cout},), got {bias.ShapeString}.", nameof(bias));
        int oh = (h - 1) * stride.H - 2 * padding.H + dilation.H * (kh - 1) + outputPadding.H + 1;
        int ow = (w - 1) * stride.W - 2 * padding.W + dilation.W * (kw - 1) + outputPadding.W + 1;
        if (oh <= 0 || ow <= 0)
            throw new ArgumentException($"{who}: input {cin}×{h}×{w} gives an empty output ({oh}×{ow}) with kernel {kh}×{kw}, stride {stride}, padding {padding}; reduce the padding.", nameof(input));
        // The window geometry of the convolution whose adjoint this is: its "image" is our output, its positions our input.
        var geo = new Window2d(cout, oh, ow, kh, kw, stride.H, stride.W, padding.H, padding.W, dilation.H, dilation.W, h, w);
        return input.DType == DType.Float32
            ? ConvTImpl<float>(input, weight, bias, geo, n, cin, groups)
            : ConvTImpl<double>(input, weight, bias, geo, n, cin, groups);
    }

    private static Tensor ConvTImpl<T>(Tensor input, Tensor weight, Tensor? bias, Window2d g, int n, int cin, int groups) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = input.DenseData<T>();
        var wt = weight.DenseData<T>();
        var b = bias?.DenseData<T>();
        int K = g.K, L = g.L, Kg = K / groups, Cg = cin / groups, cout = g.C, outSize = cout * g.H * g.W;
        var y = new T[n * outSize];
        int chunk = ChunkSize(n, (long)K * L);
        var col = ArrayPool<T>.Shared.Rent(chunk * K * L);
        var xt = chunk > 1 ? ArrayPool<T>.Shared.Rent(chunk * cin * L) : null;
        try
        {
            for (int n0 = 0; n0 < n; n0 += chunk)
            {
                int bc = Math.Min(chunk, n - n0), nb = bc * L;
                ReadOnlySpan<T> xs = x.AsSpan(n0 * cin * L, bc * cin * L);
                if (bc > 1) { Regroup<T>(xs, xt!, bc, cin, L); xs = xt.AsSpan(0, cin * nb); }
                for (int gi = 0; gi < groups; gi++)
                    Mm(true, false, Kg, nb, Cg, wt.AsSpan(gi * Cg * Kg), Kg, xs[(gi * Cg * nb)..], nb, col.AsSpan(gi * Kg * nb), nb);
                ParallelImages(bc, K * L, i => Im2Col.Backward<T>(col.AsSpan(i * L), nb, y.AsSpan((n0 + i) * outSize, outSize), g));
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(col);
            if (xt != null) ArrayPool<T>.Shared.Return(xt);
        }
        int plane = g.H * g.W;
        if (b != null) AddChannelBias<T>(y, b, n, cout, plane);
        var result = Tensor.Wrap(y, [n, cout, g.H, g.W]);
        var inputs = bias == null ? new[] { input, weight } : new[] { input, weight, bias };
        return Autograd.Record(result, "ConvolutionBackward", inputs, Derivatives.Fused(new ConvSaved<T>(x, wt, g, n, cin, groups, chunk), static (grad, sink, saved) =>
        {
            var (x, wt, g, n, cin, groups, chunk) = saved;
            int K = g.K, L = g.L, Kg = K / groups, Cg = cin / groups, cout = g.C, outSize = cout * g.H * g.W, plane = g.H * g.W;
            var gy = grad.DenseData<T>();
            // dX is written whole (β = 0 GEMMs or the regrouping copy); dW's chunked GEMMs (β = 1) add into the
            // engine's buffer, zeroed when fresh, or the weight's existing gradient.
            T[]? dx = sink.Needs(0) ? sink.Overwrite<T>(0) : null, dw = null;
            if (sink.Needs(1)) { dw = sink.Into<T>(1, out bool acc); if (!acc) Array.Clear(dw); }
            var col2 = ArrayPool<T>.Shared.Rent(chunk * K * L);
            var tmp = chunk > 1 ? ArrayPool<T>.Shared.Rent(chunk * cin * L) : null;
            try
            {
                for (int n0 = 0; n0 < n; n0 += chunk)
                {
                    int bc = Math.Min(chunk, n - n0), nb = bc * L;
                    ParallelImages(bc, K * L, i => Im2Col.Forward<T>(gy.AsSpan((n0 + i) * outSize, outSize), col2.AsSpan(i * L), nb, g));
                    if (dw != null)
                    {
                        ReadOnlySpan<T> xs = x.AsSpan(n0 * cin * L, bc * cin * L);
                        if (bc > 1) { Regroup<T>(xs, tmp!, bc, cin, L); xs = tmp.AsSpan(0, cin * nb); }
                        for (int gi = 0; gi < groups; gi++)
                            Mm(false, true, Cg, Kg, nb, xs[(gi * Cg * nb)..], nb, col2.AsSpan(gi * Kg * nb), nb, dw.AsSpan(gi * Cg * Kg), Kg, 1);
                    }
                    if (dx != null)
                    {
                        var dst = bc == 1 ? dx.AsSpan(n0 * cin * L, cin * L) : tmp.AsSpan(0, cin * nb);
                        for (int gi = 0; gi < groups; gi++)
                            Mm(false, false, Cg, nb, Kg, wt.AsSpan(gi * Cg * Kg), Kg, col2.AsSpan(gi * Kg * nb), nb, dst[(gi * Cg * nb)..], nb);
                        if (bc > 1) Ungroup<T>(tmp!, dx.AsSpan(n0 * cin * L, bc * cin * L), bc, cin, L);
                    }
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(col2);
                if (tmp != null) ArrayPool<T>.Shared.Return(tmp);
            }
            if (sink.Needs(2)) sink.Add(2, Tensor.Wrap(ChannelSums<T>(gy, n, cout, plane), [cout]));
        }), inputs);
    }

    // ---------------------------------------------------------------- shared pieces

    private static void Mm<T>(bool ta, bool tb, int m, int n, int k, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, float beta = 0) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            Gemm.Sgemm(ta, tb, m, n, k, 1f, System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(a), lda,
                System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(b), ldb, beta, System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(c), ldc);
        else
            Gemm.Dgemm(ta, tb, m, n, k, 1.0, System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(a), lda,
                System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(b), ldb, beta, System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(c), ldc);
    }

    /// <summary>Runs <paramref name="body"/> for each image of a chunk, on both cores when there is enough work.</summary>
    private static void ParallelImages(int count, long workPerImage, Action<int> body)
    {
        if (count == 1 || count * workPerImage < Parallel2.MinParallel || Parallel2.Threads == 1) { for (int i = 0; i < count; i++) body(i); return; }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Parallel2.Threads }, body);
    }

    /// <summary>(bc, R, L) → (R, bc·L): the images of a chunk side by side, so one GEMM covers them all.</summary>
    private static void Regroup<T>(ReadOnlySpan<T> src, Span<T> dst, int bc, int rows, int l) where T : unmanaged
    {
        for (int i = 0; i < bc; i++)
            for (int r = 0; r < rows; r++)
                src.Slice((i * rows + r) * l, l).CopyTo(dst.Slice(r * bc * l + i * l, l));
    }

    /// <summary>(R, bc·L) → (bc, R, L): the inverse of <see cref="Regroup{T}"/>.</summary>
    private static void Ungroup<T>(ReadOnlySpan<T> src, Span<T> dst, int bc, int rows, int l) where T : unmanaged
    {
        for (int i = 0; i < bc; i++)
            for (int r = 0; r < rows; r++)
                src.Slice(r * bc * l + i * l, l).CopyTo(dst.Slice((i * rows + r) * l, l));
    }

    private static void AddChannelBias<T>(T[] y, T[] b, int n, int c, int plane) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
            {
                var s = y.AsSpan((i * c + ch) * plane, plane);
                if (typeof(T) == typeof(float))
                {
                    var f = System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(s);
                    System.Numerics.Tensors.TensorPrimitives.Add(f, (float)(object)b[ch], f);
                }
                else for (int k = 0; k < s.Length; k++) s[k] += b[ch];
            }
    }

    /// <summary>
    /// Σ over batch and positions per channel of (N, C, P): the bias gradient. Each plane is cascade-summed and the
    /// (N, C) plane sums are cascade-summed over the batch, so 128×28×28 terms per channel stay at float32's accuracy.
    /// </summary>
    private static T[] ChannelSums<T>(T[] g, int n, int c, int plane) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var planes = ArrayPool<T>.Shared.Rent(n * c);
        for (int i = 0; i < n * c; i++) planes[i] = Cascade.Sum<T>(g.AsSpan(i * plane, plane));
        var db = new T[c];
        Cascade.Columns<T>(planes.AsSpan(0, n * c), n, c, db);
        ArrayPool<T>.Shared.Return(planes);
        return db;
    }
}
