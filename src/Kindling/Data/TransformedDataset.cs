namespace Kindling.Data;

/// <summary>
/// A view of an image dataset whose samples pass through an <see cref="ImageTransform"/> as they are copied out — so a
/// <see cref="DataLoader"/> over it augments every batch it collates (the transform argument of torchvision datasets).
/// Features must be images (C, H, W) or (H, W); targets are passed through unchanged.
/// </summary>
public sealed class TransformedDataset : Dataset
{
    private readonly int _c, _h, _w;

    /// <summary>Wraps <paramref name="inner"/>; <paramref name="transform"/> runs on every sample it yields.</summary>
    public TransformedDataset(Dataset inner, ImageTransform transform)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(transform);
        var s = inner.FeatureShape;
        if (s.Length is not (2 or 3))
            throw new ArgumentException($"TransformedDataset: image transforms need samples of shape (C, H, W) or (H, W), got {Tensor.ShapeStr(s)}. Load images with their shape (for example FashionMnist.LoadImages) or reshape the features.", nameof(inner));
        (_c, _h, _w) = s.Length == 3 ? (s[0], s[1], s[2]) : (1, s[0], s[1]);
        Inner = inner;
        Transform = transform;
    }

    /// <summary>The untransformed dataset.</summary>
    public Dataset Inner { get; }
    /// <summary>The transform applied to each sample.</summary>
    public ImageTransform Transform { get; }

    public override int Count => Inner.Count;
    public override int[] FeatureShape => Inner.FeatureShape;
    public override int[] TargetShape => Inner.TargetShape;
    public override DType TargetDType => Inner.TargetDType;

    public override void CopyFeatures(int index, Span<float> destination)
    {
        Inner.CopyFeatures(index, destination);
        Transform.Apply(destination[..(_c * _h * _w)], _c, _h, _w);
    }

    public override void CopyTarget(int index, Span<long> destination) => Inner.CopyTarget(index, destination);
    public override void CopyTarget(int index, Span<float> destination) => Inner.CopyTarget(index, destination);
}
