namespace Kindling.Data;

/// <summary>
/// A feature matrix with its targets and the names that give them meaning: what <see cref="CsvTable.ToData"/> and the
/// built-in <see cref="Datasets"/> return. Use <see cref="ToDataset"/> to feed it to a <see cref="DataLoader"/>.
/// </summary>
public sealed class LabeledData
{
    /// <summary>
    /// Bundles the parts. Features must be (N, F) float32, or uint8 (images as stored, read as value /
    /// <see cref="FeatureDivisor"/>), and targets (N) or (N, k) with the same N.
    /// </summary>
    public LabeledData(Tensor features, Tensor targets, IReadOnlyList<string> featureNames, IReadOnlyList<string> targetNames, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        if (features.Rank != 2 || features.DType is not (DType.Float32 or DType.UInt8))
            throw new ArgumentException($"LabeledData: features must be a float32 (or uint8) (N, F) matrix, got {Tensor.DTypeName(features.DType)} {features.ShapeString}.", nameof(features));
        if (targets.Rank is < 1 or > 2 || targets.Size(0) != features.Size(0))
            throw new ArgumentException($"LabeledData: targets must be (N) or (N, k) with N = {features.Size(0)}, got {targets.ShapeString}.", nameof(targets));
        if (featureNames.Count != features.Size(1))
            throw new ArgumentException($"LabeledData: {featureNames.Count} feature names for {features.Size(1)} feature columns.", nameof(featureNames));
        Features = features;
        Targets = targets;
        FeatureNames = featureNames;
        TargetNames = targetNames;
        ClassNames = classNames;
    }

    /// <summary>The features, float32 (N, F), or uint8 images as stored (see <see cref="FeatureDivisor"/>).</summary>
    public Tensor Features { get; }

    /// <summary>What each feature value means divided by: 1 for float32 features, 255 for uint8 pixels in [0, 1].</summary>
    public float FeatureDivisor { get; init; } = 1f;

    /// <summary>The targets: int64 (N) class indices, or float32 (N) / (N, k) values.</summary>
    public Tensor Targets { get; }

    /// <summary>Name of each feature column (one-hot columns are named <c>column=value</c>).</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Name of each target column.</summary>
    public IReadOnlyList<string> TargetNames { get; }

    /// <summary>For classification: the original label of each class index (sorted order); null for regression.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>Number of samples N.</summary>
    public int Count => Features.Size(0);

    /// <summary>Number of classes K for classification, else 0.</summary>
    public int NumClasses => ClassNames?.Count ?? 0;

    /// <summary>The samples as a <see cref="TensorDataset"/> (sharing the tensors, carrying the feature and class names).</summary>
    public TensorDataset ToDataset() => new(Features, Targets) { FeatureNames = FeatureNames, ClassNames = ClassNames, FeatureDivisor = FeatureDivisor };
}
