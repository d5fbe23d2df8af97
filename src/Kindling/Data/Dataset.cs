namespace Kindling.Data;

/// <summary>
/// A finite, indexable collection of (features, target) samples with fixed per-sample shapes.
/// Samples are copied into caller-provided spans rather than returned as tensors, so that a
/// <see cref="DataLoader"/> can collate a batch straight into one array without allocating per sample.
/// </summary>
/// <remarks>
/// Features are always float32. Targets are either int64 (class labels; <see cref="TargetDType"/> is
/// <see cref="DType.Int64"/>) or float32 (regression values, multi-label indicators). Implement
/// <see cref="CopyFeatures"/> and the <c>CopyTarget</c> overload matching <see cref="TargetDType"/>.
/// </remarks>
public abstract class Dataset
{
    /// <summary>Number of samples.</summary>
    public abstract int Count { get; }

    /// <summary>Shape of one sample's features, without the batch dimension (e.g. <c>[784]</c> or <c>[1, 28, 28]</c>).</summary>
    public abstract int[] FeatureShape { get; }

    /// <summary>Shape of one sample's target, without the batch dimension: <c>[]</c> for a class label or scalar, <c>[k]</c> for k values.</summary>
    public abstract int[] TargetShape { get; }

    /// <summary><see cref="DType.Int64"/> for class labels or <see cref="DType.Float32"/> for real-valued targets.</summary>
    public abstract DType TargetDType { get; }

    /// <summary>Number of feature values per sample (the product of <see cref="FeatureShape"/>).</summary>
    public int FeatureSize => Product(FeatureShape);

    /// <summary>Number of target values per sample (the product of <see cref="TargetShape"/>).</summary>
    public int TargetSize => Product(TargetShape);

    /// <summary>Writes sample <paramref name="index"/>'s features, flattened row-major, into <paramref name="destination"/> (length <see cref="FeatureSize"/>). Must write every element: loaders hand out batch buffers without zeroing them.</summary>
    public abstract void CopyFeatures(int index, Span<float> destination);

    /// <summary>Writes sample <paramref name="index"/>'s int64 target into <paramref name="destination"/> (length <see cref="TargetSize"/>), every element. Only for <see cref="DType.Int64"/> targets.</summary>
    public virtual void CopyTarget(int index, Span<long> destination) =>
        throw new NotSupportedException($"{GetType().Name} has {Tensor.DTypeName(TargetDType)} targets; it cannot copy them as int64.");

    /// <summary>Writes sample <paramref name="index"/>'s float32 target into <paramref name="destination"/> (length <see cref="TargetSize"/>), every element. Only for <see cref="DType.Float32"/> targets.</summary>
    public virtual void CopyTarget(int index, Span<float> destination) =>
        throw new NotSupportedException($"{GetType().Name} has {Tensor.DTypeName(TargetDType)} targets; it cannot copy them as float32.");

    /// <summary>
    /// One sample as tensors: features of shape <see cref="FeatureShape"/> and the target of shape <see cref="TargetShape"/>.
    /// Allocates; for training loops use a <see cref="DataLoader"/>.
    /// </summary>
    public (Tensor X, Tensor Y) this[int index]
    {
        get
        {
            CheckIndex(index);
            var x = new float[FeatureSize];
            CopyFeatures(index, x);
            if (TargetDType == DType.Int64)
            {
                var y = new long[TargetSize];
                CopyTarget(index, y);
                return (Tensor.Wrap(x, FeatureShape), Tensor.Wrap(y, TargetShape));
            }
            var yf = new float[TargetSize];
            CopyTarget(index, yf);
            return (Tensor.Wrap(x, FeatureShape), Tensor.Wrap(yf, TargetShape));
        }
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless 0 ≤ <paramref name="index"/> &lt; <see cref="Count"/>.</summary>
    protected void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), $"{GetType().Name}: sample index {index} is out of range for a dataset of {Count} samples.");
    }

    internal static int Product(int[] shape)
    {
        int n = 1;
        foreach (int d in shape) n *= d;
        return n;
    }

    /// <summary>
    /// Splits <paramref name="dataset"/> into non-overlapping <see cref="Subset"/>s of the given lengths, which must sum to
    /// <see cref="Count"/>. Like PyTorch's <c>random_split</c>: one permutation of all indices is drawn from
    /// <paramref name="generator"/> (<see cref="Generator.Default"/> when null) and cut in order.
    /// </summary>
    public static Subset[] RandomSplit(Dataset dataset, int[] lengths, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(lengths);
        long sum = 0;
        foreach (int l in lengths)
        {
            if (l < 0) throw new ArgumentException($"RandomSplit: lengths must be non-negative, got [{string.Join(", ", lengths)}].", nameof(lengths));
            sum += l;
        }
        if (sum != dataset.Count)
            throw new ArgumentException($"RandomSplit: the lengths [{string.Join(", ", lengths)}] sum to {sum}, but the dataset has {dataset.Count} samples.", nameof(lengths));
        var perm = DataLoader.Permutation(dataset.Count, generator ?? Generator.Default);
        var result = new Subset[lengths.Length];
        int offset = 0;
        for (int i = 0; i < lengths.Length; i++)
        {
            result[i] = new Subset(dataset, perm.AsSpan(offset, lengths[i]).ToArray());
            offset += lengths[i];
        }
        return result;
    }

    /// <summary>
    /// Splits by fractions that sum to 1 (e.g. <c>[0.8, 0.2]</c>). As in PyTorch, each part gets
    /// floor(fraction × Count) samples and the remainder is handed out one at a time to the parts in order.
    /// </summary>
    public static Subset[] RandomSplit(Dataset dataset, double[] fractions, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(fractions);
        if (fractions.Length == 0) throw new ArgumentException("RandomSplit: at least one fraction is required.", nameof(fractions));
        double total = 0;
        foreach (double f in fractions)
        {
            if (!(f >= 0 && f <= 1)) throw new ArgumentException($"RandomSplit: fractions must be between 0 and 1, got [{string.Join(", ", fractions)}].", nameof(fractions));
            total += f;
        }
        if (Math.Abs(total - 1) > 1e-6)
            throw new ArgumentException($"RandomSplit: the fractions [{string.Join(", ", fractions)}] sum to {total.ToString("0.######", System.Globalization.CultureInfo.InvariantCulture)}, not 1.", nameof(fractions));
        int n = dataset.Count;
        var lengths = new int[fractions.Length];
        int assigned = 0;
        for (int i = 0; i < fractions.Length; i++) { lengths[i] = (int)Math.Floor(n * fractions[i]); assigned += lengths[i]; }
        for (int i = 0; i < n - assigned; i++) lengths[i % lengths.Length]++;
        return RandomSplit(dataset, lengths, generator);
    }
}
