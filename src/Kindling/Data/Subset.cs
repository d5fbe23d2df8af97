namespace Kindling.Data;

/// <summary>A view of some samples of another dataset, in the order of <see cref="Indices"/> (PyTorch's <c>Subset</c>). Nothing is copied.</summary>
public sealed class Subset : Dataset
{
    private readonly int[] _indices;

    /// <summary>Selects the samples of <paramref name="dataset"/> at <paramref name="indices"/> (copied; each must be in range).</summary>
    public Subset(Dataset dataset, int[] indices)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(indices);
        int n = dataset.Count;
        for (int i = 0; i < indices.Length; i++)
            if ((uint)indices[i] >= (uint)n)
                throw new ArgumentOutOfRangeException(nameof(indices), $"Subset: indices[{i}] = {indices[i]} is out of range for a dataset of {n} samples.");
        Dataset = dataset;
        _indices = (int[])indices.Clone();
    }

    /// <summary>The underlying dataset.</summary>
    public Dataset Dataset { get; }

    /// <summary>The selected indices into <see cref="Dataset"/>.</summary>
    public IReadOnlyList<int> Indices => _indices;

    /// <inheritdoc/>
    public override int Count => _indices.Length;

    /// <inheritdoc/>
    public override int[] FeatureShape => Dataset.FeatureShape;

    /// <inheritdoc/>
    public override int[] TargetShape => Dataset.TargetShape;

    /// <inheritdoc/>
    public override DType TargetDType => Dataset.TargetDType;

    /// <inheritdoc/>
    public override void CopyFeatures(int index, Span<float> destination)
    {
        CheckIndex(index);
        Dataset.CopyFeatures(_indices[index], destination);
    }

    /// <inheritdoc/>
    public override void CopyTarget(int index, Span<long> destination)
    {
        CheckIndex(index);
        Dataset.CopyTarget(_indices[index], destination);
    }

    /// <inheritdoc/>
    public override void CopyTarget(int index, Span<float> destination)
    {
        CheckIndex(index);
        Dataset.CopyTarget(_indices[index], destination);
    }
}
