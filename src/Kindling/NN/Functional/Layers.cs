using System.Numerics;
using Kindling.Kernels;

namespace Kindling.NN;

public static partial class Functional
{
    /// <summary>
    /// Affine map y = x·Wᵀ + b (PyTorch's <c>F.linear</c>) as one fused node: the forward is one GEMM with W read
    /// transposed in place, and the backward computes dX = g·W, dW = gᵀ·x and db = Σ g with no transposed copies.
    /// Shapes: input (..., in), weight (out, in), bias (out) or null → (..., out).
    /// </summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null)
    {
        const string L = "linear";
        LossCheck.Float(L, "input", input);
        if (weight.Rank != 2) throw new ArgumentException($"{L}: weight must be (out_features, in_features), got {weight.ShapeString}.", nameof(weight));
        int outF = weight.Dims[0], inF = weight.Dims[1];
        if (input.Rank == 0 || input.Dims[^1] != inF)
            throw new ArgumentException($"{L}: input {input.ShapeString} @ weightᵀ {Tensor.ShapeStr([inF, outF])}: the input's last dimension must be in_features = {inF}.", nameof(input));
        if (bias != null && (bias.Rank != 1 || bias.Dims[0] != outF))
            throw new ArgumentException($"{L}: bias must be ({outF},), got {bias.ShapeString}.", nameof(bias));
        if (weight.DType != input.DType) throw new ArgumentException($"{L}: input is {Tensor.DTypeName(input.DType)} but weight is {Tensor.DTypeName(weight.DType)}.");
        int m = input.NumEl / inF;
        int[] outShape = [.. input.Dims[..^1], outF];
        return input.DType == DType.Float32
            ? Linear<float>(input, weight, bias, m, inF, outF, outShape)
            : Linear<double>(input, weight, bias, m, inF, outF, outShape);
    }

    private static Tensor Linear<T>(Tensor input, Tensor weight, Tensor? bias, int m, int inF, int outF, int[] outShape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = input.DenseData<T>();
        var w = weight.DenseData<T>();
        var b = bias?.DenseData<T>();
        var y = inF == 0 ? new T[m * outF] : GC.AllocateUninitializedArray<T>(m * outF); // the GEMM overwrites it
        Mm(false, true, m, outF, inF, x, inF, w, inF, y, outF);
        if (b != null)
            for (int i = 0; i < m; i++) System.Numerics.Tensors.TensorPrimitives.Add(y.AsSpan(i * outF, outF), b, y.AsSpan(i * outF, outF));
        var result = Tensor.Wrap(y, outShape);
        var inShape = input.Dims;
        var inputs = bias == null ? new[] { input, weight } : new[] { input, weight, bias };
        return Autograd.Record(result, "AddmmBackward", inputs, g =>
        {
            var ga = g.DenseData<T>();
            T[]? dx = null, dw = null, db = null;
            if (input.RequiresGrad) { dx = GC.AllocateUninitializedArray<T>(m * inF); Mm(false, false, m, inF, outF, ga, outF, w, inF, dx, inF); }
            // A leaf weight that already has a gradient buffer accumulates straight into it (GEMM with β = 1): no
            // temporary of the weight's size per step, the same sum PyTorch forms by allocating and adding.
            if (weight.RequiresGrad)
            {
                if (DirectGrad<T>(weight) is T[] acc) { Mm(true, false, outF, inF, m, ga, outF, x, inF, acc, inF, beta: 1); weight.Grad!.Storage.Version++; }
                else { dw = GC.AllocateUninitializedArray<T>(outF * inF); Mm(true, false, outF, inF, m, ga, outF, x, inF, dw, inF); }
            }
            if (bias != null && bias.RequiresGrad)
            {
                var target = DirectGrad<T>(bias);
                if (target != null) bias.Grad!.Storage.Version++;
                target ??= db = new T[outF];
                for (int i = 0; i < m; i++) System.Numerics.Tensors.TensorPrimitives.Add(target, ga.AsSpan(i * outF, outF), target);
            }
            var r = new Tensor?[inputs.Length];
            r[0] = dx == null ? null : Tensor.Wrap(dx, inShape);
            r[1] = dw == null ? null : Tensor.Wrap(dw, [outF, inF]);
            if (inputs.Length == 3) r[2] = db == null ? null : Tensor.Wrap(db, [outF]);
            return r;
        }, inputs);
    }

    private static void Mm<T>(bool ta, bool tb, int m, int n, int k, T[] a, int lda, T[] b, int ldb, T[] c, int ldc, float beta = 0) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            Gemm.Sgemm(ta, tb, m, n, k, 1f, (float[])(object)a, lda, (float[])(object)b, ldb, beta, (float[])(object)c, ldc);
        else
            Gemm.Dgemm(ta, tb, m, n, k, 1.0, (double[])(object)a, lda, (double[])(object)b, ldb, beta, (double[])(object)c, ldc);
    }

    /// <summary>The dense gradient buffer of a leaf parameter, when it has one we can add into in place; else null.</summary>
    private static T[]? DirectGrad<T>(Tensor p) where T : unmanaged
    {
        var g = p.Grad;
        if (!p.IsLeaf || g == null || g.DType != p.DType || g.Offset != 0 || !g.IsContiguous || !g.Shape.SequenceEqual(p.Shape)) return null;
        return g.Storage.Data is T[] arr && arr.Length == g.NumEl ? arr : null;
    }

    /// <summary>
    /// Inverted dropout (PyTorch's <c>F.dropout</c>): in training, zeroes each element with probability p and scales the
    /// rest by 1/(1 − p) so the expected value is unchanged; outside training, the identity.
    /// </summary>
    public static Tensor Dropout(Tensor input, double p = 0.5, bool training = true, Generator? generator = null)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, $"dropout: probability must be in [0, 1], got {p}.");
        if (!training || p == 0) return input;
        if (p == 1) return input * 0;
        var keep = Tensor.Rand(input.Shape, generator, input.DType).Ge(p).To(input.DType);
        return input * keep * (1 / (1 - p));
    }
}
