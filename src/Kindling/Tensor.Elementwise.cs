using System.Numerics;
using Kindling.Kernels;

namespace Kindling;

public sealed partial class Tensor
{
    // ---------------------------------------------------------------- broadcasting

    /// <summary>NumPy/PyTorch broadcasting: align shapes at the right; each pair of sizes must match or one must be 1.</summary>
    public static int[] BroadcastShapes(int[] a, int[] b, string op = "broadcast")
    {
        int r = Math.Max(a.Length, b.Length);
        var s = new int[r];
        for (int i = 0; i < r; i++)
        {
            int da = i - (r - a.Length) >= 0 ? a[i - (r - a.Length)] : 1;
            int db = i - (r - b.Length) >= 0 ? b[i - (r - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {ShapeStr(a)} and {ShapeStr(b)} cannot be broadcast: size {da} vs {db} at dimension {i} (counting the aligned shapes).");
            s[i] = da == 1 ? db : da;
        }
        return s;
    }

    /// <summary>Sums a broadcast gradient back down to <paramref name="shape"/> (the adjoint of broadcasting).</summary>
    internal Tensor SumTo(int[] shape)
    {
        if (Dims.AsSpan().SequenceEqual(shape)) return this;
        int lead = Rank - shape.Length;
        var dims = new List<int>();
        for (int i = 0; i < Rank; i++)
            if (i < lead || (shape[i - lead] == 1 && Dims[i] != 1)) dims.Add(i);
        var s = dims.Count > 0 ? Sum(dims.ToArray(), keepDim: true) : this;
        return s.Reshape(shape);
    }

    private static DType Promote(DType a, DType b)
    {
        if (a == DType.Float64 || b == DType.Float64) return DType.Float64;
        if (a == DType.Float32 || b == DType.Float32) return DType.Float32;
        if (a == DType.Int64 || b == DType.Int64) return DType.Int64;
        return DType.Bool;
    }

    /// <summary>Runs a binary kernel over broadcast operands, without recording. Rows of the last dimension go to the kernel whole.</summary>
    private static Tensor BinaryRaw(Tensor a, Tensor b, string op, DType dt, Action<Tensor, Tensor, Tensor, int, int, int, int, int> rowKernel, DType outType)
    {
        RefuseUInt8(a, op); RefuseUInt8(b, op);
        var shape = BroadcastShapes(a.Dims, b.Dims, op);
        var ac = a.Detach().To(dt).Contiguous();
        var bc = b.Detach().To(dt).Contiguous();
        var y = Uninit(shape, outType);
        int n = y.NumEl;
        if (n == 0) return y;
        bool same = ac.Dims.AsSpan().SequenceEqual(shape) && bc.Dims.AsSpan().SequenceEqual(shape);
        if (same || ac.NumEl == 1 || bc.NumEl == 1)
        {
            bool sa = ac.NumEl == 1 && n != 1, sb = bc.NumEl == 1 && n != 1;
            Parallel2.For(n, 1 << 15, (s, len) => rowKernel(ac, bc, y, sa ? 0 : s, sa ? 1 : len, sb ? 0 : s, sb ? 1 : len, s));
            return y;
        }
        int r = shape.Length;
        var stA = BroadcastStrides(ac, shape);
        var stB = BroadcastStrides(bc, shape);
        int L = shape[r - 1];
        int la = stA[r - 1] == 0 ? 1 : L, lb = stB[r - 1] == 0 ? 1 : L;
        var idx = new int[r];
        for (int pos = 0; pos < n; pos += L)
        {
            int oa = 0, ob = 0;
            for (int d = 0; d < r - 1; d++) { oa += idx[d] * stA[d]; ob += idx[d] * stB[d]; }
            rowKernel(ac, bc, y, oa, la, ob, lb, pos);
            for (int d = r - 2; d >= 0; d--)
            {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
        return y;
    }

    private static int[] BroadcastStrides(Tensor t, int[] shape)
    {
        int lead = shape.Length - t.Rank;
        var st = new int[shape.Length];
        for (int i = lead; i < shape.Length; i++) st[i] = t.Dims[i - lead] == 1 ? 0 : t.Strides_[i - lead];
        return st;
    }

    private static Tensor ArithRaw<TOp>(Tensor a, Tensor b) where TOp : IBinaryOp
    {
        string name = TOp.Name;
        RefuseUInt8(a, name); RefuseUInt8(b, name);
        var dt = Promote(a.DType, b.DType);
        if (dt == DType.Bool) dt = DType.Int64;
        if (dt == DType.Int64 && typeof(TOp) == typeof(DivOperator) || dt == DType.Int64 && typeof(TOp) == typeof(PowOperator))
            throw new ArgumentException($"{name}: integer tensors ({ShapeStr(a.Dims)} and {ShapeStr(b.Dims)}) are not supported; convert to float first with .ToFloat32().");
        return dt switch
        {
            DType.Float32 => BinaryRaw(a, b, name, dt, Row<float>, dt),
            DType.Float64 => BinaryRaw(a, b, name, dt, Row<double>, dt),
            _ => BinaryRaw(a, b, name, dt, Row<long>, dt),
        };

        static void Row<T>(Tensor x, Tensor z, Tensor y, int oa, int la, int ob, int lb, int oy) where T : unmanaged
        {
            int len = Math.Max(la, lb);
            Simd.Map<TOp, T>(new ReadOnlySpan<T>((T[])x.Storage.Data, x.Offset + oa, la), new ReadOnlySpan<T>((T[])z.Storage.Data, z.Offset + ob, lb),
                new Span<T>((T[])y.Storage.Data, y.Offset + oy, len));
        }
    }

    /// <summary>Runs binary op <typeparamref name="TOp"/> with broadcasting and records its derivative row.</summary>
    private static Tensor Binary<TOp>(Tensor a, Tensor b) where TOp : IBinaryOp
    {
        var y = ArithRaw<TOp>(a, b);
        return Autograd.Record(y, NodeName<TOp>.Value, [a, b], Derivatives.Rule<TOp, BinarySaved>(new BinarySaved(a, b, y)), a, b, y);
    }

    /// <summary>"add" → "AddBackward": PyTorch's grad_fn naming, computed once per op.</summary>
    private static class NodeName<TOp> where TOp : IBinaryOp
    {
        public static readonly string Value = char.ToUpperInvariant(TOp.Name[0]) + TOp.Name[1..] + "Backward";
    }

    private static Tensor CompareRaw(CompareOp op, Tensor a, Tensor b, string name)
    {
        var dt = Promote(a.DType, b.DType);
        if (dt == DType.Bool) dt = DType.Int64;
        return dt switch
        {
            DType.Float32 => BinaryRaw(a, b, name, dt, (x, z, y, oa, la, ob, lb, oy) => Row<float>(op, x, z, y, oa, la, ob, lb, oy), DType.Bool),
            DType.Float64 => BinaryRaw(a, b, name, dt, (x, z, y, oa, la, ob, lb, oy) => Row<double>(op, x, z, y, oa, la, ob, lb, oy), DType.Bool),
            _ => BinaryRaw(a, b, name, dt, (x, z, y, oa, la, ob, lb, oy) => Row<long>(op, x, z, y, oa, la, ob, lb, oy), DType.Bool),
        };
        static void Row<T>(CompareOp op, Tensor x, Tensor z, Tensor y, int oa, int la, int ob, int lb, int oy) where T : unmanaged, INumber<T>
        {
            int len = Math.Max(la, lb);
            Elementwise.Compare(op, new ReadOnlySpan<T>((T[])x.Storage.Data, x.Offset + oa, la),
                new ReadOnlySpan<T>((T[])z.Storage.Data, z.Offset + ob, lb), new Span<bool>((bool[])y.Storage.Data, y.Offset + oy, len));
        }
    }

    private Tensor ScalarLike(double v) => Scalar(v, IsFloatingPoint ? DType : (v == Math.Floor(v) ? DType.Int64 : DType.Float32));

    // ---------------------------------------------------------------- arithmetic with autograd

    /// <summary>a + b with broadcasting.</summary>
    public static Tensor Add(Tensor a, Tensor b) => Binary<AddOperator>(a, b);

    /// <summary>a − b with broadcasting.</summary>
    public static Tensor Sub(Tensor a, Tensor b) => Binary<SubOperator>(a, b);

    /// <summary>a · b elementwise with broadcasting.</summary>
    public static Tensor Mul(Tensor a, Tensor b) => Binary<MulOperator>(a, b);

    /// <summary>a / b elementwise with broadcasting (float only).</summary>
    public static Tensor Div(Tensor a, Tensor b) => Binary<DivOperator>(a, b);

    /// <summary>a raised to b elementwise with broadcasting (float only).</summary>
    public static Tensor Pow(Tensor a, Tensor b) => Binary<PowOperator>(a, b);

    /// <summary>x raised to a scalar power.</summary>
    public Tensor Pow(double exponent)
    {
        RequireFloat("pow");
        var y = ArithRaw<PowOperator>(this, ScalarLike(exponent));
        return Autograd.Record(y, "PowBackward", [this], Derivatives.PowScalar(this, exponent), this);
    }

    /// <summary>Elementwise maximum (NaN propagates); at ties the gradient is split evenly, as in PyTorch.</summary>
    public static Tensor Maximum(Tensor a, Tensor b) => Binary<MaximumOperator>(a, b);

    /// <summary>Elementwise minimum (NaN propagates); at ties the gradient is split evenly, as in PyTorch.</summary>
    public static Tensor Minimum(Tensor a, Tensor b) => Binary<MinimumOperator>(a, b);

    public static Tensor operator +(Tensor a, Tensor b) => Add(a, b);
    public static Tensor operator -(Tensor a, Tensor b) => Sub(a, b);
    public static Tensor operator *(Tensor a, Tensor b) => Mul(a, b);
    public static Tensor operator /(Tensor a, Tensor b) => Div(a, b);
    public static Tensor operator +(Tensor a, double b) => Add(a, a.ScalarLike(b));
    public static Tensor operator +(double a, Tensor b) => Add(b.ScalarLike(a), b);
    public static Tensor operator -(Tensor a, double b) => Sub(a, a.ScalarLike(b));
    public static Tensor operator -(double a, Tensor b) => Sub(b.ScalarLike(a), b);
    public static Tensor operator *(Tensor a, double b) => Mul(a, a.ScalarLike(b));
    public static Tensor operator *(double a, Tensor b) => Mul(b.ScalarLike(a), b);
    public static Tensor operator /(Tensor a, double b) => Div(a, a.ScalarLike(b));
    public static Tensor operator /(double a, Tensor b) => Div(b.ScalarLike(a), b);
    public static Tensor operator -(Tensor a) => a.Neg();

    // ---------------------------------------------------------------- comparisons (bool masks, not differentiable)

    /// <summary>Elementwise a == b as a bool mask.</summary>
    public Tensor Eq(Tensor other) => CompareRaw(CompareOp.Eq, this, other, "eq");
    /// <summary>Elementwise a != b.</summary>
    public Tensor Ne(Tensor other) => CompareRaw(CompareOp.Ne, this, other, "ne");
    /// <summary>Elementwise a &lt; b.</summary>
    public Tensor Lt(Tensor other) => CompareRaw(CompareOp.Lt, this, other, "lt");
    /// <summary>Elementwise a ≤ b.</summary>
    public Tensor Le(Tensor other) => CompareRaw(CompareOp.Le, this, other, "le");
    /// <summary>Elementwise a &gt; b.</summary>
    public Tensor Gt(Tensor other) => CompareRaw(CompareOp.Gt, this, other, "gt");
    /// <summary>Elementwise a ≥ b.</summary>
    public Tensor Ge(Tensor other) => CompareRaw(CompareOp.Ge, this, other, "ge");
    public Tensor Eq(double v) => Eq(ScalarLike(v));
    public Tensor Ne(double v) => Ne(ScalarLike(v));
    public Tensor Lt(double v) => Lt(ScalarLike(v));
    public Tensor Le(double v) => Le(ScalarLike(v));
    public Tensor Gt(double v) => Gt(ScalarLike(v));
    public Tensor Ge(double v) => Ge(ScalarLike(v));

    /// <summary>Elementwise choice: <paramref name="a"/> where <paramref name="condition"/> is true, else <paramref name="b"/> (all broadcast).</summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b)
    {
        if (condition.DType != DType.Bool) throw new ArgumentException($"where: condition must be a bool mask (from a comparison), got {DTypeName(condition.DType)}.");
        var dt = Promote(a.DType, b.DType);
        var shape = BroadcastShapes(BroadcastShapes(condition.Dims, a.Dims, "where"), b.Dims, "where");
        var c = condition.Detach().Expand(shape).Contiguous().BoolSpan.ToArray();
        var av = a.Detach().To(dt).Expand(shape).Contiguous();
        var bv = b.Detach().To(dt).Expand(shape).Contiguous();
        var y = Empty(shape, dt);
        switch (dt)
        {
            case DType.Float32: Sel(c, av.F32Span, bv.F32Span, y.F32Span); break;
            case DType.Float64: Sel(c, av.F64Span, bv.F64Span, y.F64Span); break;
            case DType.Int64: Sel(c, av.I64Span, bv.I64Span, y.I64Span); break;
            default: Sel(c, av.BoolSpan, bv.BoolSpan, y.BoolSpan); break;
        }
        return Autograd.Record(y, "WhereBackward", [a, b], Derivatives.Where(condition, a.Dims, b.Dims));
        static void Sel<T>(bool[] c, Span<T> a, Span<T> b, Span<T> y) where T : unmanaged
        {
            for (int i = 0; i < y.Length; i++) y[i] = c[i] ? a[i] : b[i];
        }
    }

    // ---------------------------------------------------------------- unary ops

    private Tensor UnaryRaw<TOp>(string name) where TOp : IUnaryOperator
    {
        RequireFloat(name);
        var x = Detach().Contiguous();
        var y = Uninit(Dims, DType);
        if (DType == DType.Float32) Elementwise.Unary<TOp, float>((float[])x.Storage.Data, x.Offset, (float[])y.Storage.Data, 0, NumEl);
        else Elementwise.Unary<TOp, double>((double[])x.Storage.Data, x.Offset, (double[])y.Storage.Data, 0, NumEl);
        return y;
    }

    /// <summary>
    /// Runs elementwise op <typeparamref name="TOp"/> (one struct: forward at every SIMD width and its derivative) and
    /// records its row of the derivative table. A new op is its operator file plus a one-line entry below.
    /// </summary>
    internal Tensor Unary<TOp>() where TOp : IPointwiseOp
    {
        var y = UnaryRaw<TOp>(TOp.Name);
        return Autograd.Record(y, UnaryName<TOp>.Value, [this], Derivatives.Pointwise<TOp>(this, y), this, y);
    }

    private static class UnaryName<TOp> where TOp : IPointwiseOp
    {
        public static readonly string Value = char.ToUpperInvariant(TOp.Name[0]) + TOp.Name[1..] + "Backward";
    }

    /// <summary>−x.</summary>
    public Tensor Neg() => IsFloatingPoint ? Unary<NegOperator>() : ArithRaw<SubOperator>(Scalar(0, DType.Int64), this);
    /// <summary>eˣ.</summary>
    public Tensor Exp() => Unary<ExpOperator>();
    /// <summary>Natural logarithm.</summary>
    public Tensor Log() => Unary<LogOperator>();
    /// <summary>log(1 + x), accurate for small x.</summary>
    public Tensor Log1p() => Unary<Log1pOperator>();
    /// <summary>eˣ − 1, accurate for small x.</summary>
    public Tensor Expm1() => Unary<Expm1Operator>();
    /// <summary>√x.</summary>
    public Tensor Sqrt() => Unary<SqrtOperator>();
    /// <summary>1/√x.</summary>
    public Tensor Rsqrt() => Unary<RsqrtOperator>();
    /// <summary>|x|; its gradient at 0 is 0, as in PyTorch.</summary>
    public Tensor Abs() => Unary<AbsOperator>();
    /// <summary>−1, 0 or 1 (NaN stays NaN); zero gradient.</summary>
    public Tensor Sign() => Unary<SignOperator>();
    /// <summary>1 / (1 + e⁻ˣ), computed without overflow for either sign.</summary>
    public Tensor Sigmoid() => Unary<SigmoidOperator>();
    /// <summary>Hyperbolic tangent.</summary>
    public Tensor Tanh() => Unary<TanhOperator>();
    /// <summary>max(x, 0); gradient 0 at 0, as in PyTorch.</summary>
    public Tensor Relu() => Unary<ReluOperator>();
    /// <summary>log(1 + eˣ), computed as max(x, 0) + log1p(e^−|x|) so it never overflows.</summary>
    public Tensor Softplus() => Unary<SoftplusOperator>();
    /// <summary>Gaussian error linear unit with the exact erf (PyTorch's default approximate='none'): x·Φ(x).</summary>
    public Tensor Gelu() => Unary<GeluOperator>();
    /// <summary>The error function.</summary>
    public Tensor Erf() => Unary<ErfOperator>();
    /// <summary>x².</summary>
    public Tensor Square() => Unary<SquareOperator>();
    /// <summary>1/x.</summary>
    public Tensor Reciprocal() => Unary<ReciprocalOperator>();
    /// <summary>sin x.</summary>
    public Tensor Sin() => Unary<SinOperator>();
    /// <summary>cos x.</summary>
    public Tensor Cos() => Unary<CosOperator>();
    /// <summary>SiLU (swish): x·σ(x), one fused node.</summary>
    public Tensor Silu() => Unary<SiluOperator>();
    /// <summary>Hard swish (MobileNetV3, PyTorch's <c>F.hardswish</c>): x·min(max(x + 3, 0), 6)/6.</summary>
    public Tensor Hardswish() => Unary<HardswishOperator>();
    /// <summary>Mish (PyTorch's <c>F.mish</c>): x·tanh(softplus(x)).</summary>
    public Tensor Mish() => Unary<MishOperator>();

    /// <summary>Clamps to [min, max] (either bound optional); the gradient passes where min ≤ x ≤ max, as in PyTorch.</summary>
    public Tensor Clamp(double? min = null, double? max = null)
    {
        RequireFloat("clamp");
        if (min == null && max == null) throw new ArgumentException("clamp: at least one of min and max must be given.");
        var x = Detach();
        var y = x;
        if (min is double lo) y = Maximum(y, ScalarLike(lo));
        if (max is double hi) y = Minimum(y, ScalarLike(hi));
        if (ReferenceEquals(y, x)) y = x.Clone();
        return Autograd.Record(y, "ClampBackward", [this], Derivatives.Clamp(this, min, max), this);
    }

    /// <summary>Leaky ReLU: x for x &gt; 0, slope·x otherwise.</summary>
    public Tensor LeakyRelu(double negativeSlope = 0.01)
    {
        var pos = Gt(0);
        return Where(pos, this, this * negativeSlope);
    }

    /// <summary>ELU: x for x &gt; 0, α(eˣ − 1) otherwise.</summary>
    public Tensor Elu(double alpha = 1.0) => Where(Gt(0), this, Clamp(max: 0).Expm1() * alpha);


    // ---------------------------------------------------------------- in-place (optimizers, initialisers)

    private void CheckInPlace(string op)
    {
        if (Autograd.IsGradEnabled && RequiresGrad && IsLeaf)
            throw new InvalidOperationException($"{op}: a leaf tensor that requires grad (shape {ShapeString}) cannot be modified in place while gradients are recorded; do it inside using (Autograd.NoGrad()).");
        // PyTorch: "a view of a leaf Variable that requires grad is being used in an in-place operation".
        if (Autograd.IsGradEnabled && RequiresGrad && !IsLeaf && Storage.GradLeaf is { RequiresGradFlag: true } leaf && !ReferenceEquals(leaf, this))
            throw new InvalidOperationException($"{op}: this tensor (shape {ShapeString}) is a view of a leaf tensor that requires grad (shape {leaf.ShapeString}), which cannot be modified in place while gradients are recorded; do it inside using (Autograd.NoGrad()), or Clone() first.");
        Storage.Version++;
    }

    /// <summary>this += other·alpha in place (other broadcast to this shape).</summary>
    public Tensor AddInPlace(Tensor other, double alpha = 1)
    {
        CheckInPlace("AddInPlace");
        var o = alpha == 1 ? other.Detach() : other.Detach() * alpha;
        var sum = ArithRaw<AddOperator>(Detach(), o);
        if (!sum.Dims.AsSpan().SequenceEqual(Dims)) throw new ArgumentException($"AddInPlace: {other.ShapeString} does not broadcast to {ShapeString}.");
        CopyInto(sum, Detach());
        return this;
    }

    /// <summary>this *= value in place.</summary>
    public Tensor MulInPlace(double value)
    {
        CheckInPlace("MulInPlace");
        CopyInto(ArithRaw<MulOperator>(Detach(), ScalarLike(value)), Detach());
        return this;
    }

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    public Tensor Fill_(double value)
    {
        CheckInPlace("Fill_");
        if (IsContiguous) FillRaw(value);
        else CopyInto(Full(Dims, value, DType), Detach());
        return this;
    }

    /// <summary>Sets every element to zero.</summary>
    public Tensor Zero_() => Fill_(0);

    /// <summary>Copies <paramref name="src"/> (same shape, any type) into this tensor.</summary>
    public Tensor CopyFrom(Tensor src)
    {
        CheckInPlace("CopyFrom");
        if (!src.Dims.AsSpan().SequenceEqual(Dims)) throw new ArgumentException($"CopyFrom: source shape {src.ShapeString} differs from {ShapeString}.");
        CopyInto(src.Detach(), Detach());
        return this;
    }
}

public sealed partial class Tensor
{
    /// <summary>
    /// x·log(y) elementwise, defined as 0 where x = 0 (unless y is NaN), as in PyTorch's <c>xlogy</c>; used for
    /// entropies so that 0·log 0 = 0. Gradients: ∂/∂x = log y where x ≠ 0 (else 0), ∂/∂y = x / y.
    /// </summary>
    public static Tensor Xlogy(Tensor x, Tensor y)
    {
        x.RequireFloat("xlogy"); y.RequireFloat("xlogy");
        Tensor xd = x.Detach(), yd = y.Detach();
        var prod = xd * yd.Log();
        var zeroX = xd.Eq(0).LogicalAnd(yd.IsNaN().LogicalNot());
        var r = Where(zeroX, ZerosLike(prod), prod);
        return Autograd.Record(r, "XlogyBackward", [x, y], Derivatives.Xlogy(xd, yd, x.Dims, y.Dims), x, y);
    }
}
