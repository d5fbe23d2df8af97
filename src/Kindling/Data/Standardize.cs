namespace Kindling.Data;

/// <summary>
/// Per-column standardization, z = (x − mean) / std, like scikit-learn's <c>StandardScaler</c>: the statistics are
/// the column means and population standard deviations (ddof 0) of the data passed to <see cref="Fit(Tensor)"/>, and columns
/// whose std is 0 get std 1 so they map to 0 instead of NaN. Fit on the training split only and transform every
/// split with those statistics, so no information from validation or test data leaks into training.
/// </summary>
public sealed class Standardize
{
    private readonly double[] _mean, _std;

    private Standardize(double[] mean, double[] std)
    {
        _mean = mean;
        _std = std;
        Mean = Tensor.Wrap(Array.ConvertAll(mean, v => (float)v), [mean.Length]);
        Std = Tensor.Wrap(Array.ConvertAll(std, v => (float)v), [std.Length]);
    }

    /// <summary>Column means, float32 (F).</summary>
    public Tensor Mean { get; }

    /// <summary>Column population standard deviations with zeros replaced by 1, float32 (F).</summary>
    public Tensor Std { get; }

    /// <summary>Number of columns F.</summary>
    public int Features => _mean.Length;

    /// <summary>
    /// Computes the statistics of each column (last dimension) of <paramref name="trainFeatures"/> over all other
    /// dimensions, e.g. over the N rows of an (N, F) matrix. Accumulates in float64 so large N stays accurate.
    /// </summary>
    public static Standardize Fit(Tensor trainFeatures)
    {
        ArgumentNullException.ThrowIfNull(trainFeatures);
        if (trainFeatures.Rank < 1 || trainFeatures.DType == DType.Bool)
            throw new ArgumentException($"Standardize.Fit: expected a numeric (N, F) tensor, got {Tensor.DTypeName(trainFeatures.DType)} with shape {trainFeatures.ShapeString}.", nameof(trainFeatures));
        int f = trainFeatures.Size(-1);
        int rows = f == 0 ? 0 : trainFeatures.NumEl / f;
        if (rows == 0)
            throw new ArgumentException($"Standardize.Fit: cannot fit on an empty tensor (shape {trainFeatures.ShapeString}).", nameof(trainFeatures));
        var x = trainFeatures.ToDoubleArray();
        var mean = new double[f];
        var m2 = new double[f];
        for (int r = 0; r < rows; r++)
        {
            int o = r * f;
            for (int j = 0; j < f; j++) mean[j] += x[o + j];
        }
        for (int j = 0; j < f; j++) mean[j] /= rows;
        // Two passes (sum of squared deviations) rather than E[x²]−E[x]²: the latter cancels catastrophically for large means.
        for (int r = 0; r < rows; r++)
        {
            int o = r * f;
            for (int j = 0; j < f; j++) { double d = x[o + j] - mean[j]; m2[j] += d * d; }
        }
        var std = new double[f];
        for (int j = 0; j < f; j++)
        {
            double s = Math.Sqrt(m2[j] / rows);
            std[j] = s == 0 ? 1 : s;
        }
        return new Standardize(mean, std);
    }

    /// <summary>
    /// Fits on the samples of <paramref name="trainData"/> (its features as a <see cref="DataLoader"/> would batch them,
    /// flattened to <see cref="Dataset.FeatureSize"/> columns) without ever holding them as one matrix: two streaming
    /// passes, one row at a time, with the same float64 sums in the same order as <see cref="Fit(Tensor)"/> over the
    /// stacked rows, so both give identical statistics. Fit on a <see cref="Subset"/> of the training indices to keep
    /// one copy of the data in memory.
    /// </summary>
    public static Standardize Fit(Dataset trainData)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        int f = trainData.FeatureSize, rows = trainData.Count;
        if (rows == 0 || f == 0)
            throw new ArgumentException($"Standardize.Fit: cannot fit on an empty dataset ({rows} samples of {f} features).", nameof(trainData));
        var row = new float[f];
        var mean = new double[f];
        var m2 = new double[f];
        for (int r = 0; r < rows; r++)
        {
            trainData.CopyFeatures(r, row);
            for (int j = 0; j < f; j++) mean[j] += row[j];
        }
        for (int j = 0; j < f; j++) mean[j] /= rows;
        for (int r = 0; r < rows; r++)
        {
            trainData.CopyFeatures(r, row);
            for (int j = 0; j < f; j++) { double d = row[j] - mean[j]; m2[j] += d * d; }
        }
        var std = new double[f];
        for (int j = 0; j < f; j++)
        {
            double s = Math.Sqrt(m2[j] / rows);
            std[j] = s == 0 ? 1 : s;
        }
        return new Standardize(mean, std);
    }

    /// <summary>
    /// Standardises whole rows in place: <paramref name="values"/> holds one or more rows of <see cref="Features"/>
    /// float32 values, each becoming (x − mean) / std with the float32 statistics — the same numbers
    /// <see cref="Transform"/> gives, with no new array (for transforming batch by batch).
    /// </summary>
    public void TransformInPlace(Span<float> values)
    {
        int f = _mean.Length;
        if (f == 0 || values.Length % f != 0)
            throw new ArgumentException($"Standardize.TransformInPlace: {values.Length} values are not whole rows of {f} features.", nameof(values));
        var mean = Mean.DenseData<float>();
        var std = Std.DenseData<float>();
        for (int o = 0; o < values.Length; o += f)
        {
            var row = values.Slice(o, f);
            System.Numerics.Tensors.TensorPrimitives.Subtract(row, mean, row);
            System.Numerics.Tensors.TensorPrimitives.Divide(row, std, row);
        }
    }

    /// <summary>Returns (x − <see cref="Mean"/>) / <see cref="Std"/> column-wise for any tensor whose last dimension is F. Float64 input stays float64; other input becomes float32.</summary>
    public Tensor Transform(Tensor x) => Apply(x, inverse: false, "Transform");

    /// <summary>Undoes <see cref="Transform"/>: x · <see cref="Std"/> + <see cref="Mean"/>.</summary>
    public Tensor InverseTransform(Tensor z) => Apply(z, inverse: true, "InverseTransform");

    private Tensor Apply(Tensor x, bool inverse, string op)
    {
        ArgumentNullException.ThrowIfNull(x);
        int f = _mean.Length;
        if (x.Rank < 1 || x.Size(-1) != f || x.DType == DType.Bool)
            throw new ArgumentException($"Standardize.{op}: expected a numeric tensor with {f} columns in its last dimension (the fitted data had {f}), got {Tensor.DTypeName(x.DType)} with shape {x.ShapeString}.", nameof(x));
        if (x.DType == DType.Float64)
        {
            var src = x.ToDoubleArray();
            var dst = new double[src.Length];
            for (int i = 0; i < src.Length; i++)
            {
                int j = i % f;
                dst[i] = inverse ? src[i] * _std[j] + _mean[j] : (src[i] - _mean[j]) / _std[j];
            }
            return Tensor.Wrap(dst, x.Shape);
        }
        var s = x.DType == DType.Float32 ? x.DenseData<float>() : x.ToArray();
        var d = new float[s.Length];
        var mean = Mean.DenseData<float>();
        var std = Std.DenseData<float>();
        for (int o = 0; o < s.Length; o += f)
        {
            for (int j = 0; j < f; j++)
                d[o + j] = inverse ? s[o + j] * std[j] + mean[j] : (s[o + j] - mean[j]) / std[j];
        }
        return Tensor.Wrap(d, x.Shape);
    }

    /// <summary>The fitted statistics as <c>{"mean": (F), "std": (F)}</c> float32 copies, for saving alongside a model's state dict.</summary>
    public Dictionary<string, Tensor> StateDict() => new()
    {
        ["mean"] = Tensor.FromArray(Mean.ToArray()),
        ["std"] = Tensor.FromArray(Std.ToArray()),
    };

    /// <summary>Rebuilds a fitted <see cref="Standardize"/> from what <see cref="StateDict"/> returned.</summary>
    public static Standardize FromStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!state.TryGetValue("mean", out var mean) || !state.TryGetValue("std", out var std))
            throw new ArgumentException($"Standardize.FromStateDict: expected entries \"mean\" and \"std\", got [{string.Join(", ", state.Keys.Select(k => $"\"{k}\""))}].", nameof(state));
        if (mean.Rank != 1 || std.Rank != 1 || mean.NumEl != std.NumEl)
            throw new ArgumentException($"Standardize.FromStateDict: \"mean\" and \"std\" must be 1-D of equal length, got shapes {mean.ShapeString} and {std.ShapeString}.", nameof(state));
        var s = std.ToDoubleArray();
        foreach (double v in s)
            if (!(v > 0) || !double.IsFinite(v))
                throw new ArgumentException($"Standardize.FromStateDict: every \"std\" entry must be positive and finite, found {v}.", nameof(state));
        return new Standardize(mean.ToDoubleArray(), s);
    }
}
