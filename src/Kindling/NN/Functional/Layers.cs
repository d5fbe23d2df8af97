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
        // The GEMM overwrites y; with inF = 0 there is nothing to multiply, so y must start at zero.
        var y = inF == 0 ? new T[m * outF] : BufferPool.Rent<T>(m * outF);
        Derivatives.Mm(false, true, m, outF, inF, x, inF, w, inF, y, outF);
        if (b != null)
            for (int i = 0; i < m; i++) System.Numerics.Tensors.TensorPrimitives.Add(y.AsSpan(i * outF, outF), b, y.AsSpan(i * outF, outF));
        var inputs = bias == null ? new[] { input, weight } : new[] { input, weight, bias };
        return Autograd.Record(Tensor.Wrap(y, outShape), "AddmmBackward", inputs, Derivatives.Linear(x, w, m, inF, outF), inputs);
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
