namespace Kindling.NN;

/// <summary>
/// Expands dimension <paramref name="dim"/> into <paramref name="unflattenedSize"/> (PyTorch's <c>nn.Unflatten</c>):
/// Unflatten(1, (1, 28, 28)) turns (N, 784) into (N, 1, 28, 28). One size may be −1 (inferred).
/// </summary>
public sealed class Unflatten(int dim, params int[] unflattenedSize) : Module
{
    public int Dim { get; } = dim;
    public int[] UnflattenedSize { get; } = unflattenedSize;

    public override Tensor Forward(Tensor input)
    {
        int d = Dim < 0 ? Dim + input.Rank : Dim;
        if (d < 0 || d >= input.Rank) throw new ArgumentException($"Unflatten: dim {Dim} is out of range for input {input.ShapeString}.", nameof(input));
        long known = 1; int infer = 0;
        foreach (int s in UnflattenedSize) { if (s == -1) infer++; else known *= s; }
        if (infer > 1 || (infer == 0 ? known != input.Dims[d] : known == 0 || input.Dims[d] % known != 0))
            throw new ArgumentException($"Unflatten: cannot unflatten dimension {d} of size {input.Dims[d]} (input {input.ShapeString}) into {Tensor.ShapeStr(UnflattenedSize)}.", nameof(input));
        int[] shape = [.. input.Dims[..d], .. UnflattenedSize, .. input.Dims[(d + 1)..]];
        return input.Reshape(shape);
    }

    protected override string ExtraRepr() => $"dim={Dim}, unflattened_size={Tensor.ShapeStr(UnflattenedSize)}";
}
