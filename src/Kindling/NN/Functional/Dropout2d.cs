namespace Kindling.NN;

public static partial class Functional
{
    /// <summary>
    /// Channel-wise dropout (PyTorch 1.13's <c>F.dropout2d</c>): in training, zeroes each whole channel x[n, c] with
    /// probability p and scales the rest by 1/(1 − p); outside training, the identity. Input (N, C, H, W); a 3-D input is
    /// read as (N, C, L), as PyTorch 1.13 does.
    /// </summary>
    public static Tensor Dropout2d(Tensor input, double p = 0.5, bool training = true, Generator? generator = null)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, $"dropout2d: probability must be in [0, 1], got {p}.");
        if (input.Rank < 2) throw new ArgumentException($"dropout2d: expected input (N, C, H, W), got {input.ShapeString}.", nameof(input));
        if (!training || p == 0) return input;
        if (p == 1) return input * 0;
        var shape = input.Shape;
        for (int i = 2; i < shape.Length; i++) shape[i] = 1;
        var keep = Tensor.Rand(shape, generator, input.DType).Ge(p).To(input.DType);
        return input * keep * (1 / (1 - p));
    }
}
