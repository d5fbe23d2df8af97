using Kindling.Data;
using Kindling.IO;

namespace Kindling.Cli;

/// <summary>
/// Everything the command fits on the training split and applies to every other split and to eval/predict data:
/// fill values for missing feature cells, the feature scaler, and the mean and std of each regression target column.
/// Saved in the run folder as <c>scaler.safetensors</c> (<c>features.fill</c>, <c>features.mean</c>,
/// <c>features.std</c>, <c>target.mean</c>, <c>target.std</c>), so that new data is treated exactly as the training
/// data was and never contributes its own statistics.
/// </summary>
public sealed class Preprocessing
{
    /// <summary>Per feature column, the value that replaces a missing (NaN) cell; null when missing cells are errors.</summary>
    public float[]? Fill { get; init; }
    public Standardize? Scaler { get; init; }
    /// <summary>Mean of each regression target column (length 1 for one target); zeros when targets are not scaled.</summary>
    public double[] TargetMean { get; init; } = [0];
    /// <summary>Std of each regression target column; ones when targets are not scaled.</summary>
    public double[] TargetStd { get; init; } = [1];

    public bool ScalesTargets => TargetMean.Any(m => m != 0) || TargetStd.Any(s => s != 1);

    /// <summary>
    /// Fill values from the training rows: the column mean (numeric) or the most frequent category's indicator
    /// (one-hot groups named <c>column=value</c>) for <c>--missing mean</c>, zeros for <c>--missing zero</c>.
    /// </summary>
    /// <param name="raw">The CSV file's own column names: a name is a one-hot column only when it is <c>column=value</c> of
    /// one of them (a numeric column may itself be named with '='); null: names with '=' are one-hot.</param>
    public static float[]? FitFill(RowSet train, IReadOnlyList<string> names, string missing, IReadOnlyCollection<string>? raw = null)
    {
        if (missing is not ("mean" or "zero")) return null;
        int f = train.Size(1);
        var fill = new float[f];
        if (missing == "zero") return fill;
        // One streaming pass over the training rows: per column the sum and count of present values (and whether any
        // is missing), accumulated in row order as the former whole-matrix loops did, so the fill values are unchanged.
        var sum = new double[f];
        var count = new int[f];
        var anyNaN = new bool[f];
        foreach (var row in train.RawRows())
            for (int j = 0; j < f; j++)
            {
                float v = row[j];
                if (float.IsNaN(v)) anyNaN[j] = true;
                else { sum[j] += v; count[j]++; }
            }
        for (int j = 0; j < f;)
        {
            bool oneHot = raw == null ? names[j].Contains('=') : !raw.Contains(names[j]) && raw.Any(r => names[j].StartsWith(r + "=", StringComparison.Ordinal));
            int group = oneHot ? GroupEnd(names, j) : j + 1;
            if (!oneHot)
            {
                if (count[j] == 0 && anyNaN[j])
                    throw new UserError($"--missing mean: column '{names[j]}' has no values in the training split, so there is no mean to fill it with (drop the column with --drop {names[j]}).");
                fill[j] = count[j] == 0 ? 0 : (float)(sum[j] / count[j]);
                j++;
                continue;
            }
            // One-hot group: the most frequent category among training rows (ties: first in sorted order, like the library).
            int best = j; double bestCount = -1;
            for (int k = j; k < group; k++)
                if (sum[k] > bestCount) { bestCount = sum[k]; best = k; }
            for (int k = j; k < group; k++) fill[k] = k == best ? 1 : 0;
            j = group;
        }
        return fill;
    }

    /// <summary>End (exclusive) of the one-hot group starting at column j: consecutive columns named with the same "column=" prefix.</summary>
    private static int GroupEnd(IReadOnlyList<string> names, int j)
    {
        int eq = names[j].IndexOf('=');
        if (eq < 0) return j + 1;
        var prefix = names[j][..(eq + 1)];
        int k = j + 1;
        while (k < names.Count && names[k].StartsWith(prefix, StringComparison.Ordinal)) k++;
        return k;
    }

    /// <summary>Replaces NaN cells with the fill values (in a copy), then scales. The input is not modified.</summary>
    public Tensor Apply(Tensor x, string what)
    {
        if (Fill != null) x = FillMissing(x, Fill);
        else if (x.ToArray().Any(float.IsNaN))
            throw new UserError($"{what}: has missing feature values, but the run was trained with --missing error or drop, so it has no fill values for them; fill the cells or train with --missing mean|zero.");
        return Scaler != null ? Scaler.Transform(x) : x;
    }

    private static Tensor FillMissing(Tensor x, float[] fill)
    {
        var src = x.ToArray();
        int f = fill.Length;
        float[]? dst = null;
        for (int i = 0; i < src.Length; i++)
            if (float.IsNaN(src[i])) { dst ??= (float[])src.Clone(); dst[i] = fill[i % f]; }
        return dst == null ? x : Tensor.FromArray(dst, x.Shape);
    }

    /// <summary>
    /// <see cref="Apply"/> for one row (or several whole rows) in place, as a batch is collated: NaN cells take the
    /// fill values, then the row is standardised — the same numbers <see cref="Apply"/> gives, without a copy of the set.
    /// </summary>
    public void ApplyRow(Span<float> row, string what)
    {
        int f = row.Length;
        for (int i = 0; i < f; i++)
        {
            if (!float.IsNaN(row[i])) continue;
            if (Fill == null)
                throw new UserError($"{what}: has missing feature values, but the run was trained with --missing error or drop, so it has no fill values for them; fill the cells or train with --missing mean|zero.");
            row[i] = Fill[i % Fill.Length];
        }
        Scaler?.TransformInPlace(row);
    }

    /// <summary>Standardises regression targets column by column (y − mean) / std.</summary>
    public Tensor ScaleTarget(Tensor y) => ScalesTargets ? MapTarget(y, (v, j) => (v - TargetMean[j]) / TargetStd[j]) : y;

    /// <summary>Back to the original units: y·std + mean.</summary>
    public Tensor UnscaleTarget(Tensor y) => ScalesTargets ? MapTarget(y, (v, j) => v * TargetStd[j] + TargetMean[j]) : y;

    private Tensor MapTarget(Tensor y, Func<double, int, double> f)
    {
        var v = y.ToArray();
        int k = y.Rank == 1 ? 1 : y.Size(1);
        if (k != TargetMean.Length) throw new UserError($"the target has {k} columns but the run's target scaling has {TargetMean.Length}.");
        var d = new float[v.Length];
        for (int i = 0; i < v.Length; i++) d[i] = (float)f(v[i], i % k);
        return Tensor.FromArray(d, y.Shape);
    }

    /// <summary>Mean and population std of each target column (std 0 → 1).</summary>
    public static (double[] Mean, double[] Std) FitTarget(Tensor y)
    {
        var v = y.ToArray();
        int k = y.Rank == 1 ? 1 : y.Size(1), n = v.Length / k;
        var mean = new double[k]; var std = new double[k];
        for (int j = 0; j < k; j++)
        {
            double m = 0; for (int r = 0; r < n; r++) m += v[r * k + j];
            m /= n;
            double s = 0; for (int r = 0; r < n; r++) { double d = v[r * k + j] - m; s += d * d; }
            s = Math.Sqrt(s / n);
            mean[j] = m; std[j] = s == 0 ? 1 : s;
        }
        return (mean, std);
    }

    public void Save(string path)
    {
        var t = new Dictionary<string, Tensor>();
        if (Scaler != null) foreach (var (k, v) in Scaler.StateDict()) t["features." + k] = v;
        if (Fill != null) t["features.fill"] = Tensor.FromArray(Fill);
        t["target.mean"] = Tensor.FromArray(TargetMean);
        t["target.std"] = Tensor.FromArray(TargetStd);
        Safetensors.Save(path, t);
    }

    /// <summary>Reads <see cref="Save"/>'s file; runs written before multi-output scaling stored 0-d target statistics.</summary>
    public static Preprocessing Load(string path, int features)
    {
        Dictionary<string, Tensor> s;
        try { s = new Dictionary<string, Tensor>(Safetensors.Load(path).Tensors); }
        catch (Exception e) when (e is FormatException or IOException or ArgumentException or InvalidDataException)
        { throw new UserError($"{path}: cannot read the run's scaling: {e.Message}"); }
        try
        {
            Standardize? scaler = s.ContainsKey("features.mean") ? Standardize.FromStateDict(new Dictionary<string, Tensor> { ["mean"] = s["features.mean"], ["std"] = s["features.std"] }) : null;
            if (scaler != null && scaler.Features != features)
                throw new UserError($"{path}: the scaler has {scaler.Features} feature columns but the model takes {features}.");
            float[]? fill = s.TryGetValue("features.fill", out var fl) ? fl.ToArray() : null;
            if (fill != null && fill.Length != features)
                throw new UserError($"{path}: features.fill has {fill.Length} values but the model takes {features} features.");
            double[] mean = s.TryGetValue("target.mean", out var m) ? m.ToDoubleArray() : [0];
            double[] std = s.TryGetValue("target.std", out var sd) ? sd.ToDoubleArray() : [1];
            if (mean.Length != std.Length || std.Any(v => !(v > 0) || !double.IsFinite(v)) || mean.Any(v => !double.IsFinite(v)))
                throw new UserError($"{path}: target.mean/target.std are inconsistent ({mean.Length} and {std.Length} values; every std must be positive and finite).");
            return new Preprocessing { Scaler = scaler, Fill = fill, TargetMean = mean, TargetStd = std };
        }
        catch (ArgumentException e) { throw new UserError($"{path}: {e.Message}"); }
        catch (KeyNotFoundException) { throw new UserError($"{path}: features.mean is present without features.std."); }
    }
}
