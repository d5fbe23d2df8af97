namespace Kindling.Data;

/// <summary>
/// A dataset held in memory as two tensors whose first dimension indexes samples (PyTorch's <c>TensorDataset</c>):
/// features (N, ...) and targets (N) int64 class labels, or (N) / (N, k) float32 values.
/// Samples are copied out as contiguous row slices, so collating a batch is one block copy per sample.
/// Features may be uint8 (images as stored): they are held as bytes and converted to float32 row by row as a batch is
/// collated, divided by <see cref="FeatureDivisor"/> (255 gives pixels in [0, 1]), so a 2 GB image set never becomes an
/// 8 GB float32 copy.
/// </summary>
public sealed class TensorDataset : Dataset
{
    private readonly float[]? _x;
    private readonly byte[]? _xBytes;
    private readonly float _divisor = 1f;
    private readonly long[]? _yLong;
    private readonly float[]? _yFloat;
    private readonly int _rowX, _rowY, _n;
    private readonly int[] _featureShape, _targetShape;

    /// <summary>
    /// Wraps <paramref name="features"/> (N, ...) and <paramref name="targets"/> (N) or (N, ...).
    /// Float64 and int64 features are converted to float32; uint8 features are kept as bytes (see
    /// <see cref="FeatureDivisor"/>); integer targets must be int64. The tensors are not copied when already dense, so
    /// later in-place edits to them show through (as in PyTorch).
    /// </summary>
    public TensorDataset(Tensor features, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        if (features.Rank < 1)
            throw new ArgumentException($"TensorDataset: features must have a sample dimension, got a scalar. Reshape to (N, ...).", nameof(features));
        if (targets.Rank < 1)
            throw new ArgumentException($"TensorDataset: targets must have a sample dimension, got a scalar. Reshape to (N) or (N, k).", nameof(targets));
        if (features.Size(0) != targets.Size(0))
            throw new ArgumentException($"TensorDataset: features have {features.Size(0)} samples (shape {features.ShapeString}) but targets have {targets.Size(0)} (shape {targets.ShapeString}); the first dimensions must match.");
        features = features.DType switch
        {
            DType.Float32 or DType.UInt8 => features,
            DType.Float64 or DType.Int64 => features.To(DType.Float32),
            _ => throw new ArgumentException($"TensorDataset: features must be float32 (or float64/int64, converted; or uint8 images, kept as bytes), got {Tensor.DTypeName(features.DType)}.", nameof(features)),
        };
        targets = targets.DType switch
        {
            DType.Int64 or DType.Float32 => targets,
            DType.Float64 => targets.To(DType.Float32),
            _ => throw new ArgumentException($"TensorDataset: targets must be int64 class labels or float32 values, got {Tensor.DTypeName(targets.DType)}.", nameof(targets)),
        };
        Features = features;
        Targets = targets;
        _n = features.Size(0);
        _featureShape = features.Shape[1..];
        _targetShape = targets.Shape[1..];
        _rowX = Product(_featureShape);
        _rowY = Product(_targetShape);
        if (features.DType == DType.UInt8) _xBytes = features.DenseData<byte>();
        else _x = features.DenseData<float>();
        if (targets.DType == DType.Int64) _yLong = targets.DenseData<long>();
        else _yFloat = targets.DenseData<float>();
    }

    /// <summary>
    /// What each feature value is divided by as it is copied out (default 1). With uint8 images, 255 gives pixels in
    /// [0, 1] exactly as PyTorch's <c>img.float().div(255)</c>; <see cref="FashionMnist.LoadBytes"/> sets it.
    /// </summary>
    public float FeatureDivisor
    {
        get => _divisor;
        init => _divisor = value > 0 && float.IsFinite(value) ? value
            : throw new ArgumentOutOfRangeException(nameof(FeatureDivisor), value, $"TensorDataset: FeatureDivisor must be positive and finite, got {value}.");
    }

    /// <summary>The features tensor (N, ...): float32, or uint8 images as stored (see <see cref="FeatureDivisor"/>).</summary>
    public Tensor Features { get; }

    /// <summary>The targets tensor: (N) int64 labels, or (N) / (N, k) float32.</summary>
    public Tensor Targets { get; }

    /// <summary>Names of the feature columns when known (e.g. from a CSV header), else null.</summary>
    public IReadOnlyList<string>? FeatureNames { get; init; }

    /// <summary>For class labels: the name of each class, indexed by label, when known; else null.</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <inheritdoc/>
    public override int Count => _n;

    /// <inheritdoc/>
    public override int[] FeatureShape => (int[])_featureShape.Clone();

    /// <inheritdoc/>
    public override int[] TargetShape => (int[])_targetShape.Clone();

    /// <inheritdoc/>
    public override DType TargetDType => Targets.DType;

    /// <inheritdoc/>
    public override void CopyFeatures(int index, Span<float> destination)
    {
        CheckIndex(index);
        if (_xBytes != null) { Tensor.BytesToFloat(_xBytes.AsSpan(index * _rowX, _rowX), destination, _divisor); return; }
        var row = _x.AsSpan(index * _rowX, _rowX);
        if (_divisor == 1f) row.CopyTo(destination);
        else System.Numerics.Tensors.TensorPrimitives.Divide(row, _divisor, destination);
    }

    /// <inheritdoc/>
    public override void CopyTarget(int index, Span<long> destination)
    {
        if (_yLong is null) { base.CopyTarget(index, destination); return; }
        CheckIndex(index);
        _yLong.AsSpan(index * _rowY, _rowY).CopyTo(destination);
    }

    /// <inheritdoc/>
    public override void CopyTarget(int index, Span<float> destination)
    {
        if (_yFloat is null) { base.CopyTarget(index, destination); return; }
        CheckIndex(index);
        _yFloat.AsSpan(index * _rowY, _rowY).CopyTo(destination);
    }
}
