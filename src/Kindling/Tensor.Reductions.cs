using System.Numerics;
using Kindling.Kernels;

namespace Kindling;

public sealed partial class Tensor
{
    internal (int outer, int n, int inner) Split(int d)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < d; i++) outer *= Dims[i];
        for (int i = d + 1; i < Rank; i++) inner *= Dims[i];
        return (outer, Dims[d], inner);
    }

    private int[] ReducedShape(int d, bool keepDim)
    {
        if (keepDim) { var s = (int[])Dims.Clone(); s[d] = 1; return s; }
        return Dims.Where((_, i) => i != d).ToArray();
    }

    private Tensor ReduceRaw(ReduceOp op, int d, bool keepDim, string name)
    {
        RefuseUInt8(this, name);
        var x = Detach().Contiguous();
        if (DType == DType.Bool) x = x.To(DType.Int64);
        var (outer, n, inner) = x.Split(d);
        var y = Empty(ReducedShape(d, keepDim), x.DType);
        switch (x.DType)
        {
            case DType.Float32: Reduce.Axis(op, (float[])x.Storage.Data, x.Offset, outer, n, inner, y.F32Span); break;
            case DType.Float64: Reduce.Axis(op, (double[])x.Storage.Data, x.Offset, outer, n, inner, y.F64Span); break;
            case DType.Int64: Reduce.Axis(op, (long[])x.Storage.Data, x.Offset, outer, n, inner, y.I64Span); break;
            default: throw new ArgumentException($"{name}: unsupported type.");
        }
        return y;
    }

    private int[] NormDims(int[] dims, string op)
    {
        var ds = dims.Select(d => NormDim(d, Rank, op)).Distinct().OrderByDescending(d => d).ToArray();
        if (ds.Length != dims.Length) throw new ArgumentException($"{op}: a dimension repeats in {ShapeStr(dims)}.");
        return ds;
    }

    /// <summary>
    /// Sum of all elements (rank-0 result), by cascade summation (float32 within ~1e-7 relative at 10⁸ elements, as
    /// PyTorch); an expanded view is summed as count × value without being materialised.
    /// </summary>
    public Tensor Sum()
    {
        if (Rank == 0) return Sum(0, false);
        var (core, k) = Unexpanded();
        if (k == 1) return Reshape(-1).Sum(0);
        var y = core.Detach().Reshape(-1).ReduceRaw(ReduceOp.Sum, 0, false, "sum");
        ScaleRaw(y, k);
        if (!IsFloatingPoint) return y;
        return Autograd.Record(y, "SumBackward", [this], (g, s) => s.Add(0, g.Expand(Dims)));
    }

    /// <summary>Sum along <paramref name="dim"/> (cascade-summed); keeps it as size 1 when <paramref name="keepDim"/>.</summary>
    public Tensor Sum(int dim, bool keepDim = false)
    {
        if (Rank == 0) { NormDim(dim, 0, "sum"); return Clone(); }
        int d = NormDim(dim, Rank, "sum");
        var y = Unexpanded().Copies > 1 ? SumRawExpanded(d, keepDim) : ReduceRaw(ReduceOp.Sum, d, keepDim, "sum");
        if (!IsFloatingPoint) return y;
        return Autograd.Record(y, "SumBackward", [this], Derivatives.Sum(d, keepDim, Dims));
    }

    /// <summary>Sum over several dimensions.</summary>
    public Tensor Sum(int[] dims, bool keepDim = false)
    {
        var t = this;
        foreach (var d in NormDims(dims, "sum")) t = t.Sum(d, keepDim);
        return t;
    }

    /// <summary>Mean of all elements (NaN for an empty tensor, as in PyTorch).</summary>
    public Tensor Mean() { RequireFloat("mean"); return Sum() / Math.Max(NumEl, 0); }

    /// <summary>Mean along <paramref name="dim"/>.</summary>
    public Tensor Mean(int dim, bool keepDim = false)
    {
        RequireFloat("mean");
        if (Rank == 0) return Clone();
        return Sum(dim, keepDim) / Dims[NormDim(dim, Rank, "mean")];
    }

    /// <summary>Mean over several dimensions.</summary>
    public Tensor Mean(int[] dims, bool keepDim = false)
    {
        RequireFloat("mean");
        int count = NormDims(dims, "mean").Aggregate(1, (a, d) => a * Dims[d]);
        return Sum(dims, keepDim) / count;
    }

    /// <summary>Variance with Bessel's correction by default (<paramref name="correction"/> = 1, PyTorch's unbiased=True).</summary>
    public Tensor Var(int? dim = null, int correction = 1, bool keepDim = false)
    {
        RequireFloat("var");
        if (dim is not int d)
        {
            // Over all elements: an expanded view's core with each element counted k times (Σ(x − mean)² scales by k).
            var core = UnexpandedForWholeReduction(out long k);
            var f = core.Reshape(-1);
            if (k == 1) return f.Var(0, correction);
            var dev0 = f - f.Mean();
            return (dev0 * dev0).Sum() * (double)k / Math.Max(0, NumEl - correction);
        }
        if (VarRows(NormDim(d, Rank, "var"), correction, keepDim) is Tensor fused) return fused;
        var m = Mean(d, keepDim: true);
        var dev = this - m;
        int n = Dims[NormDim(d, Rank, "var")];
        return (dev * dev).Sum(d, keepDim) / Math.Max(0, n - correction);
    }

    /// <summary>Standard deviation (square root of <see cref="Var"/>).</summary>
    public Tensor Std(int? dim = null, int correction = 1, bool keepDim = false) => Var(dim, correction, keepDim).Sqrt();

    /// <summary>Product of all elements.</summary>
    public Tensor Prod() => Reshape(-1).Prod(0);

    /// <summary>Product along a dimension; the gradient is exact even where elements are zero.</summary>
    public Tensor Prod(int dim, bool keepDim = false)
    {
        int d = NormDim(dim, Rank, "prod");
        if (Rank == 0) return Clone();
        var y = ReduceRaw(ReduceOp.Prod, d, keepDim, "prod");
        if (!IsFloatingPoint) return y;
        return Autograd.Record(y, "ProdBackward", [this], Derivatives.Prod(this, d, keepDim), this);
    }

    /// <summary>Maximum of all elements (NaN if any is NaN); the gradient is shared among ties.</summary>
    public Tensor Max() => Extreme(true);

    /// <summary>Minimum of all elements.</summary>
    public Tensor Min() => Extreme(false);

    private Tensor Extreme(bool max)
    {
        if (NumEl == 0) throw new ArgumentException($"{(max ? "max" : "min")}: the tensor is empty (shape {ShapeString}); there is no identity to return.");
        var flat = Detach().Reshape(-1);
        var y = flat.ReduceRaw(max ? ReduceOp.Max : ReduceOp.Min, 0, false, max ? "max" : "min");
        if (!IsFloatingPoint) return y;
        return Autograd.Record(y, max ? "MaxBackward" : "MinBackward", [this], Derivatives.Extreme(this, y), this);
    }

    /// <summary>Maximum along <paramref name="dim"/> with the index of the first maximum (PyTorch's <c>max(dim)</c>).</summary>
    public (Tensor Values, Tensor Indices) Max(int dim, bool keepDim = false) => ExtremeDim(true, dim, keepDim);

    /// <summary>Minimum along <paramref name="dim"/> with the index of the first minimum.</summary>
    public (Tensor Values, Tensor Indices) Min(int dim, bool keepDim = false) => ExtremeDim(false, dim, keepDim);

    private (Tensor, Tensor) ExtremeDim(bool max, int dim, bool keepDim)
    {
        string name = max ? "max" : "min";
        if (Rank == 0) { NormDim(dim, 0, name); return (Clone(), Scalar(0, DType.Int64)); }
        int d = NormDim(dim, Rank, name);
        var x = Detach().Contiguous();
        if (x.DType == DType.Bool) x = x.To(DType.Int64);
        var (outer, n, inner) = x.Split(d);
        if (n == 0) throw new ArgumentException($"{name}: dimension {d} of shape {ShapeString} is empty.");
        var shape = ReducedShape(d, keepDim);
        var idx = Empty(shape, DType.Int64);
        var val = Empty(shape, x.DType);
        switch (x.DType)
        {
            case DType.Float32: Reduce.ArgExtreme(max, (float[])x.Storage.Data, x.Offset, outer, n, inner, idx.I64Span, val.F32Span); break;
            case DType.Float64: Reduce.ArgExtreme(max, (double[])x.Storage.Data, x.Offset, outer, n, inner, idx.I64Span, val.F64Span); break;
            default: Reduce.ArgExtreme(max, (long[])x.Storage.Data, x.Offset, outer, n, inner, idx.I64Span, val.I64Span); break;
        }
        if (IsFloatingPoint)
        {
            val = Autograd.Record(val, max ? "MaxBackward" : "MinBackward", [this], Derivatives.ExtremeDim(Dims, d, keepDim, idx));
        }
        return (val, idx);
    }

    /// <summary>Index of the maximum of the flattened tensor, or along <paramref name="dim"/> (int64).</summary>
    public Tensor ArgMax(int? dim = null, bool keepDim = false) =>
        dim is int d ? Max(d, keepDim).Indices : Reshape(-1).Max(0).Indices;

    /// <summary>Index of the minimum of the flattened tensor, or along <paramref name="dim"/> (int64).</summary>
    public Tensor ArgMin(int? dim = null, bool keepDim = false) =>
        dim is int d ? Min(d, keepDim).Indices : Reshape(-1).Min(0).Indices;

    /// <summary>log Σ exp(x) along <paramref name="dim"/>, with the maximum subtracted first so large values do not overflow.</summary>
    public Tensor LogSumExp(int dim, bool keepDim = false)
    {
        RequireFloat("logsumexp");
        int d = NormDim(dim, Rank, "logsumexp");
        var x = Detach();
        var m = x.Max(d, keepDim: true).Values;
        // An all -inf slice would give -inf - (-inf) = NaN; shifting by 0 there keeps the answer -inf.
        m = Where(m.IsFinite(), m, ZerosLike(m));
        var y = (x - m).Exp().Sum(d, keepDim: true).Log() + m;
        if (!keepDim) y = y.Squeeze(d);
        return Autograd.Record(y, "LogsumexpBackward", [this], Derivatives.LogSumExp(this, y, d, keepDim), this, y);
    }

    /// <summary>
    /// The p-norm (Σ|x|ᵖ)^(1/p) of all elements or along <paramref name="dim"/>; p may be any positive value or
    /// double.PositiveInfinity (max |x|). The gradient of the 2-norm at 0 is 0, as in PyTorch.
    /// </summary>
    public Tensor Norm(double p = 2, int? dim = null, bool keepDim = false)
    {
        RequireFloat("norm");
        if (!(p > 0)) throw new ArgumentException($"norm: p must be positive, got {p}.");
        if (dim is not int d)
        {
            // (Σ over k copies of |x|ᵖ)^(1/p) = k^(1/p)·‖core‖ₚ; the maximum is the core's.
            var core = UnexpandedForWholeReduction(out long k);
            var whole = core.Reshape(-1).Norm(p, 0, false);
            return k == 1 || double.IsPositiveInfinity(p) ? whole : whole * Math.Pow(k, 1 / p);
        }
        if (double.IsPositiveInfinity(p)) return Abs().Max(d, keepDim).Values;
        if (p == 1) return Abs().Sum(d, keepDim);
        if (p == 2)
        {
            d = NormDim(d, Rank, "norm");
            var y = Detach().Norm2Rows(d, keepDim) ?? Detach().Square().Sum(d, keepDim).Sqrt();
            return Autograd.Record(y, "NormBackward", [this], Derivatives.Norm2(this, y, d, keepDim), this, y);
        }
        return Abs().Pow(p).Sum(d, keepDim).Pow(1 / p);
    }

    /// <summary>Softmax along <paramref name="dim"/>: exp(x − max) / Σ exp(x − max), finite for logits of any size.</summary>
    public Tensor Softmax(int dim) => SoftmaxImpl(dim, false);

    /// <summary>log-softmax along <paramref name="dim"/>: x − max − log Σ exp(x − max), exact and finite for large logits.</summary>
    public Tensor LogSoftmax(int dim) => SoftmaxImpl(dim, true);

    private Tensor SoftmaxImpl(int dim, bool log)
    {
        string name = log ? "log_softmax" : "softmax";
        RequireFloat(name);
        if (Rank == 0) { NormDim(dim, 0, name); return log ? ZerosLike(this) : OnesLike(this); }
        int d = NormDim(dim, Rank, name);
        var x = Detach();
        bool last = d == Rank - 1;
        var xt = (last ? x : x.Transpose(d, -1)).Contiguous();
        var yt = Uninit(xt.Dims, DType);
        int n = xt.Dims[^1];
        int rows = n == 0 ? 0 : xt.NumEl / n;
        if (DType == DType.Float32) Kernels.Softmax.Rows(log, (float[])xt.Storage.Data, xt.Offset, (float[])yt.Storage.Data, 0, rows, n);
        else Kernels.Softmax.Rows(log, (double[])xt.Storage.Data, xt.Offset, (double[])yt.Storage.Data, 0, rows, n);
        var y = last ? yt : yt.Transpose(d, -1).Contiguous();
        return Autograd.Record(y, log ? "LogSoftmaxBackward" : "SoftmaxBackward", [this], Derivatives.Softmax(y, d, log), y);
    }
}
