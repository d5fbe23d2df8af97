using System.Numerics;
using System.Numerics.Tensors;
using Kindling.Kernels;

namespace Kindling;

/// <summary>
/// The backward of one op, as a row of the derivative table keyed by the op's type (tinygrad's <c>gradient.py</c> keys
/// its rules by op): maps the output's gradient g and the op's explicit saved state to its inputs' gradients, delivered
/// through a <see cref="GradSink"/> (the engine accumulates). Elementwise ops are rows through
/// <see cref="Derivatives.Pointwise{TOp}"/>, binary ops implement it in their operator file, fused ops (losses,
/// convolution, pooling, CTC) beside their kernels with a <c>record</c> of what they saved.
/// </summary>
internal interface IDerivativeRule<TSaved>
{
    static abstract void Backward(Tensor g, GradSink sink, TSaved saved);
}

/// <summary>A fused op's backward over its saved record (see <see cref="Derivatives.Fused{TSaved}(TSaved, FusedRule{TSaved})"/>).</summary>
internal delegate void FusedRule<in TSaved>(Tensor g, GradSink sink, TSaved saved);

/// <summary>What an elementwise op's backward reads: its input and output.</summary>
internal readonly record struct UnarySaved(Tensor X, Tensor Y);

/// <summary>What a binary op's backward reads: both inputs (their shapes undo broadcasting) and the output.</summary>
internal readonly record struct BinarySaved(Tensor A, Tensor B, Tensor Y);

/// <summary>
/// The table of derivatives (PyTorch's <c>derivatives.yaml</c>, tinygrad's <c>gradient.py</c>), keyed by the op's type:
/// <see cref="Rule{TRule, TSaved}"/> turns a rule type and its saved state into the node's backward. Elementwise ops
/// (<c>Kernels/Operators/*Operator.cs</c>) carry their own derivative at every SIMD width and run through
/// <see cref="Pointwise{TOp}"/>; binary ops carry a tensor-level rule (<see cref="IBinaryOp"/>). The rows below are the
/// remaining tensor operations, in the order of their files (Tensor.cs, Tensor.Creation.cs, Tensor.Elementwise.cs,
/// Tensor.Reductions.cs, Tensor.Views.cs, Tensor.Indexing.cs, Tensor.Linalg.cs) and then the fused layer
/// <c>Functional.Linear</c>. An operation computes its output and records one of these with
/// <c>Autograd.Record(y, name, inputs, Derivatives.X(...), saved...)</c>.
/// </summary>
/// <remarks>
/// <para>Notation: g is the gradient of the output; x, y the input and output (read through <c>Detach</c>, so no
/// graph is recorded); broadcast inputs get g summed back to their shape (<see cref="Tensor.SumTo"/>).</para>
/// <para>Fused ops (cross-entropy, BCE, the regression losses, convolution, pooling, CTC) keep their rule beside their
/// kernels in <c>NN/Functional</c>, as an <see cref="IDerivativeRule{TSaved}"/> with a record of saved state where they
/// have been converted; all deliver through the same <see cref="GradSink"/>.</para>
/// </remarks>
internal static class Derivatives
{
    /// <summary>The row for rule <typeparamref name="TRule"/>: the node's backward closes over the saved record only.</summary>
    internal static BackwardFn Rule<TRule, TSaved>(TSaved saved) where TRule : IDerivativeRule<TSaved> =>
        (g, s) => TRule.Backward(g, s, saved);

    /// <summary>
    /// A fused op's row (losses, convolution, pooling, CTC): its explicit saved record and a <c>static</c> rule over it —
    /// the compiler rejects a static lambda that captures anything, so what backward reads is exactly the record.
    /// </summary>
    internal static BackwardFn Fused<TSaved>(TSaved saved, FusedRule<TSaved> rule) => (g, s) => rule(g, s, saved);

    /// <summary>A fused op's row whose rule returns one gradient per input (null where none); the engine adds each.</summary>
    internal static BackwardFn Fused<TSaved>(TSaved saved, Func<Tensor, TSaved, Tensor?[]> rule) => (g, s) =>
    {
        var r = rule(g, saved);
        for (int i = 0; i < r.Length; i++) s.Add(i, r[i]);
    };

    /// <summary>An elementwise op's row: ∂x = TOp.Grad(x, y, g) in one kernel pass at the current SIMD level.</summary>
    internal static BackwardFn Pointwise<TOp>(Tensor x, Tensor y) where TOp : IUnaryDerivative =>
        Rule<PointwiseRule<TOp>, UnarySaved>(new UnarySaved(x, y));

    private readonly struct PointwiseRule<TOp> : IDerivativeRule<UnarySaved> where TOp : IUnaryDerivative
    {
        public static void Backward(Tensor g, GradSink s, UnarySaved saved) => Fused(s, saved.X, g, (dst, gc) =>
        {
            var xc = saved.X.Detach().Contiguous();
            var yc = saved.Y.Detach().Contiguous();
            if (xc.DType == DType.Float32) Simd.Grad<TOp>(xc.F32Span, yc.F32Span, gc.F32Span, dst.F32Span);
            else Simd.Grad<TOp, double>(xc.F64Span, yc.F64Span, gc.F64Span, dst.F64Span);
        });
    }

    // ================================================================ Tensor.cs, Tensor.Creation.cs

    /// <summary>contiguous, clone: ∂x = g.</summary>
    internal static readonly BackwardFn Identity = (g, s) => s.Add(0, g);

    /// <summary>to(dtype): ∂x = g converted back to the input's type.</summary>
    internal static BackwardFn ToCopy(DType from) => (g, s) => s.Add(0, g.To(from));

    // ================================================================ Tensor.Elementwise.cs: binary

    /// <summary>xᵖ for a scalar p: ∂x = g·p·x^(p−1).</summary>
    internal static BackwardFn PowScalar(Tensor x, double p) => (g, s) => s.Add(0, g * p * x.Detach().Pow(p - 1));

    /// <summary>maximum/minimum(a, b): g goes to the winner; at ties it is split evenly, as in PyTorch.</summary>
    internal static void MinMax(Tensor g, GradSink s, BinarySaved saved, bool max)
    {
        Tensor ad = saved.A.Detach(), bd = saved.B.Detach();
        var win = (max ? ad.Gt(bd) : ad.Lt(bd)).To(g.DType);
        var wa = win + ad.Eq(bd).To(g.DType) * 0.5;
        if (s.Needs(0)) s.Add(0, (g * wa).SumTo(saved.A.Dims));
        if (s.Needs(1)) s.Add(1, (g * (1 - wa)).SumTo(saved.B.Dims));
    }

    /// <summary>where(c, a, b): ∂a = g where c, ∂b = g elsewhere.</summary>
    internal static BackwardFn Where(Tensor condition, int[] sa, int[] sb) => (g, s) =>
    {
        var z = Tensor.ZerosLike(g);
        if (s.Needs(0)) s.Add(0, Tensor.Where(condition, g, z).SumTo(sa));
        if (s.Needs(1)) s.Add(1, Tensor.Where(condition, z, g).SumTo(sb));
    };

    /// <summary>xlogy(x, y): ∂x = log y where x ≠ 0 (else 0), ∂y = g·x / y.</summary>
    internal static BackwardFn Xlogy(Tensor xd, Tensor yd, int[] sx, int[] sy) => (g, s) =>
    {
        var logy = yd.Log();
        if (s.Needs(0)) s.Add(0, Tensor.Where(xd.Ne(0), g * logy, Tensor.ZerosLike(g * logy)).SumTo(sx));
        if (s.Needs(1)) s.Add(1, (g * xd / yd).SumTo(sy));
    };

    // ================================================================ Tensor.Elementwise.cs: composite

    /// <summary>clamp(x, min, max): g where min ≤ x ≤ max, as in PyTorch.</summary>
    internal static BackwardFn Clamp(Tensor x, double? min, double? max) => (g, s) =>
    {
        var m = Tensor.OnesLike(g);
        if (min is double a) m = m * x.Detach().Ge(a).To(g.DType);
        if (max is double b) m = m * x.Detach().Le(b).To(g.DType);
        s.Add(0, g * m);
    };

    // ================================================================ Tensor.Reductions.cs

    /// <summary>sum along d: ∂x = g broadcast back along d.</summary>
    internal static BackwardFn Sum(int d, bool keepDim, int[] shape) => (g, s) => s.Add(0, (keepDim ? g : g.Unsqueeze(d)).Expand(shape));

    /// <summary>prod along d: ∂xᵢ = g·Π_{j≠i} xⱼ (exclusive prefix × suffix products, exact where elements are zero).</summary>
    internal static BackwardFn Prod(Tensor x, int d, bool keepDim) => (g, s) =>
    {
        var xc = x.Detach().Contiguous().ToFloat64();
        var (outer, n, inner) = xc.Split(d);
        var src = xc.F64Span;
        var others = new double[src.Length];
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < inner; j++)
            {
                int b = o * n * inner + j;
                double acc = 1;
                for (int i = 0; i < n; i++) { others[b + i * inner] = acc; acc *= src[b + i * inner]; }
                acc = 1;
                for (int i = n - 1; i >= 0; i--) { others[b + i * inner] *= acc; acc *= src[b + i * inner]; }
            }
        var ot = new Tensor(others, x.Shape, DType.Float64).To(g.DType);
        s.Add(0, (keepDim ? g : g.Unsqueeze(d)).Expand(x.Dims) * ot);
    };

    /// <summary>max()/min() of all elements: g shared evenly among the elements equal to the result.</summary>
    internal static BackwardFn Extreme(Tensor x, Tensor y) => (g, s) =>
    {
        var mask = x.Detach().Eq(y.Detach()).To(g.DType);
        s.Add(0, g * mask / mask.Sum());
    };

    /// <summary>max/min along d: g goes to the index returned.</summary>
    internal static BackwardFn ExtremeDim(int[] xs, int d, bool keepDim, Tensor idx) => (g, s) =>
    {
        var gk = keepDim ? g : g.Unsqueeze(d);
        var ik = keepDim ? idx : idx.Unsqueeze(d);
        s.Add(0, Tensor.ScatterAdd(Tensor.Zeros(xs, g.DType), d, ik, gk));
    };

    /// <summary>logsumexp along d: ∂x = g·exp(x − y).</summary>
    internal static BackwardFn LogSumExp(Tensor x, Tensor y, int d, bool keepDim) => (g, s) =>
    {
        var yk = keepDim ? y.Detach() : y.Detach().Unsqueeze(d);
        var gk = keepDim ? g : g.Unsqueeze(d);
        s.Add(0, gk * (x.Detach() - yk).Exp());
    };

    /// <summary>2-norm along d: ∂x = g·x / y, 0 where y = 0 (as in PyTorch).</summary>
    internal static BackwardFn Norm2(Tensor x, Tensor y, int d, bool keepDim) => (g, s) =>
    {
        var yk = keepDim ? y.Detach() : y.Detach().Unsqueeze(d);
        var gk = keepDim ? g : g.Unsqueeze(d);
        var scale = Tensor.Where(yk.Eq(0), Tensor.ZerosLike(yk), gk / yk);
        s.Add(0, x.Detach() * scale);
    };

    /// <summary>softmax: ∂x = y·(g − Σ g·y); log_softmax: ∂x = g − eʸ·Σ g (sums along d).</summary>
    internal static BackwardFn Softmax(Tensor y, int d, bool log) => (g, s) =>
    {
        var yd = y.Detach();
        s.Add(0, log ? g - yd.Exp() * g.Sum(d, keepDim: true) : yd * (g - (g * yd).Sum(d, keepDim: true)));
    };

    // ================================================================ Tensor.Views.cs

    /// <summary>reshape/view: ∂x = g reshaped to the input's shape.</summary>
    internal static BackwardFn View(int[] orig) => (g, s) => s.Add(0, g.Reshape(orig));

    /// <summary>permute: ∂x = g permuted by the inverse permutation.</summary>
    internal static BackwardFn Permute(int[] inverse) => (g, s) => s.Add(0, g.Permute(inverse));

    /// <summary>slice: ∂x = zeros with g written at the sliced positions.</summary>
    internal static BackwardFn Slice(int[] orig, int d, int start, int end, int step) => (g, s) =>
    {
        var gx = Tensor.Zeros(orig, g.DType);
        Tensor.CopyInto(g, gx.Slice(d, start, end, step));
        s.Add(0, gx);
    };

    /// <summary>expand: ∂x = g summed over the broadcast dimensions.</summary>
    internal static BackwardFn Expand(int[] orig) => (g, s) => s.Add(0, g.SumTo(orig));

    // ================================================================ Tensor.Indexing.cs

    /// <summary>gather(d, index): ∂x = scatter_add of g at index into zeros.</summary>
    internal static BackwardFn Gather(int[] shape, int d, Tensor index) => (g, s) => s.Add(0, Tensor.ScatterAdd(Tensor.Zeros(shape, g.DType), d, index, g));

    /// <summary>scatter_add(self, d, index, src): ∂self = g, ∂src = g gathered at index.</summary>
    internal static BackwardFn ScatterAdd(int d, Tensor index) => (g, s) =>
    {
        s.Add(0, g);
        if (s.Needs(1)) s.Add(1, g.Gather(d, index));
    };

    /// <summary>index_select(d, ids): ∂x = zeros with each slice of g added at its index (repeats accumulate).</summary>
    internal static BackwardFn IndexSelect(int[] shape, int d, long[] ids) => (g, s) =>
    {
        var gx = Tensor.Zeros(shape, g.DType);
        if (d == 0 && shape.Length >= 1)
        {
            var gc = g.Contiguous();
            for (int i = 0; i < ids.Length; i++)
            {
                var dst = gx.Narrow(0, (int)ids[i], 1);
                Tensor.CopyInto(dst + gc.Narrow(0, i, 1), dst);
            }
        }
        else
            for (int i = 0; i < ids.Length; i++)
            {
                var view = gx.Narrow(d, (int)ids[i], 1);
                Tensor.CopyInto(view + g.Narrow(d, i, 1), view);
            }
        s.Add(0, gx);
    };

    /// <summary>cat along d: each input gets its slice of g.</summary>
    internal static BackwardFn Cat(int[] sizes, int d) => (g, s) =>
    {
        int o = 0;
        for (int t = 0; t < sizes.Length; t++)
        {
            if (s.Needs(t)) s.Add(t, g.Narrow(d, o, sizes[t]).Contiguous());
            o += sizes[t];
        }
    };

    // ================================================================ Tensor.Linalg.cs

    /// <summary>matmul: ∂a = g·bᵀ, ∂b = aᵀ·g (batch dimensions summed back where broadcast).</summary>
    internal static BackwardFn Matmul(Tensor a, Tensor b) => (g, s) =>
    {
        if (s.Needs(0)) s.Add(0, Tensor.Matmul(g, b.Detach().MT).SumTo(a.Dims));
        if (s.Needs(1)) s.Add(1, Tensor.Matmul(a.Detach().MT, g).SumTo(b.Dims));
    };

    // ================================================================ NN/Functional/Layers.cs: the fused linear layer

    /// <summary>
    /// linear y = x·Wᵀ + b with x viewed as (m, in): ∂x = g·W, ∂W = gᵀ·x, ∂b = Σ_rows g (cascade-summed). Each is one GEMM (or row sum)
    /// straight into the buffer the engine hands out: β = 0 when the input has no gradient yet, β = 1 to accumulate
    /// into a weight's existing gradient (no temporary of the weight's size per step, the same sum PyTorch forms by
    /// allocating and adding).
    /// </summary>
    internal static BackwardFn Linear<T>(T[] x, T[] w, int m, int inF, int outF) where T : unmanaged, IFloatingPointIeee754<T> => (g, s) =>
    {
        var ga = g.DenseData<T>();
        if (s.Needs(0)) { var dx = s.Into<T>(0, out bool acc); Mm(false, false, m, inF, outF, ga, outF, w, inF, dx, inF, acc ? 1 : 0); }
        if (s.Needs(1)) { var dw = s.Into<T>(1, out bool acc); Mm(true, false, outF, inF, m, ga, outF, x, inF, dw, inF, acc ? 1 : 0); }
        if (s.Needs(2))
        {
            var db = s.Into<T>(2, out bool acc);
            Cascade.Columns<T>(ga.AsSpan(0, m * outF), m, outF, db, accumulate: acc);
        }
    };

    internal static void Mm<T>(bool ta, bool tb, int m, int n, int k, T[] a, int lda, T[] b, int ldb, T[] c, int ldc, float beta = 0) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            Gemm.Sgemm(ta, tb, m, n, k, 1f, (float[])(object)a, lda, (float[])(object)b, ldb, beta, (float[])(object)c, ldc);
        else
            Gemm.Dgemm(ta, tb, m, n, k, 1.0, (double[])(object)a, lda, (double[])(object)b, ldb, beta, (double[])(object)c, ldc);
    }

    // ================================================================ helpers

    /// <summary>
    /// Runs an elementwise backward kernel <paramref name="write"/>(destination, contiguous g) straight into input 0's
    /// gradient buffer when the engine hands out a fresh one, else into a temporary that is then added.
    /// </summary>
    private static void Fused(GradSink s, Tensor x, Tensor g, Action<Tensor, Tensor> write)
    {
        var gc = g.Contiguous();
        bool acc;
        Tensor dst = x.DType == DType.Float32
            ? Tensor.Wrap(s.Into<float>(0, out acc), x.Dims)
            : Tensor.Wrap(s.Into<double>(0, out acc), x.Dims);
        if (!acc) { write(dst, gc); return; }
        var tmp = Tensor.Uninit(x.Dims, x.DType);
        write(tmp, gc);
        if (x.DType == DType.Float32) TensorPrimitives.Add(dst.F32Span, tmp.F32Span, dst.F32Span);
        else TensorPrimitives.Add(dst.F64Span, tmp.F64Span, dst.F64Span);
    }
}
