using System.Globalization;
using System.IO.Compression;

namespace Kindling.Data;

/// <summary>
/// Small classic datasets shipped inside the Kindling assembly (about 110 KB compressed), so examples and tests run
/// offline with no download. They are the copies distributed with scikit-learn (BSD-3-Clause); see
/// <c>Data/Resources/CREDITS.md</c> for the original sources.
/// </summary>
public static partial class Datasets
{
    /// <summary>The names <see cref="Load"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["digits", "breast_cancer", "diabetes"];

    /// <summary>
    /// Loads a built-in dataset by name: "digits", "breast_cancer" (or "breast-cancer") or "diabetes" (raw features).
    /// Case-insensitive.
    /// </summary>
    /// <exception cref="DataException">Unknown name; the message lists the available ones.</exception>
    public static LabeledData Load(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant().Replace('-', '_') switch
        {
            "digits" => Digits(),
            "breast_cancer" => BreastCancer(),
            "diabetes" => Diabetes(),
            _ => throw new DataException($"Unknown built-in dataset '{name}'. Available: {string.Join(", ", Names)}."),
        };
    }

    /// <summary>
    /// UCI optical recognition of handwritten digits (the scikit-learn <c>load_digits</c> copy): 1797 images of 8×8
    /// pixels with integer intensities 0..16, flattened to features (1797, 64) float32 named <c>pixel_r_c</c>,
    /// and int64 labels 0..9 (class names "0".."9").
    /// </summary>
    public static LabeledData Digits()
    {
        var rows = ReadRows("digits.csv.gz", ',');
        var (x, y) = Split(rows, 64, "digits");
        var labels = Array.ConvertAll(y, v => (long)v);
        var featureNames = new string[64];
        for (int r = 0; r < 8; r++) for (int c = 0; c < 8; c++) featureNames[r * 8 + c] = $"pixel_{r}_{c}";
        var classes = Enumerable.Range(0, 10).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        return new LabeledData(Tensor.Wrap(x, [rows.Count, 64]), Tensor.Wrap(labels, [rows.Count]), featureNames, ["target"], classes);
    }

    /// <summary>
    /// Wisconsin diagnostic breast cancer (the scikit-learn <c>load_breast_cancer</c> copy): 569 tumours described by
    /// 30 real-valued features (mean, standard error and worst value of 10 cell-nucleus measurements), float32 (569, 30),
    /// and int64 labels: 0 = malignant (212), 1 = benign (357), as in scikit-learn.
    /// </summary>
    public static LabeledData BreastCancer()
    {
        var rows = ReadRows("breast_cancer.csv.gz", ',', skipFirstLine: true);
        var (x, y) = Split(rows, 30, "breast_cancer");
        var labels = Array.ConvertAll(y, v => (long)v);
        return new LabeledData(Tensor.Wrap(x, [rows.Count, 30]), Tensor.Wrap(labels, [rows.Count]), BreastCancerFeatures, ["target"], ["malignant", "benign"]);
    }

    /// <summary>
    /// The diabetes data of Efron et al. (2004) (the scikit-learn <c>load_diabetes</c> copy): 442 patients, 10 features
    /// (age, sex, bmi, bp, s1..s6) as float32 (442, 10), and a float32 (442) regression target, a measure of disease
    /// progression one year after baseline (25..346).
    /// </summary>
    /// <param name="scaled">
    /// False (the default): the raw measurements (age in years, sex coded 1/2, ...); standardize them with
    /// <see cref="Standardize"/> fitted on the training split. True: scikit-learn's default preprocessing, each column
    /// mean-centred and divided by its population std times sqrt(442) so its sum of squares is 1 (note that this uses
    /// statistics of all samples, test ones included).
    /// </param>
    public static LabeledData Diabetes(bool scaled = false)
    {
        var rows = ReadRows("diabetes_data_raw.csv.gz", ' ');
        var targets = ReadRows("diabetes_target.csv.gz", ' ');
        int n = rows.Count, f = 10;
        if (targets.Count != n) throw new DataException($"Embedded diabetes data is corrupt: {n} feature rows but {targets.Count} targets.");
        var xd = new double[n * f];
        for (int i = 0; i < n; i++)
        {
            if (rows[i].Length != f) throw new DataException($"Embedded diabetes data is corrupt: row {i + 1} has {rows[i].Length} values, expected {f}.");
            rows[i].CopyTo(xd, i * f);
        }
        if (scaled)
        {
            for (int j = 0; j < f; j++)
            {
                double mean = 0, ss = 0;
                for (int i = 0; i < n; i++) mean += xd[i * f + j];
                mean /= n;
                for (int i = 0; i < n; i++) { double d = xd[i * f + j] - mean; ss += d * d; }
                double std = Math.Sqrt(ss / n);
                double k = 1 / ((std == 0 ? 1 : std) * Math.Sqrt(n));
                for (int i = 0; i < n; i++) xd[i * f + j] = (xd[i * f + j] - mean) * k;
            }
        }
        var x = Array.ConvertAll(xd, v => (float)v);
        var y = targets.Select(t => (float)t[0]).ToArray();
        return new LabeledData(Tensor.Wrap(x, [n, f]), Tensor.Wrap(y, [n]), ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"], ["target"]);
    }

    private static readonly string[] BreastCancerFeatures =
    [
        "mean radius", "mean texture", "mean perimeter", "mean area", "mean smoothness", "mean compactness",
        "mean concavity", "mean concave points", "mean symmetry", "mean fractal dimension",
        "radius error", "texture error", "perimeter error", "area error", "smoothness error", "compactness error",
        "concavity error", "concave points error", "symmetry error", "fractal dimension error",
        "worst radius", "worst texture", "worst perimeter", "worst area", "worst smoothness", "worst compactness",
        "worst concavity", "worst concave points", "worst symmetry", "worst fractal dimension",
    ];

    private static (float[] X, double[] Y) Split(List<double[]> rows, int features, string name)
    {
        var x = new float[rows.Count * features];
        var y = new double[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            if (r.Length != features + 1) throw new DataException($"Embedded {name} data is corrupt: row {i + 1} has {r.Length} values, expected {features + 1}.");
            for (int j = 0; j < features; j++) x[i * features + j] = (float)r[j];
            y[i] = r[features];
        }
        return (x, y);
    }

    /// <summary>Reads a gzipped resource of numbers separated by <paramref name="separator"/> (runs of it count as one).</summary>
    private static List<double[]> ReadRows(string resource, char separator, bool skipFirstLine = false)
    {
        var asm = typeof(Datasets).Assembly;
        var full = "Kindling.Data.Resources." + resource;
        using var stream = asm.GetManifestResourceStream(full)
            ?? throw new DataException($"The Kindling assembly is missing its embedded resource '{full}'; the build is incomplete.");
        using var gz = new GZipStream(stream, CompressionMode.Decompress);
        using var reader = new StreamReader(gz);
        var rows = new List<double[]>();
        if (skipFirstLine) reader.ReadLine();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            var parts = line.Split(separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            rows.Add(Array.ConvertAll(parts, p => double.Parse(p, NumberStyles.Float, CultureInfo.InvariantCulture)));
        }
        return rows;
    }
}
