using System.Text.RegularExpressions;

namespace Kindling.Cli;

/// <summary>
/// Matches another file's features (predict, eval --data, --test, an official test split) to the columns the model was
/// trained on, refusing what would silently give wrong answers: a training column that is absent (a one-hot
/// <c>name=value</c> column counts as present only when its source column <c>name</c> is in the file), a different
/// number of features from an image or IDX source (28×28 images for a model of 8×8), or more numbered columns
/// (<c>pixel64</c>…) than the training had.
/// </summary>
public static partial class FeatureCheck
{
    /// <summary>The training's raw (file) column that produced <paramref name="trainName"/>, when it is a one-hot column of one of <paramref name="raw"/>.</summary>
    private static string? OneHotSource(string trainName, IReadOnlyCollection<string> raw) =>
        raw.Where(r => trainName.StartsWith(r + "=", StringComparison.Ordinal)).OrderByDescending(r => r.Length).FirstOrDefault();

    /// <summary>
    /// Reorders <paramref name="features"/> (named <paramref name="names"/>) to <paramref name="trainNames"/>. One-hot
    /// columns of a category absent from the file are zeros when the source column is there (a category that does not
    /// occur); a training column with no source at all is an error, unless <paramref name="fill"/> is true (the run was
    /// trained with --missing mean or zero), when it becomes NaN for the run's fill values and a warning says so.
    /// <paramref name="raw"/>: the file's own column names (CSV), or null for a source with fixed features (images, IDX).
    /// </summary>
    public static Tensor Align(IReadOnlyList<string> names, Tensor features, IReadOnlyList<string> trainNames, string what,
        List<string>? warnings, float divisor, IReadOnlyCollection<string>? raw, bool fill = false)
    {
        if (names.SequenceEqual(trainNames)) return features;
        if (raw == null)
            throw new UserError($"{what}: its rows have {names.Count} features{ImageShape(names.Count)}, but the model was trained on {trainNames.Count}{ImageShape(trainNames.Count)}" +
                (names.Count == trainNames.Count ? $" with other names ({Show(names)} against {Show(trainNames)})" : "") + "; predict with data of the same shape as the training data.");
        RefuseLongerNumbering(names, trainNames, what);
        if (features.DType == DType.UInt8) features = features.ToFloat32() / divisor;
        var pos = new Dictionary<string, int>();
        for (int i = 0; i < names.Count; i++) pos[names[i]] = i;
        var cols = new Tensor[trainNames.Count];
        int n = features.Size(0);
        var missing = new List<string>();
        for (int j = 0; j < trainNames.Count; j++)
        {
            if (pos.TryGetValue(trainNames[j], out int i)) cols[j] = features.Narrow(1, i, 1);
            else if (trainNames[j].Contains('=') && OneHotSource(trainNames[j], raw) != null) cols[j] = Tensor.Zeros(n, 1);
            else { missing.Add(trainNames[j]); cols[j] = Tensor.Full([n, 1], float.NaN); }
        }
        if (missing.Count > 0)
        {
            var all = Describe(missing);
            var described = all.Count <= 8 ? all : [.. all.Take(6), $"… ({missing.Count} columns in all)"];
            if (!fill)
                throw new UserError($"{what}: the column{(described.Count == 1 ? "" : "s")} {string.Join(", ", described)} used in training {(described.Count == 1 ? "is" : "are")} missing (the file has: {Show(raw.ToList())}). Add {(described.Count == 1 ? "it" : "them")} to the file; a run trained with --missing mean or zero fills missing columns.");
            warnings?.Add($"{what}: the column{(described.Count == 1 ? "" : "s")} {string.Join(", ", described)} used in training {(described.Count == 1 ? "is" : "are")} missing; filled with the training split's fill values (the run was trained with --missing mean or zero).");
        }
        // Categories the training split never saw have no column: such rows get all-zero indicators (unknown).
        var unseen = names.Where(nm => !trainNames.Contains(nm) && !raw.Contains(nm) && OneHotSource(nm, raw) != null).ToList();
        if (unseen.Count > 0)
            warnings?.Add($"{what}: categories never seen in training are encoded as unknown (all indicators 0): {string.Join(", ", unseen.Take(10))}{(unseen.Count > 10 ? ", …" : "")}.");
        return Tensor.Cat(cols, 1);
    }

    /// <summary>"color (one-hot: color=red, color=blue)" for one-hot columns, grouped by the prefix before the last '='.</summary>
    private static List<string> Describe(List<string> missing)
    {
        var result = new List<string>();
        foreach (var g in missing.GroupBy(m => m.Contains('=') ? m[..m.LastIndexOf('=')] : m))
            // A lone name=value may as well be a numeric column named with '=': shown whole.
            result.Add(g.Count() == 1 ? $"'{g.First()}'" : $"'{g.Key}' (one-hot: {string.Join(", ", g.Take(4))}{(g.Count() > 4 ? ", …" : "")})");
        return result;
    }

    private static string Show(IReadOnlyList<string> names) =>
        names.Count <= 12 ? string.Join(", ", names) : $"{string.Join(", ", names.Take(5))}, …, {string.Join(", ", names.TakeLast(2))} ({names.Count} columns)";

    private static string ImageShape(int features)
    {
        if (features == 3 * 32 * 32) return " (3×32×32 images)";
        int s = (int)Math.Round(Math.Sqrt(features));
        return s * s == features && s >= 4 ? $" ({s}×{s} images)" : "";
    }

    [GeneratedRegex(@"^(.*?)(\d+)$")]
    private static partial Regex Numbered();

    /// <summary>
    /// Columns numbered like the training's (pixel0…pixel63) but beyond them (pixel64…pixel783): the file's rows are
    /// longer vectors of the same kind (a larger image), of which the model would silently see only the first part.
    /// </summary>
    public static void RefuseLongerNumbering(IReadOnlyList<string> names, IReadOnlyList<string> trainNames, string what)
    {
        var trainMax = new Dictionary<string, long>();
        foreach (var t in trainNames)
            if (Numbered().Match(t) is { Success: true } m && long.TryParse(m.Groups[2].Value, out var k))
                trainMax[m.Groups[1].Value] = Math.Max(trainMax.GetValueOrDefault(m.Groups[1].Value, -1), k);
        var trainSet = trainNames.ToHashSet();
        foreach (var (prefix, max) in trainMax)
        {
            if (max < 2) continue; // x1, x2: too short a numbering to call a vector
            var beyond = names.Where(nm => !trainSet.Contains(nm) && Numbered().Match(nm) is { Success: true } m && m.Groups[1].Value == prefix && long.TryParse(m.Groups[2].Value, out var k) && k > max).ToList();
            if (beyond.Count > 0)
                throw new UserError($"{what}: has columns numbered beyond the training's ({beyond[0]}, …; the training's '{prefix}' columns stop at {prefix}{max}): its rows have {names.Count} columns where the model takes {trainNames.Count} features{ImageShape(trainNames.Count)} (a different image size?); predict with data shaped like the training data.");
        }
    }
}
